"""What the tables screen shows: tables, their structure, what an action changed, rows.

Plain immutable data (no SQLAlchemy objects), filled by core.schema.inspector and core.schema.rows,
and the display-safe forms of values (cells).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum
from functools import cached_property
from typing import Any, NamedTuple


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
    problem: str = ""  # why part of it could not be read ("locked by pid 42: LOCK …")
    engine: str = ""  # MySQL/MariaDB: the storage engine ("InnoDB", "Aria", …)
    # False: listed by name and kind only, its structure and rows count not read yet.
    reflected: bool = True

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

    @cached_property
    def _by_ref(self) -> dict[TableRef, TableInfo]:
        return {t.ref: t for t in self.tables}

    def get(self, ref: TableRef) -> TableInfo | None:
        """The table with this name and schema, or None."""
        return self._by_ref.get(ref)

    @property
    def complete(self) -> bool:
        """Whether every table's structure has been read."""
        return all(t.reflected for t in self.tables)

    def with_structure(self, tables: Iterable[TableInfo]) -> SchemaInfo:
        """This schema with these tables' structure read (tables it does not list are
        left out: they were dropped since it was listed)."""
        read = {t.ref: t for t in tables if t.ref in self._by_ref}
        if not read:
            return self
        return replace(self, tables=tuple(read.get(t.ref, t) for t in self.tables))


# -- what the last action changed --------------------------------------------


@dataclass(frozen=True)
class SchemaChanges:
    """Tables and columns added ("new"), altered ("changed") or removed ("dropped"), and
    tables renamed ("renamed": gone under one name, there under another with the same
    columns and rows)."""

    tables: Mapping[TableRef, str] = field(default_factory=dict)
    columns: Mapping[tuple[TableRef, str], str] = field(default_factory=dict)
    dropped_tables: tuple[TableInfo, ...] = ()
    dropped_columns: Mapping[TableRef, tuple[ColumnInfo, ...]] = field(default_factory=dict)
    renamed: Mapping[TableRef, TableRef] = field(default_factory=dict)  # new name -> old

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
        if not (previous.reflected and table.reflected):
            continue  # a structure not read (yet) on either side: nothing to mark
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
    dropped = [t for ref, t in old.items() if ref not in new]
    renamed: dict[TableRef, TableRef] = {}
    for ref in [r for r, mark in tables.items() if mark == "new"]:
        twins = [t for t in dropped if _same_data(t, new[ref])]
        if len(twins) == 1:  # (one candidate only: never a guess between two)
            dropped.remove(twins[0])
            tables[ref], renamed[ref] = "renamed", twins[0].ref
            for column in new[ref].columns:
                columns.pop((ref, column.name), None)
    for table in dropped:
        tables[table.ref] = "dropped"
        columns.update({(table.ref, c.name): "dropped" for c in table.columns})
    return SchemaChanges(tables, columns, tuple(dropped), dropped_columns, renamed)


def _same_data(was: TableInfo, now: TableInfo) -> bool:
    """Whether a table gone and a table new are one table renamed: in the same schema,
    with the same columns, and the same number of rows where both were counted."""
    if not (was.kind == now.kind == "table" and was.reflected and now.reflected):
        return False
    if was.ref.schema != now.ref.schema or was.columns != now.columns:
        return False
    return was.rows is None or now.rows is None or was.rows.value == now.rows.value


@dataclass(frozen=True)
class RowCount:
    """How many rows a table holds: exact, estimated, or at least so many."""

    value: int
    estimate: bool = False
    at_least: bool = False

    def __str__(self) -> str:
        if self.at_least:
            return f"≥{self.value:,}"
        return f"~{self.value:,}" if self.estimate else f"{self.value:,}"


# Text kept per cell; longer values are cut here and fetched whole on demand.
HOLD_CHARS = 10_000
HOLD_BYTES = 4_096


class CellKind(str, Enum):
    """What a cell holds, for styling."""

    NULL = "null"
    TEXT = "text"
    NUMBER = "number"
    BINARY = "binary"
    OTHER = "other"


class Cell(NamedTuple):
    """One value made safe to show: text (hex digits for binary) and its full size.

    A named tuple rather than a dataclass: a page holds thousands, and it is immutable too.
    """

    text: str
    kind: CellKind = CellKind.TEXT
    size: int = 0  # characters, or bytes for binary
    truncated: bool = False  # text holds only the start of the value
    raw: str = ""  # hex of the bytes of a text value that is not valid UTF-8


class UndecodedText(str):
    """A TEXT value whose bytes are not valid UTF-8: shown with replacement characters,
    its bytes kept for whoever wants to see them."""

    raw: bytes

    def __new__(cls, raw: bytes) -> UndecodedText:
        made = super().__new__(cls, raw.decode("utf-8", "replace"))
        made.raw = raw
        return made


