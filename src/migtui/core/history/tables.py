"""A table's own history: the revisions whose operations touch it.

Each revision's ``upgrade()`` is recorded offline (as for pre-flight, see
``core/checks/recorder.py``): an operation touches a table when it names it (its
table, the table of its ``batch_alter_table``, a foreign key to it). Raw SQL
(``op.execute``) that names the table is listed as a guess, as are the operations of
a function that could only be read from its source. The operations autogenerate
would write for the table (the models changed) come last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from alembic.operations import ops as alembic_ops
from sqlalchemy import Column, ForeignKeyConstraint

from migtui.core.actions.project import Project
from migtui.core.autogen.diff import DiffState, compute_diff
from migtui.core.checks.recorder import Recorded, describe, record_functions, sql_of
from migtui.core.models import Snapshot


@dataclass(frozen=True)
class TableEvent:
    """One revision (or the pending diff) and what it does to the table."""

    revision: str  # "" for the pending diff
    message: str
    applied: bool
    operations: tuple[str, ...]
    guess: bool = False  # found only in raw SQL or the source text, not an operation

    @property
    def short(self) -> str:
        return self.revision[:12] if self.revision else "pending"


@dataclass(frozen=True)
class TableHistory:
    """Every revision touching ``table``, oldest first (the graph's order, reversed),
    then what the pending diff would do to it."""

    table: str
    events: tuple[TableEvent, ...]
    note: str = ""  # what could not be read


def _names(value: Any) -> set[str]:
    return {value} if isinstance(value, str) else set()


def _fk_targets(op: alembic_ops.MigrateOperation) -> set[str]:
    found: set[str] = set()
    if isinstance(op, alembic_ops.CreateForeignKeyOp):
        found |= _names(op.referent_table)
    if isinstance(op, alembic_ops.CreateTableOp):
        for item in op.columns:
            if isinstance(item, Column):
                found |= {fk.target_fullname.split(".")[-2] for fk in item.foreign_keys
                          if "." in fk.target_fullname}
            elif isinstance(item, ForeignKeyConstraint):
                found |= {e.target_fullname.split(".")[-2] for e in item.elements
                          if "." in e.target_fullname}
    if isinstance(op, alembic_ops.AddColumnOp):
        found |= {fk.target_fullname.split(".")[-2] for fk in op.column.foreign_keys
                  if "." in fk.target_fullname}
    return found


def touches(recorded: Recorded, table: str) -> str:
    """"yes" when the operation names the table, "guess" when only its SQL text does,
    "" otherwise."""
    op = recorded.op
    if isinstance(op, alembic_ops.ExecuteSQLOp):
        return "guess" if _named_in(sql_of(recorded, None), table) else ""
    names = _names(recorded.batch) | _names(getattr(op, "table_name", None))
    names |= _names(getattr(op, "source_table", None)) | _names(
        getattr(op, "new_table_name", None)) | _fk_targets(op)
    bulk = getattr(op, "table", None)
    names |= _names(getattr(bulk, "name", None))
    return "yes" if table in names else ""


def _named_in(text: str, table: str) -> bool:
    return re.search(rf"(?<![\w$]){re.escape(table)}(?![\w$])", text, re.IGNORECASE) \
        is not None


def table_history(project: Project, snapshot: Snapshot, table: str,
                  with_diff: bool = True) -> TableHistory:
    """The revisions touching ``table``, oldest first, then the operations autogenerate
    finds for it (``with_diff``: compares the models through env.py, which takes a
    while). Blocks: run it in a worker."""
    graph = snapshot.graph
    applied = snapshot.applied
    order = list(reversed(graph.revisions))
    recorded = record_functions(project.script(), [(r.revision, "upgrade") for r in order],
                                snapshot.database.dialect or "sqlite")
    events: list[TableEvent] = []
    unread = []
    for rev, fn in zip(order, recorded, strict=True):
        if fn.static:
            lines = tuple(line for line in fn.static_operations if _named_in(line, table))
            if lines:
                events.append(TableEvent(rev.revision, rev.message,
                                         rev.revision in applied, lines, guess=True))
            elif fn.error:
                unread.append(rev.short)
            continue
        hits = [(r, touches(r, table)) for r in fn.ops]
        lines = tuple(describe(r, fn.dialect) for r, how in hits if how)
        if lines:
            guess = all(how == "guess" for _r, how in hits if how)
            events.append(TableEvent(rev.revision, rev.message, rev.revision in applied,
                                     lines, guess=guess))
    diff = compute_diff(project) if with_diff and snapshot.database.reachable else None
    if diff is not None and diff.state is DiffState.DIFFERS:
        pending = tuple(f"{op.kind} {op.name}".strip() for op in diff.operations
                        if op.table == table)
        if pending:
            events.append(TableEvent("", "the models differ (not yet a revision)", False,
                                     pending))
    note = (f"read from the source only: {', '.join(unread)}" if unread else "")
    return TableHistory(table, tuple(events), note)
