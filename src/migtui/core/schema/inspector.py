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
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.reflection import ObjectKind

from migtui.core.actions.project import Project
from migtui.core.env.capture import ENV_LOCK
from migtui.core.env.looking import SqliteFileMissing, looking_only
from migtui.core.env.mysql import CatalogTable, catalog_tables, dialect_name, is_mysql
from migtui.core.env.runner import run_env
from migtui.core.env.urls import mask_url, scrub_secrets
from migtui.core.errors import MigtuiError, from_exception, one_line
from migtui.core.schema.model import (
    Cell,
    ColumnInfo,
    ConstraintInfo,
    ForeignKeyInfo,
    IndexInfo,
    RowCount,
    RowPage,
    RowRequest,
    SchemaInfo,
    TableInfo,
    TableRef,
    decode_text,
)
from migtui.core.schema.postgres import pg_locked, pg_stats
from migtui.core.schema.rows import COUNT_LIMIT, count_rows, read_rows, read_value

T = TypeVar("T")

_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast", "sys", "performance_schema",
                   "mysql", "temp"}


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
        """Let go of the connection kept between reads."""
        self.forget()

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

    def read_schema(self) -> SchemaInfo:
        """Every table and view with structure and row counts (env.py is run again)."""
        self.forget()
        target = self._engine()
        if isinstance(target, SqliteFileMissing):
            return SchemaInfo(
                url=target.url, dialect="sqlite",
                missing=f"{os.path.basename(target.path)} does not exist yet: "
                        "the first upgrade creates it",
            )
        version = target.version_table

        def work(conn: Connection) -> SchemaInfo:
            return SchemaInfo(target.url, dialect_name(conn.dialect), _read_tables(conn, version),
                              version)

        return self._run(work)

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


def _safe(call: Callable[[], dict[Any, T]]) -> dict[Any, T]:
    try:
        return call()
    except NotImplementedError:
        return {}


def _read_tables(conn: Connection, version: TableRef) -> tuple[TableInfo, ...]:
    insp = sa.inspect(conn)
    default = insp.default_schema_name
    mysql = is_mysql(conn.dialect.name)
    if mysql:  # the other databases of the server belong to other projects
        schemas = [version.schema] if version.schema and version.schema != default else []
    else:
        schemas = [s for s in insp.get_schema_names()
                   if s not in _SYSTEM_SCHEMAS and not s.startswith(("pg_", "temp"))
                   and s != default]
    postgres = conn.dialect.name == "postgresql"
    locked = (_guarded(conn, partial(pg_locked, conn)) or {}) if postgres else {}
    stats = (_guarded(conn, partial(pg_stats, conn)) or {}) if postgres else {}
    catalog = (_guarded(conn, partial(catalog_tables, conn)) or {}) if mysql else {}
    stats.update({(default, t.name): float(t.rows) for t in catalog.values()})
    if version.schema == default:
        version = TableRef(version.name)
    tables: list[TableInfo] = []
    for schema in [None, *sorted(schemas)]:
        names = {n: "table" for n in insp.get_table_names(schema=schema)}
        names.update({n: "view" for n in insp.get_view_names(schema=schema)})
        if conn.dialect.name == "postgresql":
            names.update({n: "materialized view"
                          for n in insp.get_materialized_view_names(schema=schema)})
        if not names:
            continue
        tables.extend(_read_schema(conn, insp, schema, default, names, stats, version,
                                   locked))
    if catalog:
        tables = [_with_catalog(t, catalog) if t.ref.schema is None else t for t in tables]
    return tuple(tables)


def _with_catalog(table: TableInfo, catalog: Mapping[str, CatalogTable]) -> TableInfo:
    """The engine, and InnoDB's estimate where counting stopped at the limit."""
    entry = catalog.get(table.ref.name)
    if entry is None:
        return table
    rows = table.rows
    if rows is not None and rows.at_least and entry.rows > COUNT_LIMIT:
        rows = RowCount(entry.rows, estimate=True)
    return replace(table, engine=entry.engine, rows=rows)


