"""Risks of ``alter_column``: NOT NULL over NULLs, and type changes the data does not fit.

PostgreSQL refuses a change when a value does not fit (too long for the new VARCHAR,
not a number, out of range) and rewrites the whole table for most type changes.
SQLite changes types in a batch by copying the table through ``CAST``, which never
fails: text that is not a number silently becomes a number, so there the same
values are data lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic.operations import ops as alembic_ops
from sqlalchemy.types import to_instance

from migtui.core.checks.risks import (
    LOCKS,
    LOSES_DATA,
    WILL_FAIL,
    Context,
    Found,
    Table,
    counted,
    lock,
    name_of,
    sqlite_alter,
    table_of,
)

if TYPE_CHECKING:
    from migtui.core.checks.probes import Live

_INT_RANGE = {"SMALLINT": (-32768, 32767), "INTEGER": (-2147483648, 2147483647)}
_INT_PATTERN = r"^\s*[-+]?[0-9]+\s*$"
_NUM_PATTERN = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"


def family(type_: Any) -> str:
    """"string", "integer", "numeric" or "other"."""
    type_ = as_type(type_)
    if isinstance(type_, sa.Enum):
        return "other"
    if isinstance(type_, sa.String):
        return "string"
    if isinstance(type_, sa.Integer):
        return "integer"
    if isinstance(type_, sa.Numeric):
        return "numeric"
    return "other"


def as_type(type_: Any) -> Any:
    """A type instance (migrations often pass the class: ``type_=sa.Integer``)."""
    return to_instance(type_) if type_ is not None else None


def _int_name(type_: Any) -> str:
    type_ = as_type(type_)
    if isinstance(type_, sa.SmallInteger):
        return "SMALLINT"
    if isinstance(type_, sa.BigInteger):
        return "BIGINT"
    return "INTEGER"


def rewrites(old: Any, new: Any) -> bool:
    """Whether PostgreSQL rewrites the table to change ``old`` into ``new``."""
    old, new = as_type(old), as_type(new)
    if family(old) == family(new) == "string":
        old_len, new_len = getattr(old, "length", None), getattr(new, "length", None)
        return not (new_len is None or (old_len is not None and new_len >= old_len))
    return type(old) is not type(new) or repr(old) != repr(new)


def alter_column_risks(c: Context, op: alembic_ops.AlterColumnOp) -> list[Found]:
    """NOT NULL over NULLs; type changes the values do not fit; table rewrites."""
    table, name = table_of(op), op.column_name
    in_place = (op.modify_nullable is not None or op.modify_type is not None
                or op.modify_server_default is not False)
    if in_place and (refused := sqlite_alter(c)):
        return refused
    if c.state.fresh(table):
        return []
    found: list[Found] = []
    if op.modify_nullable is False:
        def nulls(live: Live) -> int | None:
            col = c.state.column(live, table, name)
            return None if col is None else live.count(table, col.is_(None))

        found.append(c.probe(
            WILL_FAIL, table, nulls,
            lambda n: f"{counted(n, 'row')} of {name_of(table)} {'has' if n == 1 else 'have'} "
                      f"{name} NULL",
            f"fill them first in the same revision: op.execute(UPDATE … SET {name} = … "
            f"WHERE {name} IS NULL) before the alter_column",
        ))
    if op.modify_type is not None:
        found.extend(_type_change(c, op, table, name))
    return found


def _old_type(live: Live, op: alembic_ops.AlterColumnOp, table: Table) -> Any:
    if op.existing_type is not None:
        return as_type(op.existing_type)
    return live.column_type(table, op.column_name)


def _type_change(c: Context, op: alembic_ops.AlterColumnOp, table: Table,
                 name: str) -> list[Found]:
    new = as_type(op.modify_type)
    using = op.kw.get("postgresql_using")
    found: list[Found] = []
    if c.dialect == "postgresql":
        if using is None:
            def cannot_cast(live: Live) -> int | None:
                old = _old_type(live, op, table)
                return int(family(old) == "string" and family(new) in ("integer", "numeric"))

            found.append(c.probe(
                WILL_FAIL, table, cannot_cast,
                lambda _: f"PostgreSQL cannot cast {name} to {new} without a USING "
                          "expression, even on an empty table",
                f"pass postgresql_using='{name}::{new}' to alter_column", counted=False,
            ))

        def rewrite(live: Live) -> int | None:
            old = _old_type(live, op, table)
            return live.estimate(table) if old is not None and rewrites(old, new) else 0

        probe = lock(c, table, f"rewrites every row of {name_of(table)} under an exclusive lock",
                     "add a new column, fill it in batches, then swap the columns")
        probe.measure = rewrite
        found.append(probe)
    found.extend(_values_that_do_not_fit(c, op, table, name))
    return found


def _values_that_do_not_fit(c: Context, op: alembic_ops.AlterColumnOp, table: Table,
                            name: str) -> list[Found]:
    new = as_type(op.modify_type)
    target = family(new)
    sqlite = c.dialect == "sqlite"
    what = {"string": f"longer than {getattr(new, 'length', None)} characters",
            "integer": "not a whole number", "numeric": "not a number"}.get(target)
    if what is None or (target == "string" and (sqlite or getattr(new, "length", None) is None)):
        return []

    said = {"what": what}

    def measure(live: Live) -> int | None:
        col = c.state.column(live, table, name)
        old = _old_type(live, op, table)
        if col is None or old is None:
            return None
        source = family(old)
        if target == "string":
            length = int(getattr(new, "length", 0) or 0)
            if source == "string" and getattr(old, "length", None) is not None \
                    and old.length <= length:
                return 0
            return live.count(table, sa.func.length(sa.cast(col, sa.Text)) > length)
        if source == "string":
            pattern = _INT_PATTERN if target == "integer" else _NUM_PATTERN
            return live.count(table, col.is_not(None), ~col.regexp_match(pattern))
        if target == "integer" and source in ("integer", "numeric") and not sqlite:
            low, high = _INT_RANGE.get(_int_name(new), (None, None))
            if low is None:
                return 0
            said["what"] = "out of range"
            return live.count(table, sa.or_(col < low, col > high))
        return 0

    lost = "SQLite's CAST turns the text into a number, the text is lost" if sqlite else ""
    return [c.probe(
        LOSES_DATA if sqlite else WILL_FAIL, table, measure,
        lambda n: f"{counted(n, 'value')} of {name_of(table)}.{name} cannot become {new}: "
                  f"{said['what']}"
                  + (f"; {lost}" if lost else ""),
        "fix or clear those values first, in a step before this one",
    )]


def type_fit(op: alembic_ops.AlterColumnOp, conn: Any, batch: bool) -> list[str]:
    """What the type-fit checks find about one type change on the live database, as the
    confirmation before running it would say (values that do not fit, a cast PostgreSQL
    refuses without USING); [] when nothing, or without a connection."""
    from migtui.core.checks.probes import Live
    from migtui.core.checks.recorder import Recorded
    from migtui.core.checks.risks import PlanState, Probe

    if conn is None:
        return []
    dialect = conn.dialect.name
    context = Context("", f"alter_column {op.column_name}", Recorded(op), PlanState(),
                      dialect, True if batch and dialect == "sqlite" else None)
    live = Live(conn)
    reasons: list[str] = []
    for found in alter_column_risks(context, op):
        risk = live.evaluate(found) if isinstance(found, Probe) else found
        if risk is not None and risk.kind != LOCKS:
            reasons.append(risk.reason)
    return reasons
