"""The pending-changes screen: what autogenerate would write for the models on disk."""

from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from migtui.core.actions.plan import Plan, plan_upgrade
from migtui.core.actions.project import Project
from migtui.core.autogen.choices import Choices, covered_by_renames
from migtui.core.autogen.diff import AutogenDiff, DiffState, PendingOperation, compute_diff
from migtui.core.models import Snapshot
from migtui.core.revisions.watch import FolderWatcher
from migtui.screens.dialogs import PromptScreen, TextScreen
from migtui.screens.pending_review import (
    HINT_MARK,
    WARNING_MARK,
    count_line,
    mark,
    operation_details,
    rename_details,
    rename_label,
    summary,
    type_notes,
    why_not_write,
)
from migtui.screens.state import AppState, SessionScreen
from migtui.widgets.footer import SteadyFooter
from migtui.widgets.safe_text import clean, safe, safe_line, scrub
from migtui.widgets.status_line import StatusLine


def operation_label(op: PendingOperation) -> Text:
    """One row of the list: warning mark, kind, name and a short detail."""
    text = Text("  ", no_wrap=True, overflow="ellipsis")
    text.append(f"{WARNING_MARK} " if op.loses_data else "  ", style="bold red")
    text.append(f"{op.kind:<16} ", style="bold" if op.loses_data else "")
    text.append(clean(op.name or "", one_line=True))
    if op.detail:
        text.append(f"  {clean(op.detail, one_line=True)}", style="dim")
    return text


