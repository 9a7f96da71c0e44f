"""Reflect every table and view of a connection into TableInfo, one odd object at a time.

Catalog reads go per schema (``get_multi_*``); a table another session locked is listed
with its holder (its catalog functions would wait for the lock), and an object that
cannot be read (a view over a dropped table) is marked with why, the others still read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.engine.reflection import ObjectKind

from migtui.core.env.mysql import CatalogTable, catalog_tables, is_mysql
from migtui.core.env.urls import scrub_secrets
from migtui.core.errors import one_line
from migtui.core.schema.model import (
    ColumnInfo,
    ConstraintInfo,
    ForeignKeyInfo,
    IndexInfo,
    RowCount,
    TableInfo,
    TableRef,
)
from migtui.core.schema.postgres import pg_locked, pg_stats
from migtui.core.schema.rows import COUNT_LIMIT, count_rows

T = TypeVar("T")

_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast", "sys", "performance_schema",
                   "mysql", "temp"}


def _safe(call: Callable[[], dict[Any, T]]) -> dict[Any, T]:
    try:
        return call()
    except NotImplementedError:
        return {}


def read_tables(conn: Connection, version: TableRef) -> tuple[TableInfo, ...]:
    """Every table and view with its structure and row count."""
    return reflect_tables(conn, list_tables(conn, version), version)


def list_tables(conn: Connection, version: TableRef) -> tuple[TableInfo, ...]:
    """Every table and view by name and kind alone (``reflected=False``): one catalog
    query per schema and kind, whatever the number of tables, the default schema first."""
    insp = sa.inspect(conn)
    default = insp.default_schema_name
    if is_mysql(conn.dialect.name):  # the other databases of the server belong to other projects
        schemas = [version.schema] if version.schema and version.schema != default else []
    else:
        schemas = [s for s in insp.get_schema_names()
                   if s not in _SYSTEM_SCHEMAS and not s.startswith(("pg_", "temp"))
                   and s != default]
    tables: list[TableInfo] = []
    for schema in [None, *sorted(schemas)]:
        names = {n: "table" for n in insp.get_table_names(schema=schema)}
        names.update({n: "view" for n in insp.get_view_names(schema=schema)})
        if conn.dialect.name == "postgresql":
            names.update({n: "materialized view"
                          for n in insp.get_materialized_view_names(schema=schema)})
        tables += [TableInfo(TableRef(n, schema), names[n], reflected=False)
                   for n in sorted(names, key=lambda n: (n.lower(), n))]
    return tuple(tables)


def reflect_tables(conn: Connection, tables: Sequence[TableInfo], version: TableRef
                   ) -> tuple[TableInfo, ...]:
    """The structure and row count of these tables and views (as ``list_tables`` named
    them), in their order: the catalog is read per schema for them alone."""
    insp = sa.inspect(conn)
    default = insp.default_schema_name
    mysql = is_mysql(conn.dialect.name)
    postgres = conn.dialect.name == "postgresql"
    locked = (_guarded(conn, partial(pg_locked, conn)) or {}) if postgres else {}
    stats = (_guarded(conn, partial(pg_stats, conn)) or {}) if postgres else {}
    catalog = (_guarded(conn, partial(catalog_tables, conn)) or {}) if mysql else {}
    stats.update({(default, t.name): float(t.rows) for t in catalog.values()})
    if version.schema == default:
        version = TableRef(version.name)
    by_schema: dict[str | None, dict[str, str]] = {}
    for table in tables:
        by_schema.setdefault(table.ref.schema, {})[table.ref.name] = table.kind
    read: dict[TableRef, TableInfo] = {}
    for schema, names in by_schema.items():
        read.update((t.ref, t) for t in _read_schema(conn, insp, schema, default, names,
                                                      stats, version, locked))
    found = [read[t.ref] for t in tables if t.ref in read]
    if catalog:
        found = [_with_catalog(t, catalog) if t.ref.schema is None else t for t in found]
    return tuple(found)


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
