"""The live schema in two catalog queries, to compare it before and after a failed step.

Where DDL is not rolled back (MySQL, MariaDB; SQLite as Alembic runs it), a step that
fails halfway leaves part of itself in the database. What exactly is told by comparing
the schema read just before the step with the schema read after the failure: tables,
columns and indexes added, dropped or changed. On PostgreSQL, where the step's DDL rolls
back with its transaction, the same comparison is the evidence that it did (the default
schema: ``current_schema()``). Two queries each time (the tables with
their columns, the indexes), three when only the tables a step touches are read in
full (core/revisions/touched.py), the others by name.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from migtui.core.env.mysql import dialect_name, is_mysql


@dataclass(frozen=True)
class TableShape:
    """One table: its columns ("name TYPE NOT NULL") and indexes ("name (a, b)")."""

    name: str
    # (column, "INTEGER NOT NULL") and (index, "(a, b) unique"); None: not read (the
    # table is known by name only)
    columns: tuple[tuple[str, str], ...] | None
    indexes: tuple[tuple[str, str], ...] | None


@dataclass(frozen=True)
class Catalog:
    """The tables of the connection's database (its default schema), by name."""

    tables: tuple[TableShape, ...]

    def get(self, name: str) -> TableShape | None:
        """The table with this name, or None."""
        return next((t for t in self.tables if t.name == name), None)


def catalogued(dialect: str) -> bool:
    """Whether the catalog is read on this dialect (where DDL is not rolled back)."""
    return dialect in ("sqlite", "postgresql") or is_mysql(dialect)


