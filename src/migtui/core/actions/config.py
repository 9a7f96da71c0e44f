"""Find and open an Alembic configuration the way the alembic command line does."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from migtui.core.errors import MigtuiError
from migtui.core.toml_files import TomlError, load_toml

if TYPE_CHECKING:  # alembic imports SQLAlchemy: only when the config is built
    from alembic.config import Config


@dataclass(frozen=True)
class ProjectOptions:
    """What the user asked for on the command line (alembic's own flags)."""

    config_files: tuple[str, ...] = ()  # -c, may name an .ini and a pyproject.toml
    name: str = "alembic"  # -n
    x_args: tuple[str, ...] = ()  # -x key=value
    url: str | None = None  # --url
    read_only: bool = False
    cwd: str = field(default_factory=os.getcwd)


def check_x_args(options: ProjectOptions) -> None:
    """MigtuiError for a ``-x`` argument that is not KEY=VALUE."""
    for x in options.x_args:
        if "=" not in x:
            raise MigtuiError(f"Bad -x argument {x!r}: expected KEY=VALUE")


class _CurrentStdout:
    """Writes to whatever sys.stdout is at the time, so capture can redirect it."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _pick_files(options: ProjectOptions) -> tuple[Path | None, Path | None, bool]:
    """(ini, toml, named_explicitly), mirroring alembic's CommandLine._inis_from_config."""
    cwd = Path(options.cwd)
    env = os.environ.get("ALEMBIC_CONFIG")
    ini_default, toml_default = "alembic.ini", "pyproject.toml"
    if env and os.path.basename(env) == "pyproject.toml":
        toml_default = env
    elif env:
        ini_default = env
    ini: str | None = None
    toml: str | None = None
    for name in options.config_files:
        if os.path.basename(name) == "pyproject.toml":
            if toml is not None:
                raise MigtuiError("pyproject.toml given more than once with -c")
            toml = name
        else:
            if ini is not None:
                raise MigtuiError("Only one .ini file may be given with -c")
            ini = name
    explicit = bool(options.config_files) or bool(env)
    return cwd / (ini or ini_default), cwd / (toml or toml_default), explicit


def config_files(options: ProjectOptions) -> tuple[Path, Path]:
    """The .ini and the pyproject.toml that open_config looks at for these options."""
    ini, toml, _explicit = _pick_files(options)
    assert ini is not None and toml is not None
    return ini, toml


def toml_has_alembic(path: Path) -> bool:
    """Whether the pyproject.toml at ``path`` has a [tool.alembic] table."""
    try:
        data = load_toml(path)
    except TomlError as exc:
        raise MigtuiError(f"Cannot read {path}: {exc}") from exc
    return data is not None and "alembic" in data.get("tool", {})


def open_config(options: ProjectOptions) -> Config:
    """Build an alembic Config from the options, or raise MigtuiError saying what is missing."""
    from alembic.config import Config

    ini, toml, explicit = _pick_files(options)
    assert ini is not None and toml is not None
    named_ini = any(os.path.basename(n) != "pyproject.toml" for n in options.config_files)
    if named_ini and not ini.is_file():
        raise MigtuiError(f"Config file not found: {ini}")
    if not os.access(ini, os.R_OK) and ini.exists():
        raise MigtuiError(f"Config file is not readable: {ini}")
    has_ini = ini.is_file()
    has_toml = toml_has_alembic(toml)
    if not has_ini and not has_toml:
        where = ini.parent if not explicit else ini
        raise MigtuiError(
            f"No Alembic project here: looked for {where if explicit else where / 'alembic.ini'}"
            f" and [tool.alembic] in {toml} (use -c FILE or run in the project folder)"
        )
    cmd_opts = argparse.Namespace(
        x=list(options.x_args), name=options.name, raiseerr=True, quiet=False, config=None
    )
    config = Config(
        file_=str(ini) if has_ini else None,
        toml_file=str(toml) if has_toml else None,
        ini_section=options.name,
        cmd_opts=cmd_opts,
        stdout=_CurrentStdout(),  # type: ignore[arg-type]
    )
    if has_ini:
        try:
            sections = config.file_config.sections()
        except Exception as exc:
            raise MigtuiError(f"Cannot parse {ini}: {exc}") from exc
        if options.name not in sections and not (has_toml and options.name == "alembic"):
            raise MigtuiError(f"No [{options.name}] section in {ini}")
    check_x_args(options)
    if options.url:
        config.set_main_option("sqlalchemy.url", options.url.replace("%", "%%"))
    location = config.get_alembic_option("script_location")
    if not location:
        raise MigtuiError(f"No script_location in the [{options.name}] section of {ini}")
    path = Path(str(location))
    if not path.is_absolute() and ":" not in str(location):
        path = Path(options.cwd) / path  # alembic resolves it against the working folder
    if ":" not in str(location) and not path.is_dir():
        raise MigtuiError(f"script_location does not exist: {path}")
    return config
