"""What the app does when the graph asks to rescue an unknown database revision.

The usual confirmation (the steps in order, and what the choice means: the files
restored from git for this run only, or a stamp that leaves the schema as it is), then
the rescue runs in the app's one action worker.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from migtui.core.history.rescue import Rescue, discard, run_rescue, temp_project
from migtui.screens.confirm import ConfirmScreen
from migtui.screens.history import GraphHistory
from migtui.tui.writes import Outcome

if TYPE_CHECKING:
    from migtui.core.actions.plan import Plan
    from migtui.core.actions.project import Project
    from migtui.core.checks.preflight import Preflight
    from migtui.tui.app import MigtuiApp


def confirm_rescue(app: MigtuiApp, message: GraphHistory.RescueRequested) -> None:
    """Confirm a rescue and run it in the app's action worker."""
    rescue, choice = message.rescue, message.choice
    refusal = app.state.write_refusal()
    if refusal is not None:
        app.notify(refusal[0], severity=refusal[1])
        discard(rescue)
        return
    plan = rescue.plan(choice)

    def answered(yes: bool | None) -> None:
        if not yes:
            discard(rescue)
            return
        if app.state.busy:
            app.notify("An action is already running", severity="warning")
            discard(rescue)
            return
        app._act(plan.description, len(plan.steps), plan.action, plan.target,
                 partial(_run, app, message))

    restore = choice == "restore" and rescue.down is not None
    dialect = app.state.snapshot.database.dialect if app.state.snapshot else ""
    app.push_screen(ConfirmScreen(
        plan, partial(_rescue_sql, app.project, rescue, dialect) if restore else None,
        partial(_rescue_checks, app.project, rescue, plan, dialect) if restore else None,
        notice=rescue.notice(choice), environment=app.state.environment), answered)


def _rescue_checks(project: Project, rescue: Rescue, plan: Plan, dialect: str) -> Preflight:
    """The restore's steps checked on the live data, as every step is (in the dialog's
    worker): the restored files' downgrades, then the upgrades of the working tree."""
    from migtui.core.checks.preflight import check_plan

    return check_plan(temp_project(project, rescue.folder), plan, dialect)


def _rescue_sql(project: Project, rescue: Rescue, dialect: str) -> str:
    """Offline SQL of the restore: the downgrade with the restored files, then the
    upgrade along the working tree's branch (in the dialog's worker)."""
    from migtui.core.checks.batch_sql import plan_sql

    assert rescue.down is not None
    restored = temp_project(project, rescue.folder)
    parts = [plan_sql(restored, rescue.down, dialect, "downgrade", rescue.unknown,
                      rescue.ancestor)]
    if rescue.up is not None and rescue.up.steps:
        parts.append(plan_sql(project, rescue.up, dialect, "upgrade", rescue.ancestor,
                              rescue.head))
    return "\n\n".join(parts)


def _run(app: MigtuiApp, message: GraphHistory.RescueRequested) -> Outcome:
    """In the action worker: the rescue, its lines streamed to the log panel."""
    return run_rescue(app.project, message.rescue, message.choice, app._post_line), None
