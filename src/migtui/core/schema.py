"""What the tables screen shows: tables, their structure, and what an action changed.

Plain frozen dataclasses (no SQLAlchemy objects), filled by core.inspector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from migtui.core.rows import RowCount


@dataclass(frozen=True, order=True)
class TableRef:
    """A table or view: its name and its schema (None for the default schema)."""

    name: str
    schema: str | None = None

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True)
class ColumnInfo:
    """One column as the database describes it."""

    name: str
    type: str
    nullable: bool
    default: str | None = None
    primary_key: bool = False
    comment: str | None = None


@dataclass(frozen=True)
class IndexInfo:
    name: str
    columns: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True)
class ConstraintInfo:
    """A primary key, unique or check constraint."""

    kind: str  # "primary key" | "unique" | "check"
    name: str
    columns: tuple[str, ...] = ()
    definition: str = ""


@dataclass(frozen=True)
class ForeignKeyInfo:
    name: str
    columns: tuple[str, ...]
    target: TableRef
    target_columns: tuple[str, ...]
    on_delete: str = ""
    on_update: str = ""


@dataclass(frozen=True)
class TableInfo:
    """Everything the tables screen shows about one table or view."""

    ref: TableRef
    kind: str  # "table" | "view" | "materialized view"
    columns: tuple[ColumnInfo, ...] = ()
    indexes: tuple[IndexInfo, ...] = ()
    constraints: tuple[ConstraintInfo, ...] = ()
    foreign_keys: tuple[ForeignKeyInfo, ...] = ()
    comment: str | None = None
    rows: RowCount | None = None
    revisions: tuple[str, ...] | None = None  # set on the Alembic version table

    @property
    def key_columns(self) -> tuple[str, ...]:
        """The primary key's columns, in key order."""
        for constraint in self.constraints:
            if constraint.kind == "primary key":
                return constraint.columns
        return ()

    def shape(self) -> tuple[object, ...]:
        """What a migration can change: compared to mark a table "changed"."""
        return (self.kind, self.columns, frozenset(self.indexes), frozenset(self.constraints),
                frozenset(self.foreign_keys))


@dataclass(frozen=True)
class SchemaInfo:
    """The tables and views of the database, the default schema first."""

    url: str  # password masked
    dialect: str
    tables: tuple[TableInfo, ...] = ()
    version_table: TableRef = TableRef("alembic_version")
    missing: str = ""  # e.g. the SQLite file does not exist yet

    def get(self, ref: TableRef) -> TableInfo | None:
        """The table with this name and schema, or None."""
        for table in self.tables:
            if table.ref == ref:
                return table
        return None


# -- what the last action changed --------------------------------------------


@dataclass(frozen=True)
class SchemaChanges:
    """Tables and columns added ("new"), altered ("changed") or removed ("dropped")."""

    tables: Mapping[TableRef, str] = field(default_factory=dict)
    columns: Mapping[tuple[TableRef, str], str] = field(default_factory=dict)
    dropped_tables: tuple[TableInfo, ...] = ()
    dropped_columns: Mapping[TableRef, tuple[ColumnInfo, ...]] = field(default_factory=dict)

    def table_mark(self, ref: TableRef) -> str:
        return self.tables.get(ref, "")

    def column_mark(self, ref: TableRef, column: str) -> str:
        return self.columns.get((ref, column), "")

    def __bool__(self) -> bool:
        return bool(self.tables)


NO_CHANGES = SchemaChanges()


def compare(before: SchemaInfo, after: SchemaInfo) -> SchemaChanges:
    """What differs between two reads of the schema (before and after an action)."""
    old = {t.ref: t for t in before.tables}
    new = {t.ref: t for t in after.tables}
    tables: dict[TableRef, str] = {}
    columns: dict[tuple[TableRef, str], str] = {}
    dropped_columns: dict[TableRef, tuple[ColumnInfo, ...]] = {}
    for ref, table in new.items():
        previous = old.get(ref)
        if previous is None:
            tables[ref] = "new"
            columns.update({(ref, c.name): "new" for c in table.columns})
            continue
        if previous.shape() == table.shape():
            continue
        tables[ref] = "changed"
        was = {c.name: c for c in previous.columns}
        for column in table.columns:
            if column.name not in was:
                columns[(ref, column.name)] = "new"
            elif was[column.name] != column:
                columns[(ref, column.name)] = "changed"
        now = {c.name for c in table.columns}
        gone = tuple(c for c in previous.columns if c.name not in now)
        if gone:
            dropped_columns[ref] = gone
            columns.update({(ref, c.name): "dropped" for c in gone})
    dropped = tuple(t for ref, t in old.items() if ref not in new)
    for table in dropped:
        tables[table.ref] = "dropped"
        columns.update({(table.ref, c.name): "dropped" for c in table.columns})
    return SchemaChanges(tables, columns, dropped, dropped_columns)