def _read_schema(
    conn: Connection, insp: sa.Inspector, schema: str | None, default: str | None,
    names: dict[str, str], stats: Mapping[tuple[str | None, str], float], version: TableRef,
    locked: Mapping[tuple[str | None, str], str],
) -> Iterable[TableInfo]:
    kind = ObjectKind.ANY
    # Reflecting a table another session locked waits for it (PostgreSQL's catalog
    # functions take the table's lock): those are listed with their holder only.
    readable = [n for n in names if (schema or default, n) not in locked]
    if not readable:
        readable = [""]  # filter_names=[] would mean "all"
    multi: dict[str, Any] = {"schema": schema, "kind": kind, "filter_names": readable}
    broken: dict[str, str] = {}
    try:
        columns = _guarded_or_raise(conn, lambda: insp.get_multi_columns(**multi))
    except Exception:
        # One odd object (a view over a dropped table, a function that is gone) must not
        # blank the others: read them one by one and mark the ones that fail.
        columns, broken = _columns_one_by_one(conn, insp, schema, readable, names)
        multi["filter_names"] = [n for n in readable if n not in broken] or [""]
    pks = _safe(lambda: insp.get_multi_pk_constraint(**multi))
    indexes = _safe(lambda: insp.get_multi_indexes(**multi))
    uniques = _safe(lambda: insp.get_multi_unique_constraints(**multi))
    checks = _safe(lambda: insp.get_multi_check_constraints(**multi))
    fks = _safe(lambda: insp.get_multi_foreign_keys(**multi))
    comments = _safe(lambda: insp.get_multi_table_comment(**multi))
    for name in sorted(names, key=lambda n: (n.lower(), n)):
        key = (schema, name)
        ref = TableRef(name, schema)
        pk: Mapping[str, Any] = pks.get(key) or {}
        pk_columns = tuple(pk.get("constrained_columns") or ())
        constraints: list[ConstraintInfo] = []
        if pk_columns:
            constraints.append(ConstraintInfo("primary key", pk.get("name") or "", pk_columns))
        constraints += [ConstraintInfo("unique", u.get("name") or "", tuple(u["column_names"]))
                        for u in uniques.get(key, [])]
        constraints += [ConstraintInfo("check", c.get("name") or "", (), str(c["sqltext"]))
                        for c in checks.get(key, [])]
        table = TableInfo(
            ref=ref,
            kind=names[name],
            columns=tuple(_column(conn, c, pk_columns) for c in columns.get(key, [])),
            indexes=tuple(IndexInfo(i.get("name") or "", tuple(str(c) for c in
                                    i.get("column_names") or () if c is not None)
                                    or tuple(str(e) for e in i.get("expressions") or ()),
                                    bool(i.get("unique")))
                          for i in indexes.get(key, [])),
            constraints=tuple(constraints),
            foreign_keys=tuple(_foreign_key(f, schema, default) for f in fks.get(key, [])),
            comment=(comments.get(key) or {"text": None}).get("text"),
        )
        rows = None
        problem = locked.get((schema or default, name), "") or broken.get(name, "")
        if names[name] != "view" and not problem:
            rows = _guarded(conn, partial(count_rows, conn, schema, name,
                                          stats.get((schema or default, name))))
        revisions = None
        if ref == version:
            revisions = _guarded(conn, partial(_revisions, conn, ref)) or ()
        yield replace(table, rows=rows, revisions=revisions, problem=problem)


def _columns_one_by_one(
    conn: Connection, insp: sa.Inspector, schema: str | None, readable: list[str],
    names: dict[str, str],
) -> tuple[dict[Any, Any], dict[str, str]]:
    columns: dict[Any, Any] = {}
    broken: dict[str, str] = {}
    for name in readable:
        try:
            columns.update(_guarded_or_raise(conn, partial(
                insp.get_multi_columns, schema=schema, kind=ObjectKind.ANY,
                filter_names=[name])))
        except Exception as exc:
            reason = scrub_secrets(one_line(str(getattr(exc, "orig", None) or exc)))
            broken[name] = f"{names.get(name, 'table')} {name}: {reason}"
        insp.clear_cache()
    return columns, broken


def _guarded_or_raise(conn: Connection, call: Callable[[], T]) -> T:
    """Run one read in a savepoint on PostgreSQL (so that a failure spoils nothing else)."""
    savepoint: AbstractContextManager[Any] = (
        conn.begin_nested() if conn.dialect.name == "postgresql" else nullcontext())
    with savepoint:
        return call()


def _guarded(conn: Connection, call: Callable[[], T]) -> T | None:
    """Run one query that may fail (no privilege, odd table) without spoiling the rest."""
    savepoint: AbstractContextManager[Any] = (
        conn.begin_nested() if conn.dialect.name == "postgresql" else nullcontext())
    try:
        with savepoint:
            return call()
    except Exception:
        return None


def _column(conn: Connection, column: Mapping[str, Any], pk: tuple[str, ...]) -> ColumnInfo:
    try:
        type_text = column["type"].compile(dialect=conn.dialect)
    except Exception:
        type_text = type(column["type"]).__name__
    default = column.get("default")
    computed = column.get("computed")
    if computed:
        default = f"GENERATED AS ({computed.get('sqltext')})"
    elif column.get("identity"):
        default = "IDENTITY"
    return ColumnInfo(
        name=column["name"],
        type=str(type_text),
        nullable=bool(column.get("nullable", True)),
        default=None if default is None else str(default),
        primary_key=column["name"] in pk,
        comment=column.get("comment"),
    )


def _foreign_key(fk: Mapping[str, Any], schema: str | None, default: str | None
                 ) -> ForeignKeyInfo:
    target_schema = fk.get("referred_schema")
    if target_schema == default:
        target_schema = None
    options = fk.get("options") or {}
    return ForeignKeyInfo(
        name=fk.get("name") or "",
        columns=tuple(fk["constrained_columns"]),
        target=TableRef(fk["referred_table"], target_schema),
        target_columns=tuple(fk["referred_columns"]),
        on_delete=str(options.get("ondelete") or ""),
        on_update=str(options.get("onupdate") or ""),
    )


def _revisions(conn: Connection, ref: TableRef) -> tuple[str, ...]:
    t = sa.table(ref.name, sa.column("version_num"), schema=ref.schema)
    return tuple(str(v) for v in conn.execute(sa.select(t.c.version_num)).scalars())
