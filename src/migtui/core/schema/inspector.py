"""A read-only inspector of the database the project's env.py connects to.

The engine comes from env.py itself: one run with a callback (as ``alembic current``
does) hands over ``context.connection.engine``, with whatever URL, connect arguments
and events env.py gave it. Later reads connect through that engine (through an
``AsyncEngine`` around it when env.py is async) in a transaction that is read-only
(PostgreSQL ``SET TRANSACTION READ ONLY``, MySQL/MariaDB ``START TRANSACTION READ
ONLY``, SQLite ``PRAGMA query_only``) and always rolled back. On MySQL/MariaDB a schema
is a database: only the one env.py connects to is listed (with the version table's, if
that is another), with each table's engine and InnoDB's row estimates.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, TypeVar

from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection, Engine

from migtui.core.actions.project import Project
from migtui.core.env.capture import ENV_LOCK, EnvBusy
from migtui.core.env.looking import SqliteFileMissing, looking_only
from migtui.core.env.mysql import dialect_name, is_mysql
from migtui.core.env.runner import run_env
from migtui.core.env.urls import mask_url
from migtui.core.errors import MigtuiError, from_exception
from migtui.core.schema.model import (
    Cell,
    RowPage,
    RowRequest,
    SchemaInfo,
    TableInfo,
    TableRef,
    decode_text,
)
from migtui.core.schema.reflect import list_tables, read_tables, reflect_tables
from migtui.core.schema.rows import read_rows, read_value

T = TypeVar("T")

# -- reading -----------------------------------------------------------------


@dataclass
class _Target:
    engine: Engine
    url: str
    version_table: TableRef


class DatabaseInspector:
    """Reads tables, structure and rows of the project's database; never writes.

    Every method blocks: call it from a worker thread.
    """

    def __init__(self, project: Project) -> None:
        self.project = project
        self._target: _Target | None = None
        self._kept: Connection | None = None  # reused between reads (not SQLite, not async)
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Run env.py again on the next read (after a refresh or a config change)."""
        with ENV_LOCK, self._lock:
            self._target = None
            self._close_kept()

    def close(self) -> None:
        """Let go of the connection kept between reads, without waiting (the UI thread
        calls this): while a step or a read holds ENV_LOCK, a thread does it after."""
        if ENV_LOCK.try_acquire():
            try:
                self.forget()
            finally:
                ENV_LOCK.release()
        else:
            threading.Thread(target=self._close_once_free, daemon=True,
                             name="migtui-inspector-close").start()

    def _close_once_free(self) -> None:
        while True:
            with suppress(EnvBusy):
                self.forget()
                return

    def _close_kept(self) -> None:
        conn, self._kept = self._kept, None
        if conn is not None:
            with suppress(Exception):
                conn.close()

    def _engine(self) -> _Target | SqliteFileMissing:
        with ENV_LOCK, self._lock:  # the lock order of env/capture.py
            if self._target is None:
                found = _capture(self.project)
                if isinstance(found, SqliteFileMissing):
                    return found
                self._target = found
            return self._target

    def _run(self, work: Callable[[Connection], T]) -> T:
        target = self._engine()
        if isinstance(target, SqliteFileMissing):
            raise MigtuiError(f"{os.path.basename(target.path)} does not exist yet")
        try:
            with ENV_LOCK, looking_only():  # never read in the middle of a migration
                engine = target.engine
                if engine.dialect.is_async or engine.dialect.name == "sqlite":
                    return _run_read_only(engine, work)  # connecting costs next to nothing
                return self._on_kept_connection(engine, work)
        except SqliteFileMissing as exc:
            self.forget()
            raise MigtuiError(f"{os.path.basename(exc.path)} does not exist any more") from exc
        except MigtuiError:
            raise
        except Exception as exc:
            raise from_exception(exc, "Cannot read the database") from exc

    def _on_kept_connection(self, engine: Engine, work: Callable[[Connection], T]) -> T:
        """Reuse one connection between reads: a server connection per page costs more
        than the page. Between reads it is idle, outside any transaction, holding no lock."""
        if self._kept is None or self._kept.closed or self._kept.invalidated:
            self._kept = engine.connect()
        try:
            return _read_only(self._kept, work)
        except Exception:
            self._close_kept()  # a broken connection is not kept; the next read reconnects
            raise

    def read_schema(self, structure: bool = True) -> SchemaInfo:
        """Every table and view with structure and row counts (env.py is run again).

        ``structure=False``: by name and kind alone (``TableInfo.reflected`` False), one
        catalog query per schema however many tables there are; ``read_structure``
        reads the rest, a few tables at a time."""
        self.forget()
        target = self._engine()
        if isinstance(target, SqliteFileMissing):
            return SchemaInfo(
                url=target.url, dialect="sqlite",
                missing=f"{os.path.basename(target.path)} does not exist yet: "
                        "the first upgrade creates it",
            )
        version = target.version_table
        read = read_tables if structure else list_tables

        def work(conn: Connection) -> SchemaInfo:
            return SchemaInfo(target.url, dialect_name(conn.dialect), read(conn, version),
                              version)

        return self._run(work)

    def read_structure(self, tables: Sequence[TableInfo]) -> tuple[TableInfo, ...]:
        """The structure and row counts of these tables (listed by ``read_schema``), in
        their order (one dropped since by another session says why it cannot be read)."""
        target = self._engine()
        if isinstance(target, SqliteFileMissing):
            raise MigtuiError(f"{os.path.basename(target.path)} does not exist any more")
        version = target.version_table
        return self._run(lambda conn: reflect_tables(conn, tables, version))

    def read_rows(self, request: RowRequest) -> RowPage:
        """One page of rows."""
        return self._run(lambda conn: read_rows(conn, request))

    def read_value(self, table: TableInfo, column: str, key: tuple[Any, ...]) -> Cell:
        """The whole value of one cell of a table with a primary key."""
        ref = table.ref
        return self._run(lambda conn: read_value(
            conn, ref.schema, ref.name, column, table.key_columns, key))


