"""Generate an Alembic project whose models define many tables (for the pending-changes
benchmark and tests).

The project: ``alembic.ini`` (``projectkit.templates``), Alembic's own generic ``env.py``
with ``target_metadata`` set to the models' ``MetaData``, and a package ``bigapp`` of
SQLAlchemy declarative models split over modules of 100 tables each. Every table has a
key, a few columns (one indexed, some unique), and most have a foreign key to an earlier
table. The one revision that creates them all is written by ``alembic revision
--autogenerate`` against an empty SQLite database, so models and migration agree by
construction; :func:`add_column` is the model edit the benchmark makes.

Usage::

    python -m projectkit.genmodels DEST --tables N [--url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

from projectkit.templates import ALEMBIC_GENERIC, alembic_ini, ini_escape

__all__ = ["REVISION", "add_column", "generate_model_project", "model_file", "table_name"]

PER_MODULE = 100
REVISION = "0001bigmodels"  # the id of the revision that creates every table
_EDIT_MARK = "    # (benchmark edit)\n"

_MODULE_HEAD = '''\
"""Tables {first} to {last} of the generated models."""

from __future__ import annotations

import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bigapp.base import Base
'''

_BASE = '''\
"""The declarative base of the generated models."""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
'''


def table_name(index: int) -> str:
    return f"t{index:05}"


def _model(index: int) -> str:
    """One model class: a key, four columns, an index, some with a foreign key to an
    earlier table, every fifth with a unique constraint on two columns."""
    name = table_name(index)
    lines = [
        f"\n\nclass T{index:05}(Base):",
        f"    __tablename__ = {name!r}",
    ]
    if index % 5 == 0:
        lines.append(f"    __table_args__ = (UniqueConstraint('code', 'name', "
                     f"name='uq_{name}_code_name'),)")
    lines += [
        "    id: Mapped[int] = mapped_column(Integer, primary_key=True)",
        "    name: Mapped[str] = mapped_column(String(80), index=True)",
        "    code: Mapped[str] = mapped_column(String(20))",
        "    note: Mapped[str | None] = mapped_column(Text)",
        "    created_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)",
    ]
    if index % 3 != 0 and index > 0:
        parent = table_name(index - 1 - index % 7 if index - 1 - index % 7 >= 0 else 0)
        lines.append(f"    parent_id: Mapped[int | None] = mapped_column("
                     f"ForeignKey('{parent}.id'), index=True)")
    lines.append(_EDIT_MARK.rstrip("\n"))
    return "\n".join(lines) + "\n"


def model_file(dest: Path, index: int) -> Path:
    """The module that defines table ``index``."""
    return Path(dest) / "bigapp" / f"models_{index // PER_MODULE:03}.py"


def _write_models(dest: Path, tables: int) -> None:
    package = dest / "bigapp"
    shutil.rmtree(package, ignore_errors=True)
    package.mkdir(parents=True)
    (package / "base.py").write_text(_BASE, encoding="utf-8")
    modules = []
    for start in range(0, tables, PER_MODULE):
        stop = min(start + PER_MODULE, tables)
        path = model_file(dest, start)
        text = _MODULE_HEAD.format(first=table_name(start), last=table_name(stop - 1))
        text += "".join(_model(i) for i in range(start, stop))
        path.write_text(text, encoding="utf-8")
        modules.append(path.stem)
    imports = "".join(f"from bigapp import {m}  # noqa: F401\n" for m in modules)
    (package / "__init__.py").write_text(
        '"""The generated models: importing the package registers every table."""\n\n'
        + imports + "from bigapp.base import Base\n\n__all__ = ['Base']\n", encoding="utf-8")


def _write_env(dest: Path) -> None:
    migrations = dest / "migrations"
    (migrations / "versions").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ALEMBIC_GENERIC / "script.py.mako", migrations / "script.py.mako")
    env = (ALEMBIC_GENERIC / "env.py").read_text(encoding="utf-8")
    stock = "target_metadata = None\n"
    assert stock in env, "Alembic's generic env.py changed"
    env = env.replace(stock, "from bigapp import Base\n\ntarget_metadata = Base.metadata\n")
    (migrations / "env.py").write_text(env, encoding="utf-8")


def _write_revision(dest: Path) -> None:
    """``alembic revision --autogenerate`` of every table, against an empty SQLite file."""
    from alembic import command
    from alembic.config import Config

    with tempfile.TemporaryDirectory(prefix="migtui-genmodels-") as tmp:
        config = Config(str(dest / "alembic.ini"))
        config.set_main_option("sqlalchemy.url", ini_escape(f"sqlite:///{Path(tmp) / 'e.db'}"))
        config.set_main_option("prepend_sys_path", ini_escape(str(dest)))
        try:
            command.revision(config, message="create every table", autogenerate=True,
                             rev_id=REVISION)
        finally:
            with contextlib.suppress(ValueError):
                sys.path.remove(str(dest))
            for name in [m for m in sys.modules if m == "bigapp" or m.startswith("bigapp.")]:
                del sys.modules[name]  # a later generation may write other models
        logging.disable(logging.NOTSET)


def generate_model_project(dest: Path, tables: int, url: str | None = None) -> Path:
    """Write a project of ``tables`` models and the revision that creates them under
    ``dest`` (the database is not touched: upgrade it with ``alembic upgrade head``).

    ``url`` defaults to an SQLite file ``bench.db`` next to ``alembic.ini``.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for stale in (dest / "migrations" / "versions").glob("*.py"):
        stale.unlink()
    ini_url = ini_escape(url) if url else "sqlite:///%(here)s/bench.db"
    (dest / "alembic.ini").write_text(alembic_ini(ini_url), encoding="utf-8")
    _write_models(dest, tables)
    _write_env(dest)
    _write_revision(dest)
    return dest


def add_column(dest: Path, index: int, column: str) -> None:
    """The model edit: a nullable string column ``column`` added to table ``index``."""
    path = model_file(dest, index)
    text = path.read_text(encoding="utf-8")
    marker = f"    __tablename__ = {table_name(index)!r}\n"
    start = text.index(marker)
    at = text.index(_EDIT_MARK, start)
    line = f"    {column}: Mapped[str | None] = mapped_column(String(30))\n"
    path.write_text(text[:at] + line + text[at:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path, help="directory to write the project into")
    parser.add_argument("--tables", type=int, required=True, help="number of tables")
    parser.add_argument("--url", default=None, help="sqlalchemy.url (default: SQLite file)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    generate_model_project(args.dest, args.tables, args.url)
    print(f"wrote {args.tables} models to {args.dest} in "
          f"{time.perf_counter() - started:.2f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
