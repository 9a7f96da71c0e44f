"""While migtui only looks at a database: no file created, no wait without an end.

* A SQLite URL naming a file that does not exist makes SQLite create an empty database
  on connect. migtui reads the status of a fresh clone before anything was upgraded:
  that read must leave no file behind (the first upgrade creates it, as on the CLI).
* Every connection made while looking (status, schema, counts, risk probes, rehearsal
  setup) gets a lock timeout and a statement timeout, so a lock held elsewhere gives an
  error in seconds instead of a hang. They are set as connect parameters (libpq
  ``options``, asyncpg ``server_settings``, SQLite's busy ``timeout``, MySQL's
  ``init_command``), so no transaction of env.py's is touched. A pooled connection made
  while looking is never handed to a migration: the pool replaces it.

"Looking" is one flag for the whole process, not per thread: it is set only under
ENV_LOCK (by run_env and the inspector), and a thread that env.py starts must see it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.pool import Pool

from migtui.core.env.timeouts import CONNECT_TIMEOUT_S as CONNECT_TIMEOUT_S
from migtui.core.env.timeouts import LOCK_TIMEOUT_S as LOCK_TIMEOUT_S
from migtui.core.env.timeouts import STATEMENT_TIMEOUT_S as STATEMENT_TIMEOUT_S

_MARK = "migtui_looking"


class _Looking:
    active = False
    created: list[str] | None = None  # while noted: SQLite files a write's connects create


_looking = _Looking()


class SqliteFileMissing(Exception):
    """Raised instead of letting SQLite create a database file while we only look."""

    def __init__(self, path: str, drivername: str = "sqlite") -> None:
        super().__init__(f"SQLite database file does not exist: {path}")
        self.path = path
        self.drivername = drivername  # as env.py's URL names it: sqlite, sqlite+aiosqlite

    @property
    def url(self) -> str:
        return f"{self.drivername}:///{self.path}"


class SqliteFolderMissing(Exception):
    """The folder of a SQLite database file does not exist: nothing can create it."""

    def __init__(self, folder: str) -> None:
        super().__init__(f"the folder of the SQLite database does not exist: {folder}")


@event.listens_for(Engine, "do_connect")
def _while_looking(
    dialect: Dialect, conn_rec: Any, cargs: list[Any], cparams: dict[str, Any]
) -> None:
    """While only looking: no SQLite file is created, and every wait has an end."""
    if not _looking.active:
        if _looking.created is not None and dialect.name == "sqlite":
            path = _file_of(cargs, cparams)
            if path and not os.path.exists(path):
                _looking.created.append(os.path.abspath(path))
        return
    conn_rec.info[_MARK] = True
    if dialect.name != "sqlite":
        add_timeouts(dialect, cparams)
        return
    cparams["timeout"] = min(float(cparams.get("timeout", LOCK_TIMEOUT_S)), LOCK_TIMEOUT_S)
    database = _file_of(cargs, cparams)
    if database and not os.path.exists(database):
        folder = os.path.dirname(os.path.abspath(database))
        if not os.path.isdir(folder):
            raise SqliteFolderMissing(folder)
        driver = "" if dialect.driver == "pysqlite" else f"+{dialect.driver}"
        raise SqliteFileMissing(os.path.abspath(database), f"sqlite{driver}")


def _file_of(cargs: list[Any], cparams: dict[str, Any]) -> str:
    """The file a SQLite connect opens ("" for memory and URI databases)."""
    database = str(cparams.get("database", cargs[0] if cargs else "") or "")
    if database == ":memory:" or database.startswith("file:") or cparams.get("uri"):
        return ""
    return database


@contextmanager
def noting_created_files() -> Iterator[list[str]]:
    """The SQLite files that connections made within this block create (the caller
    holds ENV_LOCK, or runs env.py, which takes it)."""
    before, _looking.created = _looking.created, []
    try:
        yield _looking.created
    finally:
        _looking.created = before


def remove_if_unused(path: str) -> bool:
    """Delete a SQLite file a refused write created: only if all it holds is Alembic's
    empty version table (what connecting and Alembic's first look leave)."""
    import sqlite3

    try:
        uri = f"{Path(path).as_uri()}?mode=rw"  # (a "?" in the name stays in the name)
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            names = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")}
            if names - {"alembic_version"}:
                return False
            if names and conn.execute("SELECT count(*) FROM alembic_version").fetchone()[0]:
                return False
        if _open_here(path):
            return False  # a pooled connection of env.py's would write to a deleted file
        for leftover in (path, f"{path}-journal", f"{path}-wal", f"{path}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(leftover)
    except (OSError, sqlite3.Error):
        return False
    return True


def _open_here(path: str) -> bool:
    """Whether a file descriptor of this process is open on ``path`` (True where that
    cannot be told: there is no /proc/self/fd)."""
    fds = Path("/proc/self/fd")
    try:
        wanted = os.stat(path)
        names = os.listdir(fds)
    except OSError:
        return True
    for name in names:
        try:
            found = os.stat(fds / name)
        except OSError:
            continue  # closed meanwhile (or the listing's own descriptor)
        if (found.st_dev, found.st_ino) == (wanted.st_dev, wanted.st_ino):
            return True
    return False


def add_timeouts(dialect: Dialect, cparams: dict[str, Any]) -> None:
    """The looking-only connect, lock and statement timeouts, as connect parameters
    (once: a second call on the same parameters adds nothing)."""
    lock_ms, statement_ms = LOCK_TIMEOUT_S * 1000, STATEMENT_TIMEOUT_S * 1000
    if dialect.name == "postgresql":
        if dialect.driver == "asyncpg":
            settings = dict(cparams.get("server_settings") or {})
            settings.update(lock_timeout=str(lock_ms), statement_timeout=str(statement_ms))
            cparams["server_settings"] = settings
            cparams.setdefault("timeout", CONNECT_TIMEOUT_S)
        elif dialect.driver in ("psycopg", "psycopg2", "psycopg_async"):
            options = f"-c lock_timeout={lock_ms} -c statement_timeout={statement_ms}"
            if options not in cparams.get("options", ""):
                cparams["options"] = f"{cparams.get('options', '')} {options}".strip()
            cparams.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    elif dialect.name in ("mysql", "mariadb"):
        if dialect.driver in ("pymysql", "mysqldb", "mariadbconnector"):
            cparams.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
        command = (f"SET SESSION innodb_lock_wait_timeout = {LOCK_TIMEOUT_S}, "
                   f"lock_wait_timeout = {LOCK_TIMEOUT_S}")
        before = cparams.get("init_command")
        if not before or command not in before:
            cparams["init_command"] = f"{before}; {command}" if before else command


@event.listens_for(Pool, "checkout")
def _not_for_writing(dbapi_connection: Any, conn_rec: Any, proxy: Any) -> None:
    """A pooled connection made while looking has short timeouts: a migration gets a new
    one (raising DisconnectionError makes the pool discard it and connect again)."""
    if not _looking.active and conn_rec.info.get(_MARK):
        raise exc.DisconnectionError("made while only looking: connect again")


def is_looking() -> bool:
    """Whether connections made now get the looking-only guards."""
    return _looking.active


@contextmanager
def looking_only(active: bool = True) -> Iterator[None]:
    """Within this block (the caller holds ENV_LOCK), connections made are only for looking."""
    before = _looking.active
    _looking.active = active
    try:
        yield
    finally:
        _looking.active = before
