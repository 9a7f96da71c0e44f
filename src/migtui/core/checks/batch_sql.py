"""The offline SQL of a plan, with batch steps rendered from the live tables.

Alembic's ``--sql`` mode has no connection to reflect a table with, so a
``batch_alter_table`` that must recreate its table (always on SQLite) fails offline
unless it was given ``copy_from``. Here the tables that the plan's batches recreate are
reflected first, read-only, through the connection env.py makes (:func:`read_live`),
and while Alembic renders the plan every batch without a ``copy_from`` of its own gets
the live table. A table that an earlier operation of the same plan changes is rendered
as it is now, and the SQL says so where it starts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.operations import ops as alembic_ops
from sqlalchemy.engine import Connection

from migtui.core.actions.plan import Plan
from migtui.core.actions.project import Project
from migtui.core.checks.probes import read_live
from migtui.core.checks.recorder import RecordedFunction, record_functions
from migtui.core.env.capture import ENV_LOCK
from migtui.core.errors import MigtuiError

TableKey = tuple[str | None, str]  # (schema, name)


def live_table(conn: Connection, name: str, schema: str | None) -> sa.Table | None:
    """The table as the database holds it now (reflected), or None if there is none."""
    if not sa.inspect(conn).has_table(name, schema=schema):
        return None
    return sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)


def recreated_tables(recorded: list[RecordedFunction], dialect: str) -> set[TableKey]:
    """The tables whose batch_alter_table recreates them (SQLite, or recreate="always")."""
    return {(r.batch_schema, r.batch) for fn in recorded for r in fn.ops
            if r.batch and (dialect == "sqlite" or r.recreate == "always")}


def plan_sql(project: Project, plan: Plan, dialect: str, direction: str, start: str,
             end: str) -> str:
    """``alembic upgrade/downgrade START:END --sql``, with the batches that recreate a
    table rendered from that table as the database holds it now."""
    recorded = record_functions(
        project.script(), [(s.revision, s.direction) for s in plan.steps], dialect)
    wanted = recreated_tables(recorded, dialect)
    live: dict[TableKey, sa.Table | None] = {}
    if wanted:
        def reflect(conn: Connection, _context: Any) -> None:
            live.update({key: live_table(conn, key[1], key[0]) for key in wanted})

        read_live(project.config, project.script(), reflect)  # not read: Alembic's error
    with ENV_LOCK, _batches_from(live):
        return project.sql(direction, start, end)


def _key(operation: alembic_ops.MigrateOperation) -> TableKey | None:
    name = getattr(operation, "table_name", None)
    return (getattr(operation, "schema", None), name) if isinstance(name, str) else None


@contextmanager
def _batches_from(live: Mapping[TableKey, sa.Table | None]) -> Iterator[None]:
    """While Alembic renders offline, give each batch without ``copy_from`` its live table
    (or the create_table of this plan that makes it), and note the tables that operations
    before it change. Process-wide: the caller holds ENV_LOCK."""
    changed: set[TableKey] = set()
    created: dict[TableKey, sa.Table] = {}
    unknown: set[TableKey] = set()  # created in the plan, then changed beyond add_column
    grown: dict[TableKey, sa.Table] = {}  # live tables with the columns added before
    batch = Operations.batch_alter_table  # AbstractOperations' own
    invoke = Operations.invoke

    def noting_invoke(self: Operations, operation: alembic_ops.MigrateOperation) -> Any:
        key = _key(operation)
        if key is not None:
            changed.add(key)
            if isinstance(operation, alembic_ops.CreateTableOp):
                created[key] = operation.to_table()
                unknown.discard(key)
            elif key in created and isinstance(operation, alembic_ops.AddColumnOp):
                created[key].append_column(operation.column._copy())
            elif isinstance(operation, alembic_ops.AddColumnOp) and live.get(key) is not None:
                # The live table with the column the plan adds before the batch (a copy).
                table = grown.get(key)
                if table is None:
                    table = grown[key] = live[key].to_metadata(sa.MetaData())  # type: ignore[union-attr]
                table.append_column(operation.column._copy())
            elif key in created:
                unknown.add(key)
        return invoke(self, operation)

    @contextmanager
    def live_batch(self: Operations, table_name: str, schema: str | None = None,
                   *args: Any, **kw: Any) -> Iterator[Any]:
        key = (schema, table_name)
        note = ""
        if self.migration_context.as_sql and kw.get("copy_from") is None:
            copy_from = grown.get(key, live.get(key))
            if copy_from is None and key in unknown:
                raise MigtuiError(f"The batch SQL of {table_name} cannot be shown: the table "
                                  "is created and then changed earlier in this plan, so its "
                                  "columns are not known before those steps run")
            if copy_from is None and key in created:
                copy_from = created[key]
                note = (f"{table_name} is created earlier in this plan: this batch SQL is "
                        "built from that create_table")
            elif copy_from is not None and key in changed:
                note = (f"{table_name} is changed earlier in this plan: this batch SQL is "
                        "built from the table as it is now, what runs may differ")
            if copy_from is None and key in live:
                raise MigtuiError(f"The batch SQL of {table_name} cannot be shown: the table "
                                  "does not exist yet")
            if copy_from is not None:
                kw["copy_from"] = _with_overrides(copy_from, kw.get("reflect_args", ()))
        with batch(self, table_name, schema, *args, **kw) as batch_op:
            yield batch_op
            if note and _recreates(batch_op):  # said where its SQL starts (at the exit)
                self.migration_context.impl.static_output(f"-- {note}")
        changed.add(key)
        if key in created:
            unknown.add(key)  # what the batch made of the table is not followed here

    own = {name: Operations.__dict__.get(name) for name in ("batch_alter_table", "invoke")}
    Operations.batch_alter_table = live_batch  # type: ignore[method-assign, assignment]
    Operations.invoke = noting_invoke  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        for name, value in own.items():
            if value is None:
                delattr(Operations, name)
            else:
                setattr(Operations, name, value)


def _recreates(batch_op: Any) -> bool:
    """Whether the batch will copy its table (else its SQL does not come from copy_from)."""
    should = getattr(batch_op.impl, "_should_recreate", None)
    return bool(should()) if callable(should) else True


def _with_overrides(table: sa.Table, reflect_args: Any) -> sa.Table:
    """The table with the columns a batch's ``reflect_args`` override, as reflecting
    with them would give."""
    columns = [c for c in reflect_args or () if isinstance(c, sa.Column)]
    if not columns:
        return table
    copy = table.to_metadata(sa.MetaData())
    for column in columns:
        copy.append_column(column._copy(), replace_existing=True)
    return copy
