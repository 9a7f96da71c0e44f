"""Run the risk probes on the live database, read-only, and roll back.

The connection is the one the project's env.py makes (as ``alembic current`` gets
it: env.py runs with a callback), so URLs computed in env.py are honoured. Inside
the callback the transaction is made read-only (PostgreSQL ``SET TRANSACTION READ
ONLY``, SQLite ``PRAGMA query_only``), every query is a SQLAlchemy construct (the
identifiers are quoted by SQLAlchemy, never formatted into SQL), and the callback
ends by raising, so env.py's transaction rolls back whatever happens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from migtui.core.checks.risks import BIG_TABLE_ROWS, Probe, Risk, Table
from migtui.core.env.looking import SqliteFileMissing
from migtui.core.env.mysql import CatalogTable, catalog_tables
from migtui.core.env.runner import run_env
from migtui.core.errors import from_exception

MISSING = "the database file does not exist yet"

# Counting stops here: "at least a million rows" is enough to know.
COUNT_CAP = 1_000_000

_ESTIMATE = sa.text(
    "SELECT c.reltuples FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relname = :name AND n.nspname = coalesce(:schema, current_schema())"
)


_TABLE_CHARSET = sa.text(
    "SELECT c.character_set_name FROM information_schema.tables t"
    " JOIN information_schema.collation_character_set_applicability c"
    " ON c.collation_name = t.table_collation"
    " WHERE t.table_schema = COALESCE(:schema, DATABASE()) AND t.table_name = :name")
_DATABASE_CHARSET = sa.text(
    "SELECT default_character_set_name FROM information_schema.schemata"
    " WHERE schema_name = DATABASE()")


class _Finished(BaseException):
    """Raised by the callback so that env.py's transaction rolls back."""


class Live:
    """Read-only questions about the live database, asked through one connection."""

    def __init__(self, conn: Connection, big_table: int = BIG_TABLE_ROWS) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.big_table = big_table
        self.problems: list[str] = []
        self._inspector = sa.inspect(conn)
        self._tables: dict[Table, bool] = {}
        self._columns: dict[Table, dict[str, Any]] = {}
        self._catalog: dict[str | None, dict[str, CatalogTable]] = {}

    def has_table(self, table: Table) -> bool:
        """Whether the table exists now."""
        if table not in self._tables:
            self._tables[table] = bool(self._inspector.has_table(table[1], schema=table[0]))
        return self._tables[table]

    def _column_map(self, table: Table) -> dict[str, Any]:
        if table not in self._columns:
            columns = (self._inspector.get_columns(table[1], schema=table[0])
                       if self.has_table(table) else [])
            self._columns[table] = {c["name"]: c["type"] for c in columns}
        return self._columns[table]

    def has_column(self, table: Table, name: str) -> bool:
        """Whether the column exists now."""
        return name in self._column_map(table)

    def column_type(self, table: Table, name: str) -> Any:
        """The column's type as the database reports it, or None."""
        return self._column_map(table).get(name)

    @staticmethod
    def _from(table: Table, *columns: str) -> sa.TableClause:
        return sa.table(table[1], *(sa.column(c) for c in columns), schema=table[0])

    def _bounded(self, query: sa.Select[Any], cap: int = COUNT_CAP) -> int:
        inner = query.limit(cap).subquery()
        return int(self.conn.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one())

    def count(self, table: Table, *where: sa.ColumnElement[Any]) -> int:
        """Rows of ``table`` matching ``where`` (counting stops at COUNT_CAP)."""
        return self._bounded(sa.select(sa.literal_column("1")).select_from(self._from(table))
                             .where(*where))

    def duplicates(self, table: Table, columns: list[sa.ColumnElement[Any]]) -> int:
        """Rows whose (columns), all not NULL, another row has too."""
        groups = (
            sa.select(sa.func.count().label("n")).select_from(self._from(table))
            .where(*(c.is_not(None) for c in columns)).group_by(*columns)
            .having(sa.func.count() > 1).subquery()
        )
        total = sa.select(sa.func.coalesce(sa.func.sum(groups.c.n), 0))
        return int(self.conn.execute(total).scalar_one())

    def orphans(self, source: Table, local: list[str], referent: Table,
                remote: list[str]) -> int:
        """Rows of ``source`` whose (local), all not NULL, match no row of ``referent``."""
        src = self._from(source, *local).alias("src")
        ref = self._from(referent, *remote).alias("ref")
        match = sa.exists().where(*(ref.c[r] == src.c[lc] for lc, r in
                                    zip(local, remote, strict=False)))
        return self._bounded(sa.select(sa.literal_column("1")).select_from(src).where(
            *(src.c[lc].is_not(None) for lc in local), ~match))

    def estimate(self, table: Table) -> int:
        """The table's estimated row count (PostgreSQL statistics, else a bounded count)."""
        if self.dialect == "postgresql":
            found = self.conn.execute(_ESTIMATE, {"name": table[1], "schema": table[0]})
            value = found.scalar()
            if value is not None and value > 0:
                return int(value)
        return self._bounded(sa.select(sa.literal_column("1")).select_from(self._from(table)),
                             cap=self.big_table + 1)

    def count_up_to(self, table: Table, cap: int) -> int:
        """Rows of ``table``, counting stops at ``cap``."""
        return self._bounded(sa.select(sa.literal_column("1")).select_from(self._from(table)),
                             cap=cap)

    def catalog(self, table: Table) -> CatalogTable | None:
        """MySQL/MariaDB: the table's engine, row format, estimated rows and size."""
        if table[0] not in self._catalog:
            self._catalog[table[0]] = catalog_tables(self.conn, table[0])
        return self._catalog[table[0]].get(table[1])

    def table_charset(self, table: Table) -> str:
        """MySQL/MariaDB: the table's default character set ("utf8mb4", "utf8mb3", …)."""
        return str(self.conn.execute(_TABLE_CHARSET, {"schema": table[0], "name": table[1]})
                   .scalar() or "")

    def database_charset(self) -> str:
        """MySQL/MariaDB: the connected database's default character set."""
        return str(self.conn.execute(_DATABASE_CHARSET).scalar() or "")

    def sqlite_foreign_keys(self) -> bool:
        """Whether SQLite enforces foreign keys on this connection."""
        return bool(self.conn.exec_driver_sql("PRAGMA foreign_keys").scalar())

    def evaluate(self, probe: Probe) -> Risk | None:
        """The risk a probe finds on this database, or None (nothing there, or no data)."""
        if not all(self.has_table(t) for t in probe.tables):
            return None
        nested = self.conn.begin_nested() if self.dialect == "postgresql" else None
        try:
            rows = probe.measure(self)
            kind = probe.kind_for(self) if probe.kind_for is not None else probe.kind
        except Exception as exc:
            if nested is not None:
                nested.rollback()
            self.problems.append(f"{probe.operation}: {from_exception(exc).message}")
            return None
        if nested is not None:
            nested.rollback()
        threshold = self.big_table if probe.threshold is None else probe.threshold
        if rows is None or rows < max(threshold, 1):
            return None
        return Risk(kind, probe.revision, probe.operation, probe.reason(rows) + probe.caveat,
                    probe.safer, rows if probe.counted else None)


