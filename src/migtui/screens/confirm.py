"""The confirmation shown before every write action: what runs, its SQL, its risks."""

from __future__ import annotations

from collections.abc import Callable

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from migtui.core.errors import MigtuiError
from migtui.core.plan import Plan
from migtui.tui.messages import SqlRendered


def describe_plan(plan: Plan) -> Text:
    """The ordered steps of a plan with their operations and warnings."""
    text = Text()
    if plan.action == "stamp":
        text.append(
            f"Stamping writes {plan.target[:12]} into the alembic_version table. "
            "No migration runs and no table changes: use it when the schema already "
            "matches that revision.\n"
        )
        return text
    if not plan.steps:
        text.append("Nothing to run: the database is already there.\n")
    for number, step in enumerate(plan.steps, 1):
        text.append(f"{number}. {step.direction} ", style="bold")
        text.append(step.revision[:12], style="bold")
        text.append(f"  {step.message.splitlines()[0] if step.message else ''}\n")
        for op in step.operations:
            text.append(f"     {op}\n", style="dim")
        for warning in step.warnings:
            text.append(f"     ⚠ {warning}\n", style="bold")
    return text


class ConfirmScreen(ModalScreen[bool]):
    """Asks before a write action; dismissed with True to apply."""

    BINDINGS = [
        Binding("y", "answer(True)", "Apply", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "Cancel", id="confirm.no"),
    ]

    def __init__(self, plan: Plan, sql_loader: Callable[[], str] | None = None) -> None:
        super().__init__()
        self.plan = plan
        self._sql_loader = sql_loader

    def compose(self) -> ComposeResult:
        plan = self.plan
        with Vertical(id="dialog", classes="confirm"):
            yield Static(Text(f"{plan.description}?", style="bold"), id="confirm-title")
            if plan.destructive:
                yield Static(
                    Text("⚠ This can lose data: " + "; ".join(plan.warnings), style="bold"),
                    id="confirm-warning",
                )
            with VerticalScroll(id="confirm-body"):
                yield Static(describe_plan(plan), id="confirm-steps")
                if self._sql_loader is not None:
                    yield Static("Rendering the SQL…", id="confirm-sql")
            with Horizontal(id="confirm-buttons"):
                yield Button("Apply (y)", id="yes", variant="error" if plan.destructive
                             else "primary")
                yield Button("Cancel (n)", id="no")

    def on_mount(self) -> None:
        # A destructive step must be a deliberate choice: start on Cancel.
        self.query_one("#no" if self.plan.destructive else "#yes", Button).focus()
        if self._sql_loader is not None:
            self._render_sql()

    @work(thread=True, exit_on_error=False, group="sql")
    def _render_sql(self) -> None:
        assert self._sql_loader is not None
        try:
            self.post_message(SqlRendered("confirm", self._sql_loader()))
        except MigtuiError as exc:
            self.post_message(SqlRendered("confirm", "", exc.message))

    def on_sql_rendered(self, message: SqlRendered) -> None:
        sql = self.query_one("#confirm-sql", Static)
        if message.error:
            sql.update(Text(f"SQL preview unavailable: {message.error}", style="dim"))
        else:
            sql.update(Syntax(message.sql.strip() or "-- no SQL", "sql", word_wrap=True,
                              theme="ansi_dark"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
