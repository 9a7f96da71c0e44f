"""The risk rules: from the recorded operations of a plan to what may go wrong.

Walking the plan's steps in order, each operation gives either a risk that needs no
data (SQLite cannot add a NOT NULL column without a default; raw SQL to review) or a
``Probe``: a read-only count to run on the live database (rows a drop loses, NULLs
that block NOT NULL, duplicates, orphans, values that do not fit a new type, rows a
lock would hold). The walk remembers what earlier steps did: a table created by an
earlier step is empty, a column added without a default holds only NULLs, a dropped
table is gone. ``core.checks.probes`` runs the probes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic.operations import ops as alembic_ops
from sqlalchemy.sql.elements import Null

from migtui.core.checks.recorder import Recorded

if TYPE_CHECKING:
    from migtui.core.checks.probes import Live

LOSES_DATA = "loses data"
WILL_FAIL = "will fail"
BAD_DATA = "keeps bad data"
IRREVERSIBLE = "cannot be undone"
LOCKS = "locks table"
RAW_SQL = "raw SQL"
BREAKS_CODE = "breaks running code"

# A table this big (estimated rows) is worth a warning when a step locks it.
BIG_TABLE_ROWS = 100_000
# PostgreSQL functions whose server default forces a rewrite of every row.
_VOLATILE = re.compile(
    r"\b(random|gen_random_uuid|uuid_generate_v[14]|clock_timestamp|timeofday|nextval)\s*\(",
    re.IGNORECASE,
)


def is_null(column: sa.ColumnElement[Any] | None) -> bool:
    """Whether State.column() stands for a column the plan adds as NULL everywhere (no
    query may group or join by it: PostgreSQL refuses GROUP BY NULL)."""
    return isinstance(column, sa.sql.elements.Null)


@dataclass(frozen=True)
class Risk:
    """One thing a step may do to this database: what, why, and the safer way."""

    kind: str  # LOSES_DATA, WILL_FAIL, BAD_DATA, IRREVERSIBLE, LOCKS or RAW_SQL
    revision: str
    operation: str  # the operation, as the plan lists it
    reason: str  # one line, with the count where there is one
    safer: str = ""
    rows: int | None = None  # offending rows counted on the live database

    @property
    def blocking(self) -> bool:
        """The step will fail or lose data as things stand."""
        return self.kind in (WILL_FAIL, LOSES_DATA)


Table = tuple[str | None, str]  # (schema, name)


@dataclass
class Probe:
    """A risk that holds only if a read-only count on the live database says so."""

    kind: str
    revision: str
    operation: str
    safer: str
    tables: tuple[Table, ...]  # skipped silently unless these exist now
    measure: Callable[[Live], int | None]  # offending rows, or None: cannot tell
    reason: Callable[[int], str]
    threshold: int | None = 1  # a risk from this many rows on; None: a "big table"
    kind_for: Callable[[Live], str] | None = None  # the kind depends on the database
    caveat: str = ""  # appended to the reason (e.g. raw SQL ran before this)
    counted: bool = True  # False: the measure only says yes (1) or no (0)


@dataclass
class PlanState:
    """What the earlier operations of the plan did, as far as the checks care."""

    created: set[Table] = field(default_factory=set)
    written: set[Table] = field(default_factory=set)
    dropped: set[Table] = field(default_factory=set)
    added: dict[tuple[str | None, str, str], sa.Column[Any]] = field(default_factory=dict)
    raw_sql: bool = False

    def fresh(self, table: Table) -> bool:
        """Created by an earlier operation of the plan (so it is empty), or dropped."""
        return (table in self.created and table not in self.written) or table in self.dropped

    def column(self, live: Live, table: Table, name: str) -> sa.ColumnElement[Any] | None:
        """The column as a query sees it now; NULL for one the plan adds without a default;
        None when it cannot be told."""
        added = self.added.get((*table, name))
        if added is not None:
            return sa.null() if added.server_default is None else None
        return sa.column(name) if live.has_column(table, name) else None

    def advance(self, op: alembic_ops.MigrateOperation) -> None:
        """Remember what one operation did."""
        if isinstance(op, alembic_ops.CreateTableOp):
            self.created.add(table_of(op))
            self.dropped.discard(table_of(op))
        elif isinstance(op, alembic_ops.DropTableOp | alembic_ops.RenameTableOp):
            self.dropped.add(table_of(op))  # checks on a renamed table are skipped
        elif isinstance(op, alembic_ops.AddColumnOp):
            schema, name = table_of(op)
            self.added[(schema, name, op.column.name)] = op.column
        elif isinstance(op, alembic_ops.BulkInsertOp):
            table = op.table
            self.written.add((getattr(table, "schema", None), str(getattr(table, "name", ""))))
        elif isinstance(op, alembic_ops.ExecuteSQLOp):
            self.raw_sql = True

    def caveat(self) -> str:
        return (" (counted now; raw SQL earlier in this plan may change that: rehearse it)"
                if self.raw_sql else "")


Found = Risk | Probe


def table_of(op: Any, attr: str = "table_name", schema: str = "schema") -> Table:
    """(schema, name) of the table an operation works on."""
    return (getattr(op, schema, None), str(getattr(op, attr)))


def counted(n: int, word: str) -> str:
    """``1 row``, ``3 rows``, ``1,204 rows``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def name_of(table: Table) -> str:
    """A table as a user writes it: ``schema.name`` or ``name``."""
    return f"{table[0]}.{table[1]}" if table[0] else table[1]