def _capture(project: Project) -> _Target | SqliteFileMissing:
    """Run env.py once with a callback that keeps its engine."""
    found: dict[str, Any] = {}

    def grab(rev: Any, context: MigrationContext) -> list[Any]:
        conn = context.connection
        if conn is not None and "engine" not in found:
            found["engine"] = conn.engine
            found["url"] = mask_url(conn.engine.url)
            found["version"] = TableRef(context.version_table, context.version_table_schema)
        return []

    script = project.script()
    try:
        run_env(project.config, script, grab, dont_mutate=True)
    except SqliteFileMissing as exc:
        return exc
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # env.py may raise anything, even SystemExit
        raise from_exception(exc, "Cannot read the database") from exc
    if "engine" not in found:
        raise MigtuiError("env.py did not connect to a database (is it in offline mode?)")
    return _Target(found["engine"], found["url"], found["version"])


def _run_read_only(engine: Engine, work: Callable[[Connection], T]) -> T:
    if not engine.dialect.is_async:
        with engine.connect() as conn:
            return _read_only(conn, work)
    from sqlalchemy.ext.asyncio import AsyncEngine

    async def run() -> T:
        async_engine = AsyncEngine(engine)
        try:
            async with async_engine.connect() as conn:
                return await conn.run_sync(lambda c: _read_only(c, work))
        finally:
            await async_engine.dispose()  # its connections belong to this event loop

    return asyncio.run(run())


def _read_only(conn: Connection, work: Callable[[Connection], T]) -> T:
    """Run work in a read-only transaction that is rolled back, whatever happens."""
    name = conn.dialect.name
    dbapi: Any = None
    try:
        if name == "sqlite":
            conn.exec_driver_sql("PRAGMA query_only = ON")
            dbapi = _sqlite_text_as_data(conn)
        elif name == "postgresql":
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        elif is_mysql(name):  # MySQL has no BEGIN of its own: this one starts it read-only
            conn.exec_driver_sql("START TRANSACTION READ ONLY")
        return work(conn)
    finally:
        conn.rollback()
        if name == "sqlite":  # a pooled connection must not stay read-only for migrations
            conn.exec_driver_sql("PRAGMA query_only = OFF")
            conn.rollback()
            if dbapi is not None:
                dbapi.text_factory = str


def _sqlite_text_as_data(conn: Connection) -> Any:
    """Let invalid UTF-8 in TEXT values through (pysqlite would fail the whole page)."""
    try:
        dbapi = conn.connection.dbapi_connection
        if dbapi is not None and getattr(dbapi, "text_factory", None) is str:
            dbapi.text_factory = decode_text
            return dbapi
    except Exception:
        pass
    return None
