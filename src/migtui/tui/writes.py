"""What the app's write path runs for a confirmed plan, and the SQL its dialog shows.

The functions that touch the database block: the app calls them in its one action
worker (`MigtuiApp._run_action`), never on the UI thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeAlias

from textual.notifications import SeverityLevel

from migtui.core.actions.plan import Plan, replan
from migtui.core.actions.project import Project
from migtui.core.env.imported import changed_since_imported, short_names
from migtui.core.env.watch import Watch
from migtui.core.errors import MigtuiError, from_exception
from migtui.core.models import ActionResult, Snapshot, heads_label

# The checks, the inspector and the ledger import SQLAlchemy: each is imported by the
# worker that first needs it, never before the first paint.
if TYPE_CHECKING:
    from migtui.core.checks.preflight import Preflight
    from migtui.core.checks.rehearsal import Rehearsal
    from migtui.core.schema.model import SchemaInfo

LineSink = Callable[[str], None]
# What an action job returns: its result, and the tables from before it (if read).
Outcome: TypeAlias = "tuple[ActionResult, SchemaInfo | None]"

_VERB = {"upgrade": "Upgraded", "downgrade": "Downgraded", "stamp": "Stamped",
         "merge": "Wrote the merge revision", "revision": "Wrote revision"}


def failed(action: str, target: str, exc: BaseException | None = None) -> ActionResult:
    """The result of an action that raised (or never got to return)."""
    if exc is None:
        return ActionResult(action, target, False, (), (), (), 0.0,
                            error=f"{action.capitalize()} did not finish")
    err = from_exception(exc, f"{action.capitalize()} failed")
    return ActionResult(action, target, False, (), (), (), 0.0,
                        error=err.message, error_details=err.details)


def apply_plan(project: Project, plan: Plan, read_before: bool, on_line: LineSink,
               watch: Watch) -> Outcome:
    """Run a confirmed plan exactly as confirmed, or not at all (``Project.run_plan``
    checks the heads, the steps and every file's hash inside the env.py run).

    ``read_before``: also read the tables first, for the change marks of a tables
    screen that does not exist yet (bounded by the lock timeout, and never a reason
    not to run: no marks beat no action).
    """
    from migtui.core.history.applied import record_applied

    before = read_schema_quietly(project) if read_before else None
    result = project.run_plan(plan, on_line, watch)
    record_applied(project, result, plan)  # what ran and its file's hash: the ✎ marks
    return result, before


def read_schema_quietly(project: Project) -> SchemaInfo | None:
    """The tables now, or None if they cannot be read (no marks beat no action)."""
    from migtui.core.schema.inspector import DatabaseInspector

    inspector = DatabaseInspector(project)
    try:
        return inspector.read_schema()
    except Exception:
        return None
    finally:
        inspector.close()


def checks_loader(project: Project, plan: Plan, dialect: str) -> Callable[[], Preflight]:
    """The plan's pre-flight checks on the live database (for the dialog's worker)."""

    def load() -> Preflight:
        from migtui.core.checks.preflight import check_plan

        return check_plan(project, plan, dialect)

    return load


def rehearsal_runner(project: Project, plan: Plan,
                     expected: tuple[str, ...]) -> Callable[[], Rehearsal]:
    """The plan rehearsed in a transaction that is rolled back (for the dialog's h)."""

    def run() -> Rehearsal:
        from migtui.core.checks.rehearsal import rehearse

        return rehearse(project, plan, expected)

    return run


def sql_loader(project: Project, plan: Plan, snapshot: Snapshot) -> Callable[[], str]:
    """Offline SQL of the plan, as `alembic upgrade/downgrade START:END --sql` (batch
    steps rendered from the live tables)."""
    heads = snapshot.database.current_heads
    dialect = snapshot.database.dialect

    def plan_sql(direction: str, start: str, end: str) -> str:
        from migtui.core.checks.batch_sql import plan_sql

        return plan_sql(project, plan, dialect, direction, start, end)

    def unavailable(why: str) -> Callable[[], str]:
        def fail() -> str:
            raise MigtuiError(why)
        return fail

    if len(heads) > 1:
        return unavailable("SQL preview needs the database on a single revision")
    start = heads[0] if heads else "base"
    if plan.action == "upgrade":
        return lambda: plan_sql("upgrade", start, plan.target)
    # (a downgrade's target is a revision or base: REV@-1 is planned only from several
    # heads, which have no single range)
    return lambda: plan_sql("downgrade", start, plan.target)


def confirmation(plan: Plan, snapshot: Snapshot, notice: str = "") -> tuple[Plan, str]:
    """The plan pinned to the project's modules as they are now (a step is refused if
    one changes before it runs), and what its dialog says first: ``notice``, a step that
    stopped halfway before, modules that changed since this process imported them."""
    plan = replace(plan, stale_modules=changed_since_imported())
    said = (notice, partial_notice(plan, snapshot), stale_notice(plan.stale_modules))
    return plan, " ".join(n for n in said if n)


def offer_again(plan: Plan, why: str, snapshot: Snapshot
                ) -> tuple[Plan | None, str, SeverityLevel]:
    """After a refused plan (``why``): the same request made anew from ``snapshot`` and
    the notice its dialog starts with, or None and what to say instead."""
    if snapshot.graph.problems:  # (Alembic would refuse any plan)
        return None, f"{why}. Fix the revision files, then r re-reads them", "error"
    new = replan(plan, snapshot) if snapshot.database.reachable else None
    if new is None:
        return None, f"{why}. Plan again on the graph.", "warning"
    if not new.steps and new.action != "stamp":
        return None, f"{why}. The database is already where you asked: nothing to do.", \
            "warning"
    return new, (f"{why}. This is the plan for the database and the files as they are "
                 "now."), "information"


def stale_notice(paths: Sequence[str] | None) -> str:
    """Modules of the project changed on disk since this process imported them: the
    step runs with the old copies (the URL env.py builds, helpers of the revisions)."""
    if not paths:
        return ""
    return (f"{short_names(paths, os.getcwd())} changed on disk after migtui imported "
            f"{'it' if len(paths) == 1 else 'them'}: env.py and the revisions run with the "
            "copy imported first. That matters only if they take something from it (the "
            "URL env.py builds, a helper, an Enum); then quit and start migtui again")


def partial_notice(plan: Plan, snapshot: Snapshot) -> str:
    """What the dialog says first when the plan runs again a step that stopped halfway
    (part of it stayed in the database): "" when it does not."""
    from migtui.core.actions.halfway import FORGET_COMMAND

    partial = snapshot.partial
    if partial is None or not any(s.revision.startswith(partial.revision)
                                  for s in plan.steps):
        return ""
    stayed = len(partial.statements)
    return (f"{partial.step} stopped halfway before: {stayed} statement"
            f"{'s' if stayed != 1 else ''} of it stayed in the database (e lists them), so "
            "running it again may fail on what is already there. Repair that by hand "
            f"first, then ctrl+p \"{FORGET_COMMAND}\"")


def done_text(result: ActionResult) -> str:
    """The notification after an action that went well."""
    what = result.new_revision[:12] if result.new_revision else heads_label(result.heads_after)
    ran = len(result.steps)
    count = (f" {ran} revision{'s' if ran != 1 else ''}"
             if result.action in ("upgrade", "downgrade") else "")
    if result.action in ("merge", "revision"):  # a file written: the database is as it was
        return (f"{_VERB[result.action]} {what}: u applies it ({result.seconds:.2f} s)"
                if result.new_revision else f"{_VERB[result.action]} ({result.seconds:.2f} s)")
    return (f"{_VERB.get(result.action, result.action)}{count}: now at {what} "
            f"({result.seconds:.2f} s)")