@dataclass
class Context:
    """One operation being checked, with what the plan did before it."""

    revision: str
    text: str
    rec: Recorded
    state: PlanState
    dialect: str
    sqlite_recreates: bool | None  # None: not inside a batch_alter_table

    def risk(self, kind: str, reason: str, safer: str = "") -> Risk:
        """A risk that holds whatever the data."""
        return Risk(kind, self.revision, self.text, reason, safer)

    def probe(self, kind: str, table: Table, measure: Callable[[Live], int | None],
              reason: Callable[[int], str], safer: str = "", **kw: Any) -> Probe:
        """A risk that holds if a count on the live database says so."""
        tables = kw.pop("tables", (table,))
        return Probe(kind, self.revision, self.text, safer, tables, measure, reason,
                     caveat=self.state.caveat(), **kw)


def sqlite_recreates(group: list[Recorded]) -> bool:
    """Whether Alembic's SQLite batch copies the table (as its requires_recreate_in_batch)."""
    if not group or group[0].recreate == "never":
        return False
    if group[0].recreate == "always":
        return True
    for rec in group:
        op = rec.op
        if isinstance(op, alembic_ops.AddColumnOp):
            default = op.column.server_default
            if isinstance(default, sa.Computed) and default.persisted:
                return True
            if isinstance(default, sa.DefaultClause) and isinstance(default.arg, sa.ClauseElement):
                return True
        elif not isinstance(op, alembic_ops.CreateIndexOp | alembic_ops.DropIndexOp):
            return True
    return False


def sqlite_alter(c: Context) -> list[Found]:
    """Outside a batch, SQLite cannot alter columns or constraints (Alembic refuses)."""
    if c.dialect == "sqlite" and c.sqlite_recreates is None:
        return [c.risk(WILL_FAIL, "SQLite cannot ALTER constraints or columns in place",
                       "run it inside op.batch_alter_table(...)")]
    return []


def drop_table(c: Context, op: alembic_ops.DropTableOp) -> list[Found]:
    table = table_of(op)
    if c.state.fresh(table):
        return []
    missing = c.probe(
        WILL_FAIL, table, lambda live: int(not live.has_table(table)),
        lambda _: f"drops {name_of(table)}, which the database does not have: the step "
                  "fails here",
        "check the name and schema against the database", tables=(), counted=False)
    return [missing, c.probe(
        LOSES_DATA, table, lambda live: live.count(table),
        lambda n: f"drops {name_of(table)} and its {counted(n, 'row')}",
        "copy the rows elsewhere first, or rename the table now and drop it later",
    )]


def drop_column(c: Context, op: alembic_ops.DropColumnOp) -> list[Found]:
    table, name = table_of(op), op.column_name
    if c.state.fresh(table) or (*table, name) in c.state.added:
        return []

    def measure(live: Live) -> int | None:
        col = c.state.column(live, table, name)
        return None if col is None else live.count(table, col.is_not(None))

    return [c.probe(
        LOSES_DATA, table, measure,
        lambda n: f"drops {name_of(table)}.{name}, which holds a value in {counted(n, 'row')}",
        "copy the values elsewhere first, or keep the column until nothing reads it",
    )]


