"""Pre-flight: what each step of a plan will do to this database, before it runs.

For every step: its operations, recorded offline (``core.checks.recorder``); the risks the
rules find in them (``core.checks.risks``, ``core.checks.typefit``), counted on the live database
where the data decides (``core.checks.probes``); and whether the plan can be rehearsed
(``core.checks.rehearsal``). Everything here only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from alembic.operations import ops as alembic_ops

from migtui.core.actions.halfway import no_rollback
from migtui.core.actions.plan import Plan, PlanStep
from migtui.core.checks.mysql import mysql_rules
from migtui.core.checks.probes import measure
from migtui.core.checks.recorder import Recorded, RecordedFunction, describe, record_functions
from migtui.core.checks.rehearsal import rehearsal_blocker
from migtui.core.checks.risks import (
    BAD_DATA,
    BIG_TABLE_ROWS,
    BREAKS_CODE,
    IRREVERSIBLE,
    LOCKS,
    LOSES_DATA,
    RAW_SQL,
    WILL_FAIL,
    Context,
    Found,
    PlanState,
    Probe,
    Risk,
    add_column,
    create_index,
    drop_column,
    drop_table,
    duplicates,
    orphans,
    sqlite_alter,
    sqlite_recreates,
    table_of,
)
from migtui.core.checks.typefit import alter_column_risks
from migtui.core.env.mysql import is_mysql
from migtui.core.revisions.source import read_function

if TYPE_CHECKING:
    from migtui.core.actions.project import Project

# The order risks are listed in: what stops the step first.
ORDER = (WILL_FAIL, LOSES_DATA, BAD_DATA, LOCKS, BREAKS_CODE, IRREVERSIBLE, RAW_SQL)


@dataclass(frozen=True)
class CheckedStep:
    """One step of a plan: its operations, in order, and what they risk here."""

    revision: str
    message: str
    direction: str
    operations: tuple[str, ...]
    risks: tuple[Risk, ...]
    note: str = ""  # e.g. why the operations were read from the source


@dataclass(frozen=True)
class Preflight:
    """A plan checked against the live database."""

    steps: tuple[CheckedStep, ...]
    checked_live: bool  # the counts come from the database
    note: str = ""  # why (some) checks did not run
    rehearsal: str = ""  # empty when the plan can be rehearsed; else why it cannot
    missing: bool = False  # the SQLite file does not exist yet
    # Empty when a step that fails is rolled back on this database; else what happens
    # instead (MySQL/MariaDB: DDL commits as it runs; SQLite: DDL before a step's first
    # data change commits at once), as the confirmation says it.
    no_rollback: str = ""
    # A step that fails halfway stays half applied whatever it ran (MySQL/MariaDB): said
    # next to the title, not only in the body, where it may be below the fold.
    stays_halfway: bool = False

    @property
    def risks(self) -> tuple[Risk, ...]:
        """Every risk of every step, in plan order."""
        return tuple(r for step in self.steps for r in step.risks)

    @property
    def blocking(self) -> bool:
        """Some step will fail or lose data as the database stands."""
        return any(r.blocking for r in self.risks)

    @property
    def can_rehearse(self) -> bool:
        """The steps can run inside one transaction that is rolled back."""
        return not self.rehearsal


@dataclass(frozen=True)
class FunctionOperations:
    """upgrade() or downgrade() of one revision, for the revision details."""

    name: str
    operations: tuple[str, ...]
    risks: tuple[Risk, ...]  # those that hold whatever the data
    note: str = ""


def _batches(fn: RecordedFunction) -> dict[int, bool]:
    """For each operation inside a batch: does that batch copy the table on SQLite?"""
    result: dict[int, bool] = {}
    group: list[tuple[int, Recorded]] = []
    for index, rec in enumerate([*fn.ops, Recorded(alembic_ops.MigrateOperation())]):
        if group and rec.batch != group[-1][1].batch:
            recreates = sqlite_recreates([r for _, r in group])
            result.update({i: recreates for i, _ in group})
            group = []
        if rec.batch is not None:
            group.append((index, rec))
    return result


def _rules(c: Context) -> list[Found]:
    return [*_generic_rules(c), *mysql_rules(c)]


def _generic_rules(c: Context) -> list[Found]:
    op = c.rec.op
    if isinstance(op, alembic_ops.ExecuteSQLOp):
        return [c.risk(RAW_SQL, "migtui cannot tell what it does to the data: review it")]
    if isinstance(op, alembic_ops.DropTableOp):
        return drop_table(c, op)
    if isinstance(op, alembic_ops.DropColumnOp):
        return drop_column(c, op)
    if isinstance(op, alembic_ops.AddColumnOp):
        return add_column(c, op)
    if isinstance(op, alembic_ops.AlterColumnOp):
        return alter_column_risks(c, op)
    if isinstance(op, alembic_ops.CreateIndexOp):
        return create_index(c, op)
    if isinstance(op, alembic_ops.CreateUniqueConstraintOp):
        return sqlite_alter(c) or duplicates(c, table_of(op), list(op.columns), {})
    if isinstance(op, alembic_ops.CreateForeignKeyOp):
        return sqlite_alter(c) or orphans(c, op)
    if isinstance(op, alembic_ops.AddConstraintOp | alembic_ops.DropConstraintOp):
        return sqlite_alter(c)
    return []


def step_risks(fn: RecordedFunction, state: PlanState, dialect: str) -> list[Found]:
    """Risks and probes of one recorded step; ``state`` learns what the step does."""
    found: list[Found] = []
    recreates = _batches(fn)
    for index, rec in enumerate(fn.ops):
        context = Context(fn.revision, describe(rec, fn.dialect), rec, state, dialect,
                          recreates.get(index))
        found.extend(_rules(context))
        state.advance(rec.op)
    return found


def _function_risks(step: PlanStep, fn: RecordedFunction, path: str | None) -> list[Risk]:
    """What the source says whatever the data: raises, empty downgrade, static fallback."""
    risks: list[Risk] = []
    name = step.direction
    if fn.error and not fn.static:
        risks.append(Risk(WILL_FAIL, step.revision, f"{name}()", f"{name}() raises: {fn.error}"))
    info = read_function(path, name)
    if fn.static and info is not None:
        for warning in info.warnings:
            kind = RAW_SQL if "raw SQL" in warning else LOSES_DATA
            risks.append(Risk(kind, step.revision, f"{name}()", f"{warning} (not counted)"))
    down = read_function(path, "downgrade")
    up = info if name == "upgrade" else read_function(path, "upgrade")
    if down is not None and down.empty and up is not None and up.empty:
        down = None  # both empty (a merge point, say): nothing to undo, nothing lost
    if name == "upgrade" and down is not None and (down.empty or down.raises):
        what = "is empty" if down.empty else "raises"
        risks.append(Risk(IRREVERSIBLE, step.revision, "downgrade()",
                          f"downgrade() {what}: nothing undoes this step",
                          "write a downgrade() that reverses it, if it can be reversed"))
    if name == "downgrade" and down is not None and down.empty:
        risks.append(Risk(IRREVERSIBLE, step.revision, "downgrade()",
                          "downgrade() is empty: what the upgrade did stays in the database"))
    return risks


def _note(fn: RecordedFunction) -> str:
    if fn.static:
        return (f"operations read from the source: {fn.name}() could not run offline "
                f"({fn.error})")
    return ""


def check_plan(project: Project, plan: Plan, dialect: str,
               big_table: int = BIG_TABLE_ROWS) -> Preflight:
    """Record every step of ``plan``, find its risks, count them on the live database."""
    if plan.action == "stamp" or not plan.steps:
        return Preflight((), False, rehearsal="nothing runs: there is nothing to rehearse")
    script = project.script()
    graph = project.graph()
    recorded = record_functions(script, [(s.revision, s.direction) for s in plan.steps],
                                dialect)
    state = PlanState()
    static: list[list[Risk]] = []
    probes: list[tuple[int, int, Probe]] = []  # (step, position, probe)
    for number, (step, fn) in enumerate(zip(plan.steps, recorded, strict=True)):
        rev = graph.get(step.revision)
        risks = _function_risks(step, fn, rev.path if rev else None)
        for found in step_risks(fn, state, dialect) if not fn.static else []:
            if isinstance(found, Probe):
                probes.append((number, len(risks), found))
            else:
                risks.append(found)
        static.append(risks)
    # Even without probes: whether the database is there decides the rehearsal.
    live = measure(project.config, script, [p for _, _, p in probes], big_table)
    counted: list[list[Risk]] = [[] for _ in plan.steps]
    for index, (number, _, _) in enumerate(probes):
        if index in live.risks:
            counted[number].append(live.risks[index])
    steps = tuple(
        CheckedStep(
            step.revision, step.message, step.direction, fn.descriptions,
            tuple(sorted([*static[n], *counted[n]], key=lambda r: ORDER.index(r.kind))),
            _note(fn),
        )
        for n, (step, fn) in enumerate(zip(plan.steps, recorded, strict=True))
    )
    rehearsal = rehearsal_blocker(plan, recorded, dialect)
    if not rehearsal and not live.checked:
        rehearsal = ("there is no database to rehearse on yet" if live.missing
                     else "the database could not be reached")
    return Preflight(steps, checked_live=live.checked, note=live.note, rehearsal=rehearsal,
                     missing=live.missing, no_rollback=no_rollback(dialect),
                     stays_halfway=is_mysql(dialect))


def revision_operations(project: Project, revision: str, dialect: str) -> tuple[
        FunctionOperations, ...]:
    """The recorded operations of a revision's upgrade() and downgrade(), for details."""
    script = project.script()
    found = []
    for fn in record_functions(script, [(revision, "upgrade"), (revision, "downgrade")],
                               dialect):
        name = fn.name
        risks = [f for f in step_risks(fn, PlanState(), dialect) if isinstance(f, Risk)] \
            if not fn.static else []
        if fn.error and not fn.static:
            risks.insert(0, Risk(WILL_FAIL, revision, f"{name}()", f"{name}() raises: {fn.error}"))
        found.append(FunctionOperations(name, fn.descriptions, tuple(risks), _note(fn)))
    return tuple(found)
