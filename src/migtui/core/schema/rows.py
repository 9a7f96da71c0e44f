"""Rows of one table, a page at a time, as display-safe cells.

Every query is built from SQLAlchemy constructs (``sa.table``/``sa.column``/``select``),
so identifiers are quoted by the dialect whatever they contain. Columns are selected
untyped: values come back as the driver gives them and are turned into text
(core.schema.model.to_cell), so no type processor can fail on odd data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from migtui.core.schema.model import Cell, CellKind, RowCount, RowPage, RowRequest, to_cell

# Row counts up to this are exact; above it the count is an estimate.
COUNT_LIMIT = 100_000


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
        return Cell(text, cell.kind, len(text), False, cell.raw)
    return cell


# -- counting ----------------------------------------------------------------



def bounded_count(conn: Connection, schema: str | None, table: str) -> int:
    """Count rows, but stop after COUNT_LIMIT + 1 of them."""
    t = _selectable(schema, table, ())
    inner = sa.select(sa.literal_column("1")).select_from(t).limit(COUNT_LIMIT + 1).subquery()
    return int(conn.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one())


def count_rows(
    conn: Connection, schema: str | None, table: str, stats: float | None = None
) -> RowCount:
    """Exact when cheap; otherwise the planner's statistics (``stats``) or a bound."""
    # Statistics near the limit may be off either way: counting up to it is cheap.
    if stats is not None and stats >= 2 * COUNT_LIMIT:
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