def add_column(c: Context, op: alembic_ops.AddColumnOp) -> list[Found]:
    table, column = table_of(op), op.column
    found: list[Found] = []
    if c.dialect == "postgresql" and column.server_default is not None:
        arg = getattr(column.server_default, "arg", "")
        if _VOLATILE.search(arg if isinstance(arg, str) else str(getattr(arg, "text", arg))):
            found.append(lock(c, table,
                              f"rewrites every row of {name_of(table)} under an exclusive lock",
                              "add the column without a default, then set the default "
                              "and fill existing rows in batches"))
    needs_value = (not column.nullable and column.server_default is None
                   and column.computed is None and column.identity is None)
    if not needs_value or c.state.fresh(table):
        return found
    if c.dialect == "sqlite" and not c.sqlite_recreates:
        found.append(c.risk(
            WILL_FAIL, "SQLite cannot add a NOT NULL column without a default, "
            "even to an empty table", "give it a server_default, or add it nullable"))
        return found
    if c.dialect in ("mysql", "mariadb"):  # no error there: checks/mysql.implicit_default
        return found
    found.append(c.probe(
        WILL_FAIL, table, lambda live: live.count(table),
        lambda n: f"{column.name} is NOT NULL without a server default and "
                  f"{name_of(table)} has {counted(n, 'row')}",
        "add it nullable, fill it, then alter_column(nullable=False); "
        "or give it a server_default",
    ))
    return found


def lock(c: Context, table: Table, what: str, safer: str) -> Probe:
    return c.probe(
        LOCKS, table, lambda live: live.estimate(table),
        lambda n: f"{what} (~{n:,} rows estimated)", safer,
        threshold=None,
    )


def create_index(c: Context, op: alembic_ops.CreateIndexOp) -> list[Found]:
    table = table_of(op)
    found: list[Found] = []
    if (c.dialect == "postgresql" and not op.kw.get("postgresql_concurrently")
            and not c.state.fresh(table)):
        found.append(lock(c, table, f"locks {name_of(table)} against writes while the index builds",
                           "create it with postgresql_concurrently=True inside "
                           "op.get_context().autocommit_block()"))
    if op.unique:
        found.extend(duplicates(c, table, list(op.columns), op.kw))
    return found


def duplicates(c: Context, table: Table, columns: list[Any], kw: dict[str, Any]) -> list[Found]:
    partial = any(k.endswith("_where") and v is not None for k, v in kw.items())
    if c.state.fresh(table) or partial or not all(isinstance(x, str) for x in columns):
        return []
    names = [str(x) for x in columns]

    def measure(live: Live) -> int | None:
        cols = [c.state.column(live, table, n) for n in names]
        if any(col is None for col in cols):
            return None
        if any(is_null(col) for col in cols):
            return 0  # a column the plan adds, NULL in every row: no two rows collide
        return live.duplicates(table, [col for col in cols if col is not None])

    return [c.probe(
        WILL_FAIL, table, measure,
        lambda n: f"{counted(n, 'row')} of {name_of(table)} share their ({', '.join(names)}) "
                  "with another row",
        "remove or merge the duplicates first, in a step before this one",
    )]


def orphans(c: Context, op: alembic_ops.CreateForeignKeyOp) -> list[Found]:
    source = (op.kw.get("source_schema"), op.source_table)
    referent = (op.kw.get("referent_schema"), op.referent_table)
    if c.state.fresh(source) or referent in c.state.dropped:
        return []
    local, remote = list(op.local_cols), list(op.remote_cols)
    referent_empty = c.state.fresh(referent)

    def measure(live: Live) -> int | None:
        cols = [c.state.column(live, source, n) for n in local]
        if any(col is None for col in cols):
            return None
        if any(is_null(col) for col in cols):
            return 0  # NULL in every row (added by the plan): nothing can be orphaned
        present = [col for col in cols if col is not None]
        if any(isinstance(col, Null) for col in present):
            return 0  # a column the plan adds without a default: all NULL, no orphans
        if referent_empty:
            return live.count(source, *(col.is_not(None) for col in present))
        if not live.has_table(referent):
            return None
        return live.orphans(source, local, referent, remote)

    def kind(live: Live) -> str:
        return BAD_DATA if live.dialect == "sqlite" and not live.sqlite_foreign_keys() \
            else WILL_FAIL

    return [c.probe(
        WILL_FAIL, source, measure,
        lambda n: f"{counted(n, 'row')} of {name_of(source)} {'points' if n == 1 else 'point'} "
                  f"to no row of {name_of(referent)}",
        "delete or fix those rows first; on PostgreSQL you can also add the key with "
        "postgresql_not_valid=True and VALIDATE it later", kind_for=kind,
    )]