class PendingScreen(SessionScreen):
    """The operations autogenerate detects between the models and the database."""

    class PlanRequested(Message):
        """Run this upgrade (to head; the app confirms it first)."""

        def __init__(self, plan: Plan, snapshot: Snapshot) -> None:
            super().__init__()
            self.plan = plan
            self.snapshot = snapshot  # the one the plan was made from

    class NewRevisionRequested(Message):
        """Write the diff as a new revision file with this message (and these choices:
        the app passes them to ``write_revision(..., choices=)``), only if it still holds
        what was reviewed (``reviewed``: the diff's body_digest)."""

        def __init__(self, message: str, choices: Choices | None = None,
                     reviewed: str = "") -> None:
            super().__init__()
            self.message = message
            self.choices = choices or Choices()
            self.reviewed = reviewed

    class ModelsChanged(Message, bubble=False):
        """A file in a folder the models come from was saved (posted by the watcher)."""

        def __init__(self, paths: frozenset[str]) -> None:
            super().__init__()
            self.paths = paths

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
        "n writes the revision; r compares again after you edit the models.")

    BINDINGS = [
        Binding("n", "new_revision", "New revision", id="pending.new_revision"),
        Binding("f", "toggle_file", "Operation/File", id="pending.toggle_file"),
        Binding("U", "upgrade_head", "Upgrade to head", id="pending.upgrade_head"),
        Binding("e", "error_details", "Error details", show=False, id="pending.error"),
        Binding("space", "toggle_choice", "Accept/reject", id="pending.toggle_choice"),
        Binding("c", "toggle_cast", "USING cast", show=False, id="pending.toggle_cast"),
    ]

    def __init__(self, project: Project, state: AppState) -> None:
        super().__init__(project, state)
        self.diff: AutogenDiff | None = None
        self._generation = 0
        self._under_modal = False
        self._just_started = False
        self.choices = Choices()  # the user's edits of the diff, kept across comparisons
        self._watcher: FolderWatcher | None = None

    def compose(self) -> ComposeResult:
        yield StatusLine("Reading revisions…", id="status")
        yield Static(summary(None), id="pending-state")
        yield Static("", id="pending-choices")
        yield Static("", id="rename-hint")
        with Horizontal(id="pending-body"):
            yield OptionList(id="pending-ops")
            with TabbedContent(id="pending-tabs"):
                with TabPane("Operation", id="tab-operation"), VerticalScroll():
                    yield Static("", id="operation-details")
                with TabPane("Revision file", id="tab-file"), VerticalScroll():
                    yield Static("", id="revision-file")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.show_state(None, self.state)
        self.query_one("#rename-hint").display = False
        self.query_one(OptionList).focus()

    # -- comparing -----------------------------------------------------------

    def on_screen_suspend(self) -> None:
        screen = self.app.screen
        self._under_modal = screen is not self and isinstance(screen, ModalScreen)
        if not self._under_modal:  # away from the screen: no live re-diff
            self._watch_models(())

    def on_screen_resume(self) -> None:
        if not self._under_modal:  # a dialog closing is no reason to compare again
            self.compare()
        self._under_modal = False

    def on_unmount(self) -> None:
        self._watch_models(())

    def _watch_models(self, files: tuple[str, ...]) -> None:
        """Watch the folders of these files (none: stop); saving one compares again."""
        folders = tuple(sorted({str(Path(f).parent) for f in files}))
        if self._watcher is not None and self._watcher.folders == folders \
                and self._watcher.running:
            return
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        if folders:
            self._watcher = FolderWatcher(
                folders, lambda paths: self.post_message(self.ModelsChanged(paths))).start()

    def on_pending_screen_models_changed(self, message: PendingScreen.ModelsChanged) -> None:
        if self.is_current:
            self.compare()

    def show_state(self, old: AppState | None, new: AppState) -> None:
        if not self.snapshot_changed(old, new):
            return
        self.show_status()
        if self.is_current and self.diff is not None:  # `r`, or the database moved
            self.compare()

    def compare(self, quiet: bool = False) -> None:
        """Run the comparison again (in a worker); older answers are ignored. ``quiet``:
        only the file is re-rendered for new choices; the list stays as it is."""
        if quiet:
            self.query_one("#revision-file", Static).update(
                Text("Rendering the file with your choices…", style="dim"))
        else:
            self.query_one("#pending-body").loading = True
            self.query_one("#pending-state", Static).update(summary(None))
        self._generation += 1  # (answers to the requests before are not wanted)
        if self._just_started:  # several requests in one batch of messages run once,
            return  # with the choices of the last (two toggles typed at once: both)
        self._just_started = True
        self.call_later(self._start_batch)

    def _start_batch(self) -> None:
        self._just_started = False
        self._compare(self._generation, self.choices)

    @work(description="_compare", thread=True, group="autogen", exit_on_error=False)
    def _compare(self, generation: int, choices: Choices) -> None:
        # Not needs_libraries: the comparison runs in a process of its own, so this one
        # need not import Alembic and SQLAlchemy first (a first `a` typed right after
        # the database was read waited for that).
        self.post_message(self.DiffComputed(compute_diff(self.project, choices=choices),
                                            generation))

    def on_pending_screen_diff_computed(self, message: PendingScreen.DiffComputed) -> None:
        if message.generation != self._generation:
            return
        self.show_diff(message.diff)

    def show_diff(self, diff: AutogenDiff) -> None:
        """Display a comparison: the state line, the hint, the list and the file."""
        self.diff = diff
        if diff.state is DiffState.DIFFERS:  # the choices that still apply
            self.choices = diff.choices
        if diff.model_files or diff.state is not DiffState.ERROR:  # (failed: keep watching)
            self._watch_models(diff.model_files)
        self.query_one("#pending-body").loading = False
        hint = self.query_one("#rename-hint", Static)
        hint.display = bool(diff.rename_hints) and not diff.renames
        hint.update(safe("\n".join(f"{HINT_MARK} {h}" for h in diff.rename_hints)))
        self._fill_list(diff)
        self.query_one("#revision-file", Static).update(
            Syntax(clean(diff.revision_file), "python", theme="ansi_dark", word_wrap=True)
            if diff.revision_file else Text("No revision file to show.", style="dim"))
        self.refresh_bindings()

    def _fill_list(self, diff: AutogenDiff) -> None:
        """The operations under their tables, marked as chosen, with the renames offered."""
        self.query_one("#pending-state", Static).update(scrub(summary(diff, self.choices)))
        self.query_one("#pending-choices", Static).update(count_line(diff, self.choices))
        options = self.query_one(OptionList)
        keep = options.highlighted
        options.clear_options()
        covered = covered_by_renames(diff.renames, self.choices)
        for group in diff.tables:
            options.add_option(Option(safe_line(group.label, "bold"), disabled=True))
            for op in group.operations:
                label = Text(mark(op, self.choices, covered), no_wrap=True, overflow="ellipsis")
                label.append_text(operation_label(op))
                if op.key in self.choices.rejected and op.key not in covered:
                    label.stylize("dim strike", 3)
                options.add_option(Option(label, id=f"op-{diff.operations.index(op)}"))
            for index, rename in enumerate(diff.renames):
                if (rename.table if rename.what == "column" else rename.new) == group.table:
                    options.add_option(Option(
                        rename_label(rename, rename.key in self.choices.renames),
                        id=f"rn-{index}"))
        if diff.operations:
            first = 1 if keep is None else min(max(keep, 1), options.option_count - 1)
            if options.get_option_at_index(first).disabled:
                first += 1
            options.highlighted = first
        else:
            self._show_empty(diff)

    def _show_empty(self, diff: AutogenDiff) -> None:
        words = {
            DiffState.MATCHES: "Nothing to write: autogenerate detects no differences.",
            DiffState.ERROR: "The comparison failed: e shows the details.",
        }
        self.query_one("#operation-details", Static).update(
            Text(words.get(diff.state, "No operations to show."), style="dim"))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show_details(event.option.id)

    def _show_details(self, option_id: str | None) -> None:
        if self.diff is None or not option_id:
            return
        details = self.query_one("#operation-details", Static)
        if option_id.startswith("rn-"):
            rename = self.diff.renames[int(option_id[3:])]
            details.update(_scrubbed(rename_details(rename, rename.key in self.choices.renames)))
        elif option_id.startswith("op-"):
            op = self.diff.operations[int(option_id[3:])]
            shown = operation_details(op, self.diff.dialect)
            details.update(_scrubbed(Group(*type_notes(op, self.choices), *shown.renderables)))

    @property
    def selected(self) -> PendingOperation | None:
        """The highlighted operation, if any."""
        options = self.query_one(OptionList)
        if self.diff is None or options.highlighted is None:
            return None
        option_id = options.get_option_at_index(options.highlighted).id or ""
        return self.diff.operations[int(option_id[3:])] if option_id.startswith("op-") else None

    # -- actions -------------------------------------------------------------

    WRITE_ACTIONS = frozenset({"new_revision", "upgrade_head"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not super().check_action(action, parameters):
            return False
        if action == "upgrade_head":
            return self.diff is not None and (
                not self.diff.at_head or self.diff.state is DiffState.NO_DATABASE)
        return True

    def _highlighted_id(self) -> str:
        options = self.query_one(OptionList)
        if options.highlighted is None or options.option_count == 0:
            return ""
        return options.get_option_at_index(options.highlighted).id or ""

    def _rechoose(self, choices: Choices) -> None:
        """New choices: the list and count at once, the file from a new comparison."""
        if self.diff is None:
            return
        self.choices = choices
        self._fill_list(self.diff)
        self._show_details(self._highlighted_id())
        self.compare(quiet=True)

    def action_toggle_choice(self) -> None:
        """space: accept or reject the highlighted operation, or accept a rename."""
        option_id, diff = self._highlighted_id(), self.diff
        if diff is None or not option_id:
            return
        if option_id.startswith("rn-"):
            self._rechoose(self.choices.toggled("renames", diff.renames[int(option_id[3:])].key))
            return
        op = diff.operations[int(option_id[3:])]
        for rename in diff.renames:  # a part of an accepted rename: undo the rename
            if rename.key in self.choices.renames and op.key in rename.replaces:
                self._rechoose(self.choices.toggled("renames", rename.key))
                return
        self._rechoose(self.choices.toggled("rejected", op.key))

    def action_toggle_cast(self) -> None:
        """c: add or remove PostgreSQL's USING cast on the highlighted type change."""
        option_id, diff = self._highlighted_id(), self.diff
        op = (diff.operations[int(option_id[3:])]
              if diff is not None and option_id.startswith("op-") else None)
        if op is None or not op.cast:
            self.notify("c adds a USING cast to a type change PostgreSQL cannot make without "
                        "one", severity="warning")
            return
        self._rechoose(self.choices.toggled("casts", op.key))

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
        if self.history_refused(snapshot):
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

    def action_new_revision(self) -> None:
        diff, choices = self.diff, self.choices
        loading = diff is None or self.query_one("#pending-body").loading
        reason = why_not_write(None if loading else diff, choices)
        if reason:
            self.notify(reason, severity="warning")
            return
        if self.ready_for_write() is None:
            return
        assert diff is not None

        def named(message: str | None) -> None:
            if message:  # the app writes it (if it still holds what was shown), then
                # shows it on the graph
                self.post_message(self.NewRevisionRequested(message, choices,
                                                            diff.body_digest))

        self.app.push_screen(PromptScreen(
            "Message for the new revision (autogenerate writes the operations listed):",
            placeholder="e.g. add tags"), named)


def _scrubbed(group: Group) -> Group:
    """Names from the models and the database, with control characters made visible."""
    return Group(*(scrub(part) if isinstance(part, Text) else part
                   for part in group.renderables))