_SQLITE_NAMES = ("SELECT name FROM sqlite_master"
                 " WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
_SQLITE_COLUMNS = (
    "SELECT m.name, p.name, p.type, p.\"notnull\" FROM sqlite_master AS m"
    " JOIN pragma_table_info(m.name) AS p"
    " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'{only}"
    " ORDER BY m.name, p.cid")
_SQLITE_INDEXES = (
    "SELECT m.tbl_name, m.name, l.\"unique\", group_concat(i.name, ', ')"
    " FROM sqlite_master AS m JOIN pragma_index_list(m.tbl_name) AS l ON l.name = m.name"
    " JOIN pragma_index_info(m.name) AS i"
    " WHERE m.type = 'index'{only} GROUP BY m.tbl_name, m.name, l.\"unique\"")
_MYSQL_NAMES = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
_MYSQL_COLUMNS = (
    "SELECT table_name, column_name, column_type, is_nullable = 'NO'"
    " FROM information_schema.columns WHERE table_schema = DATABASE(){only}"
    " ORDER BY table_name, ordinal_position")
_MYSQL_INDEXES = (
    "SELECT table_name, index_name, non_unique = 0,"
    " GROUP_CONCAT(column_name ORDER BY seq_in_index SEPARATOR ', ')"
    " FROM information_schema.statistics WHERE table_schema = DATABASE(){only}"
    " GROUP BY table_name, index_name, non_unique")
_PG_TABLES = ("pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n"
              " ON n.oid = c.relnamespace AND n.nspname = current_schema()"
              " WHERE c.relkind IN ('r', 'p')")
_PG_NAMES = f"SELECT c.relname FROM {_PG_TABLES}"
_PG_COLUMNS = (
    "SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),"
    " a.attnotnull FROM pg_catalog.pg_attribute AS a"
    " JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid"
    " JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace"
    " AND n.nspname = current_schema()"
    " WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped{only}"
    " ORDER BY c.relname, a.attnum")
_PG_INDEXES = (
    "SELECT c.relname, i.relname, x.indisunique,"
    " (SELECT string_agg(coalesce(a.attname, '?'), ', ' ORDER BY k.ord)"
    "  FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)"
    "  LEFT JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = k.attnum)"
    " FROM pg_catalog.pg_index AS x"
    " JOIN pg_catalog.pg_class AS c ON c.oid = x.indrelid"
    " JOIN pg_catalog.pg_class AS i ON i.oid = x.indexrelid"
    " JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace"
    " AND n.nspname = current_schema()"
    " WHERE c.relkind IN ('r', 'p'){only}")


def read_catalog(conn: Connection, tables: Collection[str] | None = None) -> Catalog | None:
    """The schema of the connection's database, or None on a dialect not catalogued.

    With ``tables``, only those tables' columns and indexes are read; every other
    table is listed by name (so a table added or dropped still shows)."""
    dialect = dialect_name(conn.dialect)
    if dialect == "sqlite":
        names, columns, indexes, column = _SQLITE_NAMES, _SQLITE_COLUMNS, _SQLITE_INDEXES, \
            "m.tbl_name"
    elif is_mysql(dialect):
        names, columns, indexes, column = _MYSQL_NAMES, _MYSQL_COLUMNS, _MYSQL_INDEXES, \
            "table_name"
    elif dialect == "postgresql":
        names, columns, indexes, column = _PG_NAMES, _PG_COLUMNS, _PG_INDEXES, "c.relname"
    else:
        return None
    only, params = "", {}
    if tables is not None:
        only = f" AND {column} IN :tables"
        params = {"tables": sorted(tables) or [""]}

    def query(text: str) -> sa.TextClause:
        found = sa.text(text.format(only=only))
        return found.bindparams(sa.bindparam("tables", expanding=True)) if only else found

    found: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {}
    for table, name, type_, not_null in conn.execute(query(columns), params):
        shown = f"{type_ or '?'}{' NOT NULL' if not_null else ''}"
        found.setdefault(str(table), ([], []))[0].append((str(name), shown))
    for table, index, unique, cols in conn.execute(query(indexes), params):
        shown = f"({cols}){' unique' if unique else ''}"
        found.setdefault(str(table), ([], []))[1].append((str(index), shown))
    shapes = [TableShape(name, tuple(cols), tuple(sorted(idx)))
              for name, (cols, idx) in found.items()]
    if tables is not None:  # the others by name only
        shapes += [TableShape(str(name), None, None)
                   for (name,) in conn.execute(sa.text(names)) if str(name) not in found]
    return Catalog(tuple(sorted(shapes, key=lambda t: t.name)))


def compare_catalogs(before: Catalog, after: Catalog,
                     ignore: Collection[str] = ("alembic_version",)) -> tuple[str, ...]:
    """What differs, one line each: "+ table t (id, name)", "- column t.c",
    "~ column t.c: INT -> BIGINT", "+ index ix_t_a on t (a) unique"; () when nothing does.

    The version table is left out (``ignore``): what it says is read and told on its
    own, and on PostgreSQL a first run creates it in the transaction a failure rolls back.
    """
    changes: list[str] = []
    names = sorted(({t.name for t in before.tables} | {t.name for t in after.tables})
                   - set(ignore))
    for name in names:
        old, new = before.get(name), after.get(name)
        if old is None and new is not None:
            # Its primary key's index goes without saying; other indexes are named.
            indexes = [f"{i} {how}" for i, how in new.indexes or () if not _primary(i)]
            columns = f" ({', '.join(c for c, _ in new.columns)})" if new.columns else ""
            changes.append(f"+ table {name}{columns}"
                           + (f" with index {', '.join(indexes)}" if indexes else ""))
        elif new is None and old is not None:
            changes.append(f"- table {name}")
        elif (old is not None and new is not None and old.columns is not None
              and new.columns is not None and old.indexes is not None
              and new.indexes is not None):
            changes.extend(_differences(f"column {name}.", old.columns, new.columns))
            changes.extend(_differences("index ", old.indexes, new.indexes, f" on {name}"))
    return tuple(changes)


def _primary(index: str) -> bool:
    """MySQL's "PRIMARY", SQLite's automatic index of a primary key or unique column, or
    PostgreSQL's "<table>_pkey"."""
    return (index == "PRIMARY" or index.startswith("sqlite_autoindex_")
            or index.endswith("_pkey"))


def _differences(kind: str, old: tuple[tuple[str, str], ...],
                 new: tuple[tuple[str, str], ...], where: str = "") -> list[str]:
    was, now = dict(old), dict(new)
    lines = [f"+ {kind}{n}{where} {now[n]}" for n in now if n not in was]
    lines += [f"- {kind}{n}{where}" for n in was if n not in now]
    lines += [f"~ {kind}{n}{where}: {was[n]} -> {now[n]}"
              for n in now if n in was and was[n] != now[n]]
    return lines
