"""Rows of one table, a page at a time, as display-safe cells.

Every query is built from SQLAlchemy constructs (``sa.table``/``sa.column``/``select``),
so identifiers are quoted by the dialect whatever they contain. Columns are selected
untyped: values come back as the driver gives them and are turned into text here,
so no type processor can fail on odd data.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

# Text kept per cell; longer values are cut here and fetched whole on demand.
HOLD_CHARS = 10_000
HOLD_BYTES = 4_096
# Row counts up to this are exact; above it the count is an estimate.
COUNT_LIMIT = 100_000


class CellKind(str, Enum):
    """What a cell holds, for styling."""

    NULL = "null"
    TEXT = "text"
    NUMBER = "number"
    BINARY = "binary"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Cell:
    """One value made safe to show: text (hex digits for binary) and its full size."""

    text: str
    kind: CellKind = CellKind.TEXT
    size: int = 0  # characters, or bytes for binary
    truncated: bool = False  # text holds only the start of the value


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
    if isinstance(value, bool):
        return Cell("true" if value else "false", CellKind.NUMBER, 1)
    if isinstance(value, (int, float, Decimal)):
        text = str(value)
        return Cell(text, CellKind.NUMBER, len(text))
    if isinstance(value, (bytes, bytearray, memoryview)):
        view = memoryview(value).cast("B")
        return Cell(view[:HOLD_BYTES].hex(), CellKind.BINARY, view.nbytes,
                    view.nbytes > HOLD_BYTES)
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
    kind = CellKind.TEXT if isinstance(value, str) else CellKind.OTHER
    return Cell(text[:HOLD_CHARS], kind, len(text), len(text) > HOLD_CHARS)


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


# -- paging ------------------------------------------------------------------


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


def _selectable(schema: str | None, table: str, columns: Sequence[str]) -> sa.TableClause:
    return sa.table(table, *[sa.column(c) for c in columns], schema=schema)


def _key_condition(
    keys: Sequence[sa.ColumnClause[Any]], values: tuple[Any, ...], forward: bool
) -> sa.ColumnElement[bool]:
    if len(keys) == 1:
        one: sa.ColumnElement[bool] = keys[0] > values[0] if forward else keys[0] < values[0]
        return one
    # (a, b) > (x, y) spelled out: works on every dialect, row values or not.
    parts: list[sa.ColumnElement[bool]] = []
    for i, key in enumerate(keys):
        same = [keys[j] == values[j] for j in range(i)]
        step = key > values[i] if forward else key < values[i]
        parts.append(sa.and_(*same, step))
    return sa.or_(*parts)


def read_rows(conn: Connection, request: RowRequest) -> RowPage:
    """Fetch one page of rows (never more than ``request.limit``) from an open connection."""
    limit = max(1, request.limit)
    keys_wanted = list(request.key_columns)
    names = list(request.columns) + [k for k in keys_wanted if k not in request.columns]
    table = _selectable(request.schema, request.table, names)
    key_cols = [table.c[k] for k in keys_wanted]
    query = sa.select(*[table.c[n] for n in names])
    forward = not request.backwards
    if key_cols:
        if request.key is not None:
            query = query.where(_key_condition(key_cols, request.key, forward))
        order = key_cols if forward else [k.desc() for k in key_cols]
        query = query.order_by(*order).limit(limit + 1)
        start = request.offset
    else:
        start = max(request.offset, 0)
        if not forward:
            start = max(request.offset - limit, 0)
            limit = request.offset - start
        query = query.limit(limit + 1).offset(start)
    fetched = list(conn.execute(query).fetchmany(limit + 1))
    more = len(fetched) > limit
    fetched = fetched[:limit]
    if key_cols and not forward:
        fetched.reverse()
        start = request.offset - len(fetched)
    width = len(request.columns)
    key_at = [names.index(k) for k in keys_wanted]
    keys = tuple(tuple(row[i] for i in key_at) for row in fetched) if key_at else ()
    rows = tuple(tuple(to_cell(v) for v in row[:width]) for row in fetched)
    if forward:
        more_after, more_before = more, start > 0
    else:
        more_after, more_before = True, (more if key_cols else start > 0)
    return RowPage(
        request=request,
        rows=rows,
        offset=start,
        keys=keys,
        more_after=more_after,
        more_before=more_before,
    )


def read_value(
    conn: Connection, schema: str | None, table: str, column: str,
    key_columns: tuple[str, ...], key: tuple[Any, ...],
) -> Cell:
    """The whole value of one cell, found by the row's primary key."""
    names = [column, *[k for k in key_columns if k != column]]
    t = _selectable(schema, table, names)
    query = sa.select(t.c[column]).where(
        *[t.c[k] == v for k, v in zip(key_columns, key, strict=True)]
    ).limit(1)
    value = conn.execute(query).scalar()
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return Cell(data.hex(), CellKind.BINARY, len(data), False)
    cell = to_cell(value)
    if cell.truncated and value is not None:
        text = value if isinstance(value, str) else str(value)
        return Cell(text, cell.kind, len(text), False)
    return cell


# -- counting ----------------------------------------------------------------


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


def bounded_count(conn: Connection, schema: str | None, table: str) -> int:
    """Count rows, but stop after COUNT_LIMIT + 1 of them."""
    t = _selectable(schema, table, ())
    inner = sa.select(sa.literal_column("1")).select_from(t).limit(COUNT_LIMIT + 1).subquery()
    return int(conn.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one())


def count_rows(
    conn: Connection, schema: str | None, table: str, stats: float | None = None
) -> RowCount:
    """Exact when cheap; otherwise the planner's statistics (``stats``) or a bound."""
    if stats is not None and stats >= COUNT_LIMIT:
        return RowCount(int(stats), estimate=True)
    counted = bounded_count(conn, schema, table)
    if counted <= COUNT_LIMIT:
        return RowCount(counted)
    guess = _guess(conn, schema, table)
    if guess is not None and guess > COUNT_LIMIT:
        return RowCount(guess, estimate=True)
    return RowCount(COUNT_LIMIT, at_least=True)


def _guess(conn: Connection, schema: str | None, table: str) -> int | None:
    """A cheap estimate for a big table without fresh statistics."""
    t = _selectable(schema, table, ())
    name = conn.dialect.name
    try:
        if name == "sqlite":
            rowid: sa.ColumnClause[Any] = sa.literal_column("rowid")
            low, high = conn.execute(
                sa.select(sa.func.min(rowid), sa.func.max(rowid)).select_from(t)).one()
            return int(high) - int(low) + 1 if high is not None else None
        if name == "postgresql":
            query: sa.Select[Any] = sa.select(sa.literal_column("1")).select_from(t)
            with conn.begin_nested():
                sql = str(query.compile(dialect=conn.dialect))
                plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql).scalar()
            data: Any = json.loads(plan) if isinstance(plan, str) else plan
            return int(data[0]["Plan"]["Plan Rows"])
    except Exception:
        return None
    return None
