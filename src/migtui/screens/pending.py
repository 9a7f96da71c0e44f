"""The pending-changes screen: what autogenerate would write for the models on disk."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from migtui.core.actions.plan import Plan, plan_upgrade
from migtui.core.actions.project import Project
from migtui.core.autogen.diff import AutogenDiff, DiffState, PendingOperation, compute_diff
from migtui.core.models import Snapshot
from migtui.screens.dialogs import PromptScreen, TextScreen
from migtui.screens.state import AppState, SessionScreen
from migtui.widgets.status_line import StatusLine

WARNING_MARK = "⚠"
HINT_MARK = "\N{INFORMATION SOURCE}"


def _revisions(count: int) -> str:
    return f"{count} revision" if count == 1 else f"{count} revisions"


def summary(diff: AutogenDiff | None) -> Text:
    """The state line above the list: what the comparison found, in plain words."""
    text = Text()
    if diff is None:
        text.append("Comparing the models with the database through env.py…")
        return text
    state = diff.state
    if state is DiffState.ERROR:
        text.append(f"✗ {diff.error}", style="bold red")
        text.append("  (e: details, r: retry)", style="dim")
        return text
    if state is DiffState.NO_METADATA:
        text.append("Autogenerate needs target_metadata, and env.py sets none. ", style="bold")
        text.append(f"In {diff.env_file or 'env.py'}, set target_metadata to your models' "
                    "MetaData (e.g. target_metadata = Base.metadata, or SQLModel.metadata) "
                    "and pass it to context.configure(target_metadata=target_metadata).")
        return text
    if state is DiffState.NO_DATABASE:
        text.append("The database does not exist yet", style="bold")
        text.append(f" ({diff.error}): autogenerate compares against what is applied. "
                    "U upgrades it to head first.")
        return text
    if state is DiffState.MATCHES:
        text.append("✓ Models and database match", style="bold green")
        text.append(": autogenerate detects no changes (what alembic check reports).")
    else:
        count = len(diff.operations)
        warned = sum(1 for op in diff.operations if op.loses_data)
        text.append(f"Models and database differ: {count} operation"
                    f"{'' if count == 1 else 's'}", style="bold")
        if warned:
            text.append(f", {warned} {WARNING_MARK} may lose data or fail", style="bold red")
        if diff.at_head:
            text.append(". n writes them as a new revision.")
    if not diff.at_head:
        text.append(f"\n{WARNING_MARK} The database is {_revisions(diff.behind)} behind head; "
                    "autogenerate compares against what is applied. U upgrades to head first "
                    "(Alembic writes no new revision until then).", style="bold yellow")
    return text


def operation_label(op: PendingOperation) -> Text:
    """One row of the list: warning mark, kind, name and a short detail."""
    text = Text("  ", no_wrap=True, overflow="ellipsis")
    text.append(f"{WARNING_MARK} " if op.loses_data else "  ", style="bold red")
    text.append(f"{op.kind:<16} ", style="bold" if op.loses_data else "")
    text.append(op.name or "")
    if op.detail:
        text.append(f"  {op.detail}", style="dim")
    return text


def operation_details(op: PendingOperation, dialect: str) -> Group:
    """The selected operation: what it does, its op.* Python and its SQL."""
    parts: list[RenderableType] = []
    title = Text(f"{op.kind} {op.name}".strip(), style="bold")
    if op.table and op.name != op.table:
        title.append(f" on {op.table}", style="")
    parts.append(title)
    if op.detail:
        parts.append(Text(op.detail))
    if op.warning:
        parts.append(Text(f"{WARNING_MARK} {op.warning}", style="bold red"))
    if op.null_count is not None and not op.warning:
        parts.append(Text(f"No rows have NULL in {op.name}.", style="dim"))
    parts.append(Text("\nAlembic (as autogenerate writes it)", style="bold underline"))
    parts.append(Syntax(op.python or "# (nothing rendered)", "python", theme="ansi_dark",
                        word_wrap=True))
    parts.append(Text(f"\nSQL ({dialect or 'database'} dialect, rendered offline)",
                      style="bold underline"))
    if op.sql:
        parts.append(Syntax(op.sql, "sql", theme="ansi_dark", word_wrap=True))
    else:
        parts.append(Text(f"SQL preview unavailable: {op.sql_error or 'nothing emitted'}",
                          style="dim"))
    return Group(*parts)


class PendingScreen(SessionScreen):
    """The operations autogenerate detects between the models and the database."""

    class PlanRequested(Message):
        """Run this upgrade (to head; the app confirms it first)."""

        def __init__(self, plan: Plan, snapshot: Snapshot) -> None:
            super().__init__()
            self.plan = plan
            self.snapshot = snapshot  # the one the plan was made from

    class NewRevisionRequested(Message):
        """Write the diff as a new revision file with this message."""

        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    class DiffComputed(Message, bubble=False):
        """The comparison of the models with the database finished (posted by a worker)."""

        def __init__(self, diff: AutogenDiff, generation: int) -> None:
            super().__init__()
            self.diff = diff
            self.generation = generation

    HELP = (
        "What `alembic revision --autogenerate` would write for the models as they are on "
        "disk, compared through env.py with the database. Operations are grouped by table; "
        f"{WARNING_MARK} marks ones that may lose data or fail. The right pane shows the "
        "selected operation's Alembic call and SQL, or the whole revision file (f). "
        "n writes the revision; r compares again after you edit the models."
    )

    BINDINGS = [
        Binding("n", "new_revision", "New revision", id="pending.new_revision"),
        Binding("f", "toggle_file", "Operation/File", id="pending.toggle_file"),
        Binding("U", "upgrade_head", "Upgrade to head", id="pending.upgrade_head"),
        Binding("e", "error_details", "Error details", show=False, id="pending.error"),
    ]

    def __init__(self, project: Project, state: AppState) -> None:
        super().__init__(project, state)
        self.diff: AutogenDiff | None = None
        self._generation = 0
        self._under_modal = False
        self._just_started = False

    def compose(self) -> ComposeResult:
        yield StatusLine("Reading revisions…", id="status")
        yield Static(summary(None), id="pending-state")
        yield Static("", id="rename-hint")
        with Horizontal(id="pending-body"):
            yield OptionList(id="pending-ops")
            with TabbedContent(id="pending-tabs"):
                with TabPane("Operation", id="tab-operation"), VerticalScroll():
                    yield Static("", id="operation-details")
                with TabPane("Revision file", id="tab-file"), VerticalScroll():
                    yield Static("", id="revision-file")
        yield Footer()

    def on_mount(self) -> None:
        self.show_state(None, self.state)
        self.query_one("#rename-hint").display = False
        self.query_one(OptionList).focus()

    # -- comparing -----------------------------------------------------------

    def on_screen_suspend(self) -> None:
        screen = self.app.screen
        self._under_modal = screen is not self and isinstance(screen, ModalScreen)

    def on_screen_resume(self) -> None:
        if not self._under_modal:  # a dialog closing is no reason to compare again
            self.compare()
        self._under_modal = False

    def show_state(self, old: AppState | None, new: AppState) -> None:
        if not self.snapshot_changed(old, new):
            return
        self.show_status()
        if self.is_current and self.diff is not None:  # `r`, or the database moved
            self.compare()

    def compare(self) -> None:
        """Run the comparison again (in a worker); older answers are ignored."""
        if self._just_started:  # several requests in one batch of messages run once
            return
        self._just_started = True
        self.call_later(self._end_batch)
        self._generation += 1
        self.query_one("#pending-body").loading = True
        self.query_one("#pending-state", Static).update(summary(None))
        self._compare(self._generation)

    def _end_batch(self) -> None:
        self._just_started = False

    @work(thread=True, group="autogen", exit_on_error=False)
    def _compare(self, generation: int) -> None:
        self.post_message(self.DiffComputed(compute_diff(self.project), generation))

    def on_pending_screen_diff_computed(self, message: PendingScreen.DiffComputed) -> None:
        if message.generation != self._generation:
            return
        self.show_diff(message.diff)

    def show_diff(self, diff: AutogenDiff) -> None:
        """Display a comparison: the state line, the hint, the list and the file."""
        self.diff = diff
        self.query_one("#pending-body").loading = False
        self.query_one("#pending-state", Static).update(summary(diff))
        hint = self.query_one("#rename-hint", Static)
        hint.display = bool(diff.rename_hints)
        hint.update(Text("\n".join(f"{HINT_MARK} {h}" for h in diff.rename_hints)))
        options = self.query_one(OptionList)
        keep = options.highlighted
        options.clear_options()
        for group in diff.tables:
            options.add_option(Option(Text(group.label, style="bold"), disabled=True))
            for op in group.operations:
                options.add_option(Option(operation_label(op),
                                          id=f"op-{diff.operations.index(op)}"))
        if diff.operations:
            first = 1 if keep is None else min(max(keep, 1), options.option_count - 1)
            if options.get_option_at_index(first).disabled:
                first += 1
            options.highlighted = first
        else:
            self._show_empty(diff)
        self.query_one("#revision-file", Static).update(
            Syntax(diff.revision_file, "python", theme="ansi_dark", word_wrap=True)
            if diff.revision_file else Text("No revision file to show.", style="dim"))
        self.refresh_bindings()

    def _show_empty(self, diff: AutogenDiff) -> None:
        words = {
            DiffState.MATCHES: "Nothing to write: autogenerate detects no differences.",
            DiffState.ERROR: "The comparison failed: e shows the details.",
        }
        self.query_one("#operation-details", Static).update(
            Text(words.get(diff.state, "No operations to show."), style="dim"))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        option_id = event.option.id
        if self.diff is None or not option_id or not option_id.startswith("op-"):
            return
        op = self.diff.operations[int(option_id[3:])]
        self.query_one("#operation-details", Static).update(
            operation_details(op, self.diff.dialect))

    @property
    def selected(self) -> PendingOperation | None:
        """The highlighted operation, if any."""
        options = self.query_one(OptionList)
        if self.diff is None or options.highlighted is None:
            return None
        option_id = options.get_option_at_index(options.highlighted).id or ""
        return self.diff.operations[int(option_id[3:])] if option_id.startswith("op-") else None

    # -- actions -------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "upgrade_head":
            return self.diff is not None and (
                not self.diff.at_head or self.diff.state is DiffState.NO_DATABASE)
        return True

    def action_toggle_file(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = "tab-file" if tabs.active == "tab-operation" else "tab-operation"

    def action_error_details(self) -> None:
        diff = self.diff
        if diff is not None and diff.state is DiffState.ERROR:
            self.app.push_screen(TextScreen(diff.error, Text(diff.error_details
                                                             or "(no further details)")))
        else:
            self.show_last_error()

    def action_upgrade_head(self) -> None:
        snapshot = self.ready_for_write()
        if snapshot is None:
            return
        heads = snapshot.graph.heads
        if len(heads) != 1:
            self.notify("There are several heads: upgrade from the graph (g)", severity="warning")
            return
        plan = plan_upgrade(snapshot, heads[0])
        if not plan.steps:
            self.notify("The database is at head")
            return
        self.post_message(self.PlanRequested(plan, snapshot))

    def _why_not_write(self, diff: AutogenDiff | None) -> str:
        if diff is None or self.query_one("#pending-body").loading:
            return "Still comparing the models with the database…"
        if diff.state is DiffState.ERROR:
            return "The comparison failed (e shows why): fix it and press r"
        if diff.state is DiffState.NO_METADATA:
            return "Autogenerate needs target_metadata in env.py"
        if diff.state is DiffState.NO_DATABASE or not diff.at_head:
            return (f"The database is {_revisions(diff.behind)} behind head: Alembic only "
                    "autogenerates against an up-to-date database (U upgrades it)")
        if diff.state is DiffState.MATCHES:
            return "Models and database match: nothing to write"
        return ""

    def action_new_revision(self) -> None:
        reason = self._why_not_write(self.diff)
        if reason:
            self.notify(reason, severity="warning")
            return
        if self.ready_for_write() is None:
            return

        def named(message: str | None) -> None:
            if message:  # the app writes it, then shows it on the graph
                self.post_message(self.NewRevisionRequested(message))

        self.app.push_screen(PromptScreen(
            "Message for the new revision (autogenerate writes the operations listed):",
            placeholder="e.g. add tags"), named)
