"""What the app does when the graph asks to rescue an unknown database revision.

The usual confirmation (the steps in order, and what the choice means: the files
restored from git for this run only, or a stamp that leaves the schema as it is), then
the rescue runs in the app's one action worker.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from migtui.core.history.rescue import discard, run_rescue
from migtui.screens.confirm import ConfirmScreen
from migtui.screens.history import GraphHistory
from migtui.tui.writes import Outcome

if TYPE_CHECKING:
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

    app.push_screen(ConfirmScreen(plan, notice=rescue.notice(choice),
                                  environment=app.state.environment), answered)


def _run(app: MigtuiApp, message: GraphHistory.RescueRequested) -> Outcome:
    """In the action worker: the rescue, its lines streamed to the log panel."""
    return run_rescue(app.project, message.rescue, message.choice, app._post_line), None
