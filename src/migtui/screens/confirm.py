"""The confirmation shown before every write action: what runs, its risks, its SQL.

It opens with what the revision files say (the plan's steps, read from the source);
a worker then checks the plan against the live database (each step's operations,
recorded offline, and its risks counted with read-only queries) and replaces that.
``h`` rehearses the plan: its steps run inside one transaction that is rolled back,
and the report says how each step went and that the database is as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from migtui.core.actions.plan import Plan
from migtui.core.errors import MigtuiError, from_exception
from migtui.core.libraries import load
from migtui.screens.preflight_text import (
    describe_preflight,
    describe_rehearsal,
    risk_summary,
)
from migtui.widgets.safe_text import clean, safe
from migtui.widgets.status_line import url_cut

if TYPE_CHECKING:  # the checks import SQLAlchemy: not before the first paint
    from migtui.core.checks.preflight import Preflight
    from migtui.core.checks.rehearsal import Rehearsal

ChecksLoader = Callable[[], "Preflight"]
RehearsalRunner = Callable[[], "Rehearsal"]

# How long a plan offered again (the database or a file moved) is on screen, checked,
# before y applies it: a y typed in the wake of the refused one must not apply a plan
# that nobody has read (as browsers delay the OK of a dialog that pops up under a key).
REOFFER_PAUSE = 1.0


def describe_plan(plan: Plan) -> Text:
    """The ordered steps of a plan with their operations and warnings (from the source)."""
    text = Text()
    if plan.action == "stamp":
        text.append(
            f"Stamping writes {clean(plan.target[:12], one_line=True)} into the "
            "alembic_version table. "
            "No migration runs and no table changes: use it when the schema already "
            "matches that revision.\n"
        )
        return text
    if not plan.steps:
        text.append("Nothing to run: the database is already there.\n")
    for number, step in enumerate(plan.steps, 1):
        text.append(f"{number}. {step.direction} ", style="bold")
        text.append(clean(step.revision[:12], one_line=True), style="bold")
        first = step.message.splitlines()[0] if step.message else ""
        text.append(f"  {clean(first, one_line=True)}\n")
        for op in step.operations:
            text.append(f"     {clean(op, one_line=True)}\n", style="dim")
        for warning in step.warnings:
            text.append(f"     ⚠ {clean(warning, one_line=True)}\n", style="bold")
    return text


class ConfirmScreen(ModalScreen[bool]):
    """Asks before a write action; dismissed with True to apply."""

    # What the dialog's workers post.

    class SqlRendered(Message, bubble=False):
        """The offline SQL of the plan (or why there is none)."""

        def __init__(self, sql: str, error: str = "") -> None:
            super().__init__()
            self.sql = sql
            self.error = error

    class PlanChecked(Message, bubble=False):
        """The plan was checked against the live database (or could not be)."""

        def __init__(self, preflight: Preflight | None, error: MigtuiError | None = None
                     ) -> None:
            super().__init__()
            self.preflight = preflight
            self.error = error

    class RehearsalFinished(Message, bubble=False):
        """The plan ran inside a transaction that was rolled back (or could not run)."""

        def __init__(self, rehearsal: Rehearsal | None, error: MigtuiError | None = None
                     ) -> None:
            super().__init__()
            self.rehearsal = rehearsal
            self.error = error

    BINDINGS = [
        Binding("y", "answer(True)", "Apply", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "Cancel", id="confirm.no"),
        Binding("h", "rehearse", "Rehearse", id="confirm.rehearse"),
        # The body scrolls whatever has focus (a button, at first): what is below the
        # fold at 80x24 is one key away.
        Binding("pagedown", "scroll_body('page_down')", show=False),
        Binding("pageup", "scroll_body('page_up')", show=False),
        Binding("down", "scroll_body('scroll_down')", show=False),
        Binding("up", "scroll_body('scroll_up')", show=False),
    ]

    def __init__(
        self,
        plan: Plan,
        sql_loader: Callable[[], str] | None = None,
        checks: ChecksLoader | None = None,
        rehearse: RehearsalRunner | None = None,
        notice: str = "",
        refusal: str = "",
        reoffered: bool = False,
        environment: str = "",
    ) -> None:
        super().__init__()
        self.plan = plan
        self.environment = environment  # the configured environment it runs on, if any
        self.notice = notice  # what to know first (why the plan is offered again, say)
        self.reoffered = reoffered  # the plan changed under a refused y: y waits a moment
        # Why Alembic would refuse this plan (a broken history): then only Cancel is offered.
        self.refusal = refusal
        self._sql_loader = sql_loader
        self._checks = checks
        self._rehearse = rehearse
        self.preflight: Preflight | None = None
        self.rehearsal: Rehearsal | None = None
        self.rehearsing = False
        self._shown = threading.Event()  # drawn: the workers may start their heavy work
        # y applies only once what the dialog checks and renders is on screen: the user
        # must have been able to see the SQL and the risks of what runs.
        self._awaiting = {name for name, loader in (("sql", sql_loader), ("checks", checks))
                          if loader is not None}
        self._ready_at: float | None = None

    def compose(self) -> ComposeResult:
        plan = self.plan
        with Vertical(id="dialog", classes="confirm"):
            yield Static(safe(f"{plan.description}?", "bold"), id="confirm-title")
            yield Static(self._where(), id="confirm-where")
            notice = Static(safe(f"⚠ {self.notice}", "bold"), id="confirm-notice")
            notice.display = bool(self.notice)
            yield notice
            if self.refusal:
                yield Static(safe(f"✗ {self.refusal}", "bold red"), id="confirm-refusal")
            warning = Static("", id="confirm-warning")
            if plan.destructive:
                warning.update(safe("⚠ This can lose data: " + "; ".join(plan.warnings),
                                    "bold"))
            warning.display = plan.destructive
            yield warning
            with VerticalScroll(id="confirm-body"):
                yield Static("", id="confirm-rehearsal")
                yield Static(describe_plan(plan), id="confirm-steps")
                # After the steps, in the scroll: what the checks say can be long (SQLite's
                # DDL note), and must not leave the plan no room at 80x24.
                checking = "Checking the plan against the database…" if self._checks else ""
                yield Static(Text(checking, style="dim"), id="confirm-checks")
                if self._sql_loader is not None:
                    yield Static("Rendering the SQL…", id="confirm-sql")
            with Horizontal(id="confirm-buttons"):
                if not self.refusal:
                    yield Button("Apply (y)", id="yes", variant="error" if plan.destructive
                                 else "primary")
                if self._rehearse is not None and not self.refusal:
                    yield Button("Rehearse (h)", id="rehearse", disabled=True)
                yield Button("Cancel (n)", id="no")

    def _where(self, width: int = 0) -> Text:
        """Which database the plan runs on: the environment's name, and the URL (password
        masked) and version table that env.py connected to when the plan was made; in
        one line of ``width`` cells when given (a long URL cut in the middle)."""
        where = Text("on ", style="dim")
        if self.environment:
            where.append_text(safe(self.environment, "bold"))
            where.append(": ", style="dim")
        url, _, table = self.plan.database.partition(" (")
        schema, _, name = table.removesuffix(")").rpartition(".")
        # The version table only when it says more than the URL: a schema of its own.
        usual = name == "alembic_version" and schema in ("", "main", "public",
                                                          url.rpartition("/")[2])
        shown = clean(url if usual else self.plan.database, one_line=True)
        room = width - where.cell_len
        if width and 0 < room < cell_len(shown):
            shown = url_cut(shown, max(room, 12))
        where.append(shown or "the database env.py connects to", style="dim")
        return where

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_where)

    def _fit_where(self) -> None:
        where = self.query_one("#confirm-where", Static)
        if where.content_size.width:
            where.update(self._where(where.content_size.width))

    def on_mount(self) -> None:
        # A destructive step must be a deliberate choice: start on Cancel.
        cautious = self.plan.destructive or self.refusal
        self.query_one("#no" if cautious else "#yes", Button).focus()
        self.query_one("#confirm-rehearsal", Static).display = False
        self.query_one("#confirm-checks", Static).display = self._checks is not None
        # The workers start now (a test waiting for workers sees them) but do their work
        # once the dialog is on screen: importing and rendering would hold it up.
        self.call_after_refresh(self._fit_where)
        self.call_after_refresh(self._shown.set)
        self.call_after_refresh(self._arrived, "")
        if self._sql_loader is not None:
            self._render_sql()
        if self._checks is not None:
            self._check_plan()

    # -- workers -------------------------------------------------------------

    @work(description="_render_sql", thread=True, exit_on_error=False, group="sql")
    def _render_sql(self) -> None:
        assert self._sql_loader is not None
        self._shown.wait(timeout=5)
        # Whatever happens, say so: y waits for this (a revision may raise SystemExit).
        try:
            load()  # (once the dialog is drawn: the first import holds the GIL a while)
            self.post_message(self.SqlRendered(self._sql_loader()))
        except BaseException as exc:
            self.post_message(self.SqlRendered("", from_exception(exc).message))

    @work(description="_check_plan", thread=True, exit_on_error=False, group="preflight")
    def _check_plan(self) -> None:
        assert self._checks is not None
        self._shown.wait(timeout=5)
        try:
            load()
            self.post_message(self.PlanChecked(self._checks()))
        except BaseException as exc:  # a check must never take the dialog down
            self.post_message(self.PlanChecked(None, from_exception(exc)))

    @work(description="_run_rehearsal", thread=True, exit_on_error=False, group="rehearsal")
    def _run_rehearsal(self) -> None:
        assert self._rehearse is not None
        try:
            load()
            self.post_message(self.RehearsalFinished(self._rehearse()))
        except BaseException as exc:
            self.post_message(self.RehearsalFinished(None, from_exception(exc)))

    # -- results -------------------------------------------------------------

    def _arrived(self, part: str) -> None:
        """One of the awaited parts is on screen ("": the dialog itself is drawn)."""
        self._awaiting.discard(part)
        if not self._awaiting and self._ready_at is None and self._shown.is_set():
            self._ready_at = time.monotonic()

    def _not_ready(self) -> str:
        """Why y may not apply the plan yet ("" once it may)."""
        if self._ready_at is None:
            return ("Still checking the plan: y applies it once its checks and SQL are "
                    "shown. Nothing ran")
        if self.reoffered and time.monotonic() - self._ready_at < REOFFER_PAUSE:
            return "The plan changed: read it, then press y again. Nothing ran"
        return ""

    def on_confirm_screen_sql_rendered(self, message: ConfirmScreen.SqlRendered) -> None:
        self.call_after_refresh(self._arrived, "sql")  # ready once drawn
        sql = self.query_one("#confirm-sql", Static)
        if message.error:
            sql.update(safe(f"SQL preview unavailable: {message.error}", "dim"))
        else:
            sql.update(Syntax(clean(message.sql.strip()) or "-- no SQL", "sql", word_wrap=True,
                              theme="ansi_dark"))

    def on_confirm_screen_plan_checked(self, message: ConfirmScreen.PlanChecked) -> None:
        self.call_after_refresh(self._arrived, "checks")  # ready once drawn
        checks = self.query_one("#confirm-checks", Static)
        preflight = message.preflight
        if preflight is None:
            error = message.error.message if message.error else "unknown error"
            checks.update(safe(f"The plan could not be checked: {error}", "dim"))
            return
        self.preflight = preflight
        self.query_one("#confirm-steps", Static).update(describe_preflight(preflight))
        warning = self.query_one("#confirm-warning", Static)
        summary = risk_summary(preflight)
        warning.update(summary)
        warning.display = bool(summary.plain)
        checks.update(self._checks_line(preflight))
        if self._rehearse is not None:
            rehearse = self.query_one("#rehearse", Button)
            rehearse.disabled = not preflight.can_rehearse
            rehearse.display = preflight.can_rehearse  # not offered: the line says why
        if preflight.blocking and self.focused is self.query_one("#yes", Button):
            self.query_one("#no", Button).focus()

    def _checks_line(self, preflight: Preflight) -> Text:
        text = Text(style="dim")
        if preflight.missing:
            text.append("The database file does not exist yet: no data to check, nothing "
                        "to rehearse on. ")
            if preflight.no_rollback:
                text.append(f"{clean(preflight.no_rollback)}.", style="bold yellow")
            return text
        if preflight.checked_live:
            text.append("Checked on the live data (read-only). ")
            if preflight.note:
                text.append(f"{clean(preflight.note)}. ")
        elif preflight.note:
            text.append(f"Not checked against the data: {clean(preflight.note)}. ")
        if preflight.no_rollback:
            text.append(f"{clean(preflight.no_rollback)}. ", style="bold yellow")
        if self._rehearse is not None:
            if preflight.can_rehearse:
                text.append("h rehearses: runs the steps in a transaction, then rolls back.")
            else:
                text.append(f"No rehearsal: {clean(preflight.rehearsal)}.")
        return text

    def on_confirm_screen_rehearsal_finished(
            self, message: ConfirmScreen.RehearsalFinished) -> None:
        self.rehearsing = False
        report = self.query_one("#confirm-rehearsal", Static)
        report.display = True
        if message.rehearsal is None:
            error = message.error.message if message.error else "unknown error"
            report.update(safe(f"✗ The rehearsal could not run: {error}", "bold red"))
        else:
            self.rehearsal = message.rehearsal
            report.update(Group(describe_rehearsal(message.rehearsal), Text("")))
        self.query_one("#confirm-body", VerticalScroll).scroll_home(animate=False)
        if self._rehearse is not None:
            self.query_one("#rehearse", Button).disabled = False

    # -- keys ----------------------------------------------------------------

    def action_scroll_body(self, how: str) -> None:
        body = self.query_one("#confirm-body", VerticalScroll)
        {"page_down": body.action_page_down, "page_up": body.action_page_up,
         "scroll_down": body.action_scroll_down, "scroll_up": body.action_scroll_up}[how]()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "rehearse":
            self.action_rehearse()
            return
        self.action_answer(event.button.id == "yes")

    def action_rehearse(self) -> None:
        """Run the plan inside a transaction and roll it back (in a worker)."""
        if self._rehearse is None:
            return
        if self.rehearsing:
            self.notify("The rehearsal is running", severity="warning")
            return
        if self.preflight is None:
            self.notify("Still checking the plan: a moment", severity="warning")
            return
        if not self.preflight.can_rehearse:
            self.notify(f"No rehearsal: {self.preflight.rehearsal}", severity="warning")
            return
        self.rehearsing = True
        self.query_one("#rehearse", Button).disabled = True
        report = self.query_one("#confirm-rehearsal", Static)
        report.display = True
        report.update(Text("Rehearsing: the steps run inside a transaction that is then "
                           "rolled back…", style="bold"))
        self._run_rehearsal()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A refused plan offers only Cancel: y and h are not even listed.
        refused = action == "rehearse" or (action == "answer" and parameters == (True,))
        return not (self.refusal and refused)

    def action_answer(self, yes: bool) -> None:
        if yes and self.refusal:
            self.notify(self.refusal, severity="error")
            return
        if yes and self.rehearsing:
            self.notify("Wait for the rehearsal to finish", severity="warning")
            return
        not_ready = self._not_ready() if yes else ""
        if not_ready:
            self.notify(not_ready, severity="warning")
            return
        self.dismiss(yes)
