"""The environments of a project: ``[tool.migtui.environments.NAME]`` entries.

They live in ``pyproject.toml`` or in ``migtui.toml`` (as ``[tool.migtui.environments]``
or plain ``[environments]``) beside the Alembic config. Each entry names one database
by ``url``, ``url_env`` (an environment variable holding the URL) and/or ``x`` (``-x``
arguments for env.py), may be ``protected``, and may stand for one schema per tenant
(``schemas`` + ``x_each = "tenant={schema}"``): each tenant is then an environment of
its own, ``NAME:SCHEMA``, run through env.py with its own ``-x``.

A bad entry is reported (file and key) and left out; the others still work.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from migtui.core.actions.config import ProjectOptions
from migtui.core.env.urls import mask_url, mask_x_argument, remember_secret
from migtui.core.toml_files import TomlError, load_toml

KEYS = ("url", "url_env", "x", "protected", "schemas", "x_each")
_NAME = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Environment:
    """One database of the project (one tenant schema is one environment)."""

    name: str  # "staging", or "tenants:acme" for a tenant
    source: str  # the file it was configured in
    url: str | None = None  # secret: shown only through ``display_url``
    x_args: tuple[str, ...] = ()
    protected: bool = False
    group: str = ""  # "tenants" for "tenants:acme"
    schema: str = ""  # "acme"
    # Why it cannot be used (an unset url_env variable), with file and key; "" if it can.
    problem: str = ""

    @property
    def display_url(self) -> str:
        """The configured URL with its password masked ("" when env.py picks it)."""
        return mask_url(self.url) if self.url else ""

    @property
    def display_x(self) -> str:
        return " ".join(f"-x {mask_x_argument(x)}" for x in self.x_args)

    def options(self, base: ProjectOptions) -> ProjectOptions:
        """The project's options with this environment's URL and -x arguments."""
        return replace(base, url=self.url or base.url, x_args=(*base.x_args, *self.x_args))


@dataclass(frozen=True)
class EnvironmentsConfig:
    """Every environment configured (none: the project's own database is the one)."""

    environments: tuple[Environment, ...] = ()
    problems: tuple[str, ...] = ()  # "pyproject.toml: tool.migtui.environments.x.url: …"
    files: tuple[str, ...] = ()

    def find(self, name: str) -> Environment | None:
        return next((e for e in self.environments if e.name == name), None)

    def groups(self) -> dict[str, tuple[Environment, ...]]:
        """Tenant environments by their group name."""
        out: dict[str, list[Environment]] = {}
        for env in self.environments:
            if env.group:
                out.setdefault(env.group, []).append(env)
        return {name: tuple(envs) for name, envs in out.items()}

    def select(self, name: str) -> Environment:
        """The environment ``--env NAME`` names; ValueError saying why there is none."""
        found = self.find(name)
        if found is not None:
            if found.problem:
                raise ValueError(found.problem)
            return found
        tenants = self.groups().get(name)
        if tenants:
            raise ValueError(f"{name} stands for {len(tenants)} tenants: name one, "
                             f"e.g. --env {tenants[0].name}")
        known = ", ".join(e.name for e in self.environments if not e.group)
        known += "".join(f", {g}:…" for g in self.groups())
        where = " or ".join(self.files) or "pyproject.toml or migtui.toml"
        bad = [p for p in self.problems if f".{name}" in p]
        if bad:
            raise ValueError(bad[0])
        raise ValueError(f"No environment {name!r} in {where}"
                         + (f" (known: {known.strip(', ')})" if known else ""))


def config_folder(config_file: str, cwd: str) -> Path:
    """Where pyproject.toml / migtui.toml are looked for: beside the Alembic config."""
    return Path(config_file).resolve().parent if config_file else Path(cwd)


def load_environments(folder: Path) -> EnvironmentsConfig:
    """Read the environments configured beside the Alembic config; never raises."""
    environments: list[Environment] = []
    problems: list[str] = []
    files: list[str] = []
    seen: dict[str, str] = {}
    for file_name, prefixes in (("pyproject.toml", (("tool", "migtui", "environments"),)),
                                ("migtui.toml", (("tool", "migtui", "environments"),
                                                 ("environments",)))):
        path = folder / file_name
        try:
            data = load_toml(path)
        except TomlError as exc:
            problems.append(f"{file_name}: cannot be read: {exc}")
            continue
        if data is None:
            continue
        for prefix in prefixes:
            table = _dig(data, prefix)
            if table is None:
                continue
            key = ".".join(prefix)
            if file_name not in files:
                files.append(file_name)
            if not isinstance(table, Mapping):
                problems.append(f"{file_name}: {key}: expected a table of environments")
                continue
            for name, entry in table.items():
                where = f"{file_name}: {key}.{name}"
                if name in seen:
                    problems.append(f"{where}: {name} is already configured in {seen[name]}")
                    continue
                try:
                    made = _entry(str(name), entry, where, file_name)
                except ValueError as exc:
                    problems.append(str(exc))
                    continue
                seen[str(name)] = file_name
                environments.extend(made)
    return EnvironmentsConfig(tuple(environments), tuple(problems), tuple(files))


def _dig(data: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    current: Any = data
    for key in keys:
        if not isinstance(current, Mapping) or key not in current:
            return None
        current = current[key]
    return current


def _entry(name: str, entry: Any, where: str, file_name: str) -> list[Environment]:
    """The environment(s) of one entry; ValueError("FILE: KEY: why") when it is bad."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"{where}: a name may hold letters, digits, '_', '-' and '.' only")
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: expected a table (url, url_env, x, protected, ...)")
    for key in entry:
        if key not in KEYS:
            raise ValueError(f"{where}.{key}: unknown key (known: {', '.join(KEYS)})")
    url = _typed(entry, "url", str, where)
    url_env = _typed(entry, "url_env", str, where)
    protected = _typed(entry, "protected", bool, where) or False
    x_each = _typed(entry, "x_each", str, where)
    x_args = tuple(_strings(entry, "x", where))
    schemas = tuple(_strings(entry, "schemas", where))
    if url is not None and url_env is not None:
        raise ValueError(f"{where}: give url or url_env, not both")
    for index, x in enumerate(x_args):
        if "=" not in x:
            raise ValueError(f"{where}.x[{index}]: expected KEY=VALUE, got {mask_x_argument(x)!r}")
    if ("schemas" in entry) != (x_each is not None):
        missing = "x_each" if "schemas" in entry else "schemas"
        raise ValueError(f"{where}.{missing}: schemas and x_each go together")
    if x_each is not None and ("{schema}" not in x_each or "=" not in x_each):
        raise ValueError(f"{where}.x_each: expected KEY=...{{schema}}..., got {x_each!r}")
    if "schemas" in entry and not schemas:
        raise ValueError(f"{where}.schemas: the list is empty")
    problem = ""
    if url_env is not None:
        url = os.environ.get(url_env) or None
        if url is None:
            problem = f"{where}.url_env: the environment variable {url_env} is not set"
    if url:
        remember_secret(url)
    for x in x_args:
        mask_x_argument(x)  # remembers a secret value, to scrub it from errors
    base = Environment(name, file_name, url, x_args, protected, problem=problem)
    if x_each is None:
        return [base]
    if len(set(schemas)) != len(schemas):
        raise ValueError(f"{where}.schemas: a schema is listed twice")
    return [replace(base, name=f"{name}:{schema}", group=name, schema=schema,
                    x_args=(*x_args, x_each.replace("{schema}", schema)))
            for schema in schemas]


def _typed(entry: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = entry.get(key)
    if value is not None and not isinstance(value, kind):
        raise ValueError(f"{where}.{key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _strings(entry: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}.{key}: expected a list of strings")
    return list(value)