def decode_text(raw: bytes) -> str:
    """SQLite's text factory while migtui reads: invalid UTF-8 never fails a page."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return UndecodedText(raw)


NULL_CELL = Cell("NULL", CellKind.NULL)


def to_cell(value: object) -> Cell:
    """Any value a driver returns, as a Cell; never raises."""
    try:
        return _to_cell(value)
    except Exception:
        return Cell(f"<{type(value).__name__}>", CellKind.OTHER)


def _to_cell(value: object) -> Cell:
    if value is None:
        return NULL_CELL
    kind = type(value)
    if kind is str:  # the common cases first
        size = len(value)  # type: ignore[arg-type]
        if size <= HOLD_CHARS:
            return Cell(value, CellKind.TEXT, size)  # type: ignore[arg-type]
    elif kind is int:
        text = str(value)
        return Cell(text, CellKind.NUMBER, len(text))
    if isinstance(value, bool):
        return Cell("true" if value else "false", CellKind.NUMBER, 1)
    if isinstance(value, (int, float, Decimal)):
        text = str(value)
        return Cell(text, CellKind.NUMBER, len(text))
    if isinstance(value, (bytes, bytearray, memoryview)):
        view = memoryview(value).cast("B")
        return Cell(view[:HOLD_BYTES].hex(), CellKind.BINARY, view.nbytes,
                    view.nbytes > HOLD_BYTES)
    if isinstance(value, UndecodedText):
        return Cell(value[:HOLD_CHARS], CellKind.TEXT, len(value), len(value) > HOLD_CHARS,
                    value.raw[:HOLD_BYTES].hex())
    if isinstance(value, str):
        text = value
    elif isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, (dt.date, dt.time, uuid.UUID, dt.timedelta)):
        text = str(value)
    elif isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    cell_kind = CellKind.TEXT if isinstance(value, str) else CellKind.OTHER
    return Cell(text[:HOLD_CHARS], cell_kind, len(text), len(text) > HOLD_CHARS)


_GRID_CONTROLS = {i: "·" for i in [*range(32), 127, *range(0x80, 0xA0)]}
_GRID_CONTROLS.update({ord("\n"): "↵", ord("\r"): "␍", ord("\t"): "⇥"})
_TEXT_CONTROLS = {i: "·" for i in [*range(32), 127, *range(0x80, 0xA0)] if i not in (9, 10)}


def grid_text(cell: Cell, limit: int = 60) -> str:
    """The one-line form of a cell for a grid: controls made visible, cut at ``limit``."""
    if cell.kind is CellKind.BINARY:
        preview = cell.text[:24]
        more = "…" if len(cell.text) > 24 else ""
        text = f"<{cell.size:,} bytes> {preview}{more}".rstrip()
    else:
        text = cell.text[: limit + 1].translate(_GRID_CONTROLS)
    if len(text) > limit or (cell.truncated and cell.kind is not CellKind.BINARY):
        text = text[: max(limit - 1, 0)] + "…"
    return text


def full_text(cell: Cell) -> str:
    """The whole value for a dialog: text as is (controls shown), binary as a hex dump."""
    if cell.kind is not CellKind.BINARY:
        return cell.text.translate(_TEXT_CONTROLS)
    data = bytes.fromhex(cell.text)
    lines = [f"{cell.size:,} bytes" + (f" (the first {len(data):,} shown)"
                                         if cell.truncated else "")]
    for start in range(0, len(data), 16):
        chunk = data[start:start + 16]
        hexpart = " ".join(f"{b:02x}" for b in chunk)
        ascii_part = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{start:08x}  {hexpart:<47}  {ascii_part}")
    return "\n".join(lines)


# -- pages of rows -------------------------------------------------------------


@dataclass(frozen=True)
class RowRequest:
    """One page of a table's rows: after (or before) a key, or at an offset.

    With ``key_columns`` (the primary key) pages are found by key (keyset paging):
    the rows after ``key`` (before it, ``backwards``); without a key, by
    ``LIMIT``/``OFFSET``. ``offset`` is the number (from 0) of the first row wanted or,
    backwards, of the row just after the page.
    """

    schema: str | None
    table: str
    columns: tuple[str, ...]
    key_columns: tuple[str, ...] = ()
    key: tuple[Any, ...] | None = None
    offset: int = 0
    backwards: bool = False
    limit: int = 200


@dataclass(frozen=True)
class RowPage:
    """Rows of one page and where they sit in the table."""

    request: RowRequest
    rows: tuple[tuple[Cell, ...], ...]
    offset: int  # number (from 0) of the first row of this page
    keys: tuple[tuple[Any, ...], ...] = field(default=(), compare=False)  # per row, if keyed
    more_after: bool = False
    more_before: bool = False

    @property
    def first_key(self) -> tuple[Any, ...] | None:
        return self.keys[0] if self.keys else None

    @property
    def last_key(self) -> tuple[Any, ...] | None:
        return self.keys[-1] if self.keys else None
