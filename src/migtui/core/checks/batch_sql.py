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
from migtui.core.checks.probes import MISSING, read_live
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
    return _sql(project, [(s.revision, s.direction) for s in plan.steps], dialect,
                direction, start, end)


def revision_sql(project: Project, revision: str, parent: str, direction: str,
                 dialect: str, heads: tuple[str, ...]) -> str:
    """The SQL of one revision, as ``alembic upgrade PARENT:REVISION --sql`` (or its
    downgrade, REVISION:PARENT), batches rendered from the live tables. When the
    database (at ``heads``) is not where this step starts, the SQL of each such batch
    says that it is built from the table as it is now."""
    start, end = (parent, revision) if direction == "upgrade" else (revision, parent)
    here = () if start == "base" else (start,)
    elsewhere = "" if tuple(heads) == here else (
        "the database is not where this step starts: this batch SQL is built from the "
        "table as the database holds it now, what runs may differ")
    return _sql(project, [(revision, direction)], dialect, direction, start, end, elsewhere)


def _sql(project: Project, steps: list[tuple[str, str]], dialect: str, direction: str,
         start: str, end: str, elsewhere: str = "") -> str:
    recorded = record_functions(project.script(), steps, dialect)
    wanted = recreated_tables(recorded, dialect)
    live: dict[TableKey, sa.Table | None] = {}
    if wanted:
        def reflect(conn: Connection, _context: Any) -> None:
            live.update({key: live_table(conn, key[1], key[0]) for key in wanted})

        why = read_live(project.config, project.script(), reflect)
        if why == MISSING:  # no database file yet: none of its tables exists
            live.update(dict.fromkeys(wanted))
        # (Not read for another reason: Alembic's own error says the table is needed.)
    with ENV_LOCK, _batches_from(live, elsewhere):
        return project.sql(direction, start, end)


def _key(operation: alembic_ops.MigrateOperation) -> TableKey | None:
    name = getattr(operation, "table_name", None)
    return (getattr(operation, "schema", None), name) if isinstance(name, str) else None


@contextmanager
def _batches_from(live: Mapping[TableKey, sa.Table | None],
                  elsewhere: str = "") -> Iterator[None]:
    """While Alembic renders offline, give each batch without ``copy_from`` its live table
    (or the create_table of this plan that makes it), and note the tables that operations
    before it change; ``elsewhere`` is said of every batch built from a live table.
    Process-wide: the caller holds ENV_LOCK."""
    changed: set[TableKey] = set()
    created: dict[TableKey, sa.Table] = {}
    unknown: set[TableKey] = set()  # created in the plan, then changed beyond what is followed
    grown: dict[TableKey, sa.Table] = {}  # live tables with the columns added before
    batch = Operations.batch_alter_table  # AbstractOperations' own
    invoke = Operations.invoke

    def tracked(key: TableKey) -> sa.Table | None:
        """The table as the steps so far leave it: created in the plan, or a copy of the
        live one that follows what is added to it."""
        if key in created:
            return created[key]
        table = live.get(key)
        if table is not None and key not in grown:
            grown[key] = table.to_metadata(sa.MetaData())
        return grown.get(key)

    def noting_invoke(self: Operations, operation: alembic_ops.MigrateOperation) -> Any:
        key = _key(operation)
        if key is not None:
            changed.add(key)
            if isinstance(operation, alembic_ops.CreateTableOp):
                created[key] = operation.to_table()
                unknown.discard(key)
            else:
                table = tracked(key)
                if table is not None and not _follow(table, operation) and key in created:
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
            elif copy_from is not None and elsewhere:
                note = f"{table_name}: {elsewhere}"
            if copy_from is None and key in live:
                raise MigtuiError(f"The batch SQL of {table_name} cannot be shown: the table "
                                  "does not exist yet")
            if copy_from is not None:
                kw["copy_from"] = _with_overrides(copy_from, kw.get("reflect_args", ()))
        try:
            with batch(self, table_name, schema, *args, **kw) as batch_op:
                yield batch_op
                if note and _recreates(batch_op):  # said where its SQL starts (at the exit)
                    self.migration_context.impl.static_output(f"-- {note}")
        except KeyError as exc:  # the table it was given lacks a column the batch names
            if kw.get("copy_from") is None or key in created:
                raise
            where = " (the database is not where this step starts)" if elsewhere else ""
            raise MigtuiError(f"The batch SQL of {table_name} cannot be shown: the table as "
                              f"the database holds it now has no column {exc}{where}") from exc
        changed.add(key)
        table = tracked(key)
        if table is not None and not _follow_batch(table, batch_op) and key in created:
            unknown.add(key)

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


def _follow(table: sa.Table, operation: alembic_ops.MigrateOperation) -> bool:
    """Apply an added column or index to the table as the steps before the batch leave it;
    False for any other change, or an index on expressions (then the table is not known)."""
    if isinstance(operation, alembic_ops.AddColumnOp):
        table.append_column(operation.column._copy())
        return True
    if not isinstance(operation, alembic_ops.CreateIndexOp):
        return False
    names = [c for c in operation.columns if isinstance(c, str)]
    return len(names) == len(operation.columns) and _index_columns(
        table, names, operation.index_name, bool(operation.unique))


def _follow_batch(table: sa.Table, batch_op: Any) -> bool:
    """Apply a batch that ran in place (no table copy) and only added columns or indexes;
    False for anything else (what a table copy made of the table is not followed)."""
    if _recreates(batch_op):
        return False
    for name, args, _kw in getattr(batch_op.impl, "batch", None) or [("?", (), {})]:
        if name == "add_column" and len(args) > 1 and isinstance(args[1], sa.Column):
            table.append_column(args[1]._copy())
        elif not (name == "create_index" and args and isinstance(args[0], sa.Index)
                  and _index_columns(table, list(args[0].expressions), args[0].name,
                                     bool(args[0].unique))):
            return False
    return True


def _index_columns(table: sa.Table, columns: list[Any], name: str | None,
                   unique: bool) -> bool:
    """Put an index of plain columns on the table; False for expressions or columns it
    does not have."""
    names = [c if isinstance(c, str) else getattr(c, "name", None) for c in columns]
    if not names or not all(isinstance(n, str) and n in table.c for n in names):
        return False
    sa.Index(name, *(table.c[n] for n in names if n), unique=unique)
    return True


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