def read_only(conn: Connection) -> None:
    """Make the connection's transaction read-only."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA query_only = ON")


def _writable_again(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA query_only = OFF")


@dataclass
class LiveResult:
    """What the probes found, and why some could not run."""

    risks: dict[int, Risk] = field(default_factory=dict)  # probe index -> risk
    checked: bool = False  # the database was reached
    note: str = ""
    missing: bool = False  # a SQLite file that does not exist yet
    dialect: str = ""


def read_live(config: Config, script: ScriptDirectory,
              work: Callable[[Connection, MigrationContext], None]) -> str:
    """Run env.py and call ``work`` with its connection, read-only; always rolled back.

    Returns "" when ``work`` ran, else one line saying why the database was not read.
    """
    ran: list[bool] = []

    def callback(rev: Any, context: MigrationContext) -> list[Any]:
        conn = context.connection
        if conn is None:
            raise _Finished
        read_only(conn)
        try:
            work(conn, context)
            ran.append(True)
        finally:
            _writable_again(conn)
        raise _Finished

    try:
        run_env(config, script, callback, dont_mutate=True)
    except _Finished:
        pass
    except SqliteFileMissing:
        return MISSING
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # env.py may raise anything
        return f"the database was not checked: {from_exception(exc).message}"
    return "" if ran else "env.py did not connect (offline mode?): the data was not checked"


def measure(config: Config, script: ScriptDirectory, probes: list[Probe],
            big_table: int = BIG_TABLE_ROWS) -> LiveResult:
    """Run every probe on the database env.py connects to; read-only, rolled back."""
    result = LiveResult()

    def work(conn: Connection, context: MigrationContext) -> None:
        result.dialect = context.dialect.name
        live = Live(conn, big_table)
        for index, probe in enumerate(probes):
            risk = live.evaluate(probe)
            if risk is not None:
                result.risks[index] = risk
        if live.problems:
            result.note = f"{len(live.problems)} checks could not run: {live.problems[0]}"

    note = read_live(config, script, work)
    result.checked = not note
    result.missing = note == MISSING
    result.note = note or result.note
    return result
