"""What the app does when the environments screen asks to bring environments somewhere.

One confirmation for the whole request (the plan of the environment furthest behind,
with its SQL, pre-flight and rehearsal against that environment's live data), the name
typed when an environment is protected, then the plans run in the app's one action
worker, in order, each on its own environment, stopping at the first failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from itertools import groupby
from typing import TYPE_CHECKING

from textual.message import Message

from migtui.core.actions.plan import Plan
from migtui.core.env.imported import changed_since_imported
from migtui.core.environments.bring import bring_all, brought_to, revision_label
from migtui.core.environments.fleet import EnvironmentRead
from migtui.core.models import ActionResult
from migtui.screens.confirm import ConfirmScreen
from migtui.screens.environments import EnvironmentsScreen
from migtui.screens.protected_confirm import ProtectedConfirmScreen
from migtui.tui.writes import Outcome, checks_loader, rehearsal_runner, sql_loader, stale_notice

if TYPE_CHECKING:
    from migtui.tui.app import MigtuiApp


def confirm_bring(app: MigtuiApp, screen: EnvironmentsScreen,
                  message: EnvironmentsScreen.BringRequested) -> None:
    """Confirm a bring request and run it in the app's action worker."""
    if app.state.read_only:
        app.notify("This session is read-only (--read-only): write actions are disabled",
                   severity="warning")
        return
    if app.state.busy:
        app.notify("An action is already running", severity="warning")
        return
    fleet, items = message.fleet, message.items
    shown_read, shown = max(items, key=lambda item: len(item[1].steps))
    env = shown_read.environment
    many = len(items) > 1
    plan = shown
    if many:
        group = env.group or "environments"
        plan = replace(shown, description=(
            f"Bring {len(items)} of {group} to {brought_to(message.source, message.revision)}"
            f", one after another (shown: {env.name}, "
            f"{len(shown.steps)} steps)"))
    project = fleet.project_for(env)
    expected = shown_read.status.current_heads
    sql = checks = rehearsal = None
    if plan.steps:
        sql = sql_loader(project, shown, shown_read.snapshot)
        checks = checks_loader(project, shown, shown_read.status.dialect)
        rehearsal = rehearsal_runner(project, shown, expected)
    protected = [r.environment for r, _ in items if r.environment.protected]
    notice = " ".join(n for n in (_each_plan(items, env.name) if many else "",
                                  stale_notice(changed_since_imported())) if n)

    def answered(yes: bool | None) -> None:
        if not yes:
            return
        if app.state.busy:
            app.notify("An action is already running", severity="warning")
            return
        steps = sum(len(p.steps) for _, p in items)
        app._act(plan.description, steps, shown.action, message.revision,
                 partial(_run, app, screen, message))

    if protected:
        name = protected[0].group or protected[0].name
        app.push_screen(ProtectedConfirmScreen(name, plan, sql, checks, rehearsal,
                                               notice=notice, environment=env.name), answered)
    else:
        app.push_screen(ConfirmScreen(plan, sql, checks, rehearsal, notice=notice,
                                      environment=env.name), answered)


def _run(app: MigtuiApp, screen: EnvironmentsScreen,
         message: EnvironmentsScreen.BringRequested) -> Outcome:
    """In the action worker: every plan in order; the screen hears each outcome."""
    pairs = [(read.environment, plan) for read, plan in message.items]
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        app._post_line(line)  # the log panel and the step k of N progress

    run = bring_all(message.fleet, pairs, message.revision, on_line=on_line,
                    on_outcome=lambda o: _post(screen, screen.Applied(o)))
    _post(screen, screen.Finished(run))
    failed = run.failed
    action = message.items[0][1].action
    result = ActionResult(
        action=action, target=message.revision, ok=failed is None, log=tuple(lines),
        heads_before=message.items[0][0].status.current_heads,
        heads_after=run.outcomes[-1].heads if run.outcomes else (), seconds=sum(
            o.result.seconds for o in run.outcomes if o.result is not None),
        error="" if failed is None else run.summary(),
        steps=tuple(step for o in run.outcomes if o.result is not None for step in o.result.steps),
        error_details="" if failed is None or failed.result is None
        else failed.result.error_details)
    return result, None


def _post(screen: EnvironmentsScreen, message: Message) -> None:
    screen.post_message(message)


def _each_plan(items: Sequence[tuple[EnvironmentRead, Plan]], shown: str) -> str:
    """What each environment of a bring runs, in order: the dialog shows one plan. Those
    next to each other that start from the same revision are told together."""
    runs = groupby(items, key=lambda item: (len(item[1].steps),
                                            revision_label(item[0].status.current_heads)))
    each = "; ".join(
        f"{_names([read.environment.name for read, _ in alike])}: "
        f"{steps} step{'' if steps == 1 else 's'} from {start}"
        for (steps, start), alike in runs)
    return (f"Each runs its own plan, in this order: {each}. Shown: {shown}'s, the longest; "
            "the others run some of the same revisions, each on its own database")


def _names(names: list[str]) -> str:
    if len(names) <= 3:
        return ", ".join(names)
    return f"{names[0]}, {names[1]} and {len(names) - 2} more"
