"""History that helps: rescue an unknown database revision, edit marks, a table's history.

* :class:`RescueScreen` says where the database's unknown revision came from (git) and
  offers ``a`` (restore its files for this run, downgrade to the common ancestor,
  upgrade along this branch) or ``b`` (stamp the ancestor); the app confirms and runs.
* :class:`EditMarks` is the graph screen's part: it reads which applied revisions were
  edited since migtui applied them, and shows a diff against the applied version.
* :class:`TableHistoryScreen` lists the revisions that touch one table; enter asks the
  app to show the revision on the graph.

Everything from files, git and databases is shown as ``Text``, never as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from migtui.core.actions.project import Project
from migtui.core.errors import MigtuiError, from_exception
from migtui.core.history.applied import EditedRevision, applied_version_diff, edited_revisions
from migtui.core.history.rescue import Rescue, discard, find_rescue
from migtui.core.libraries import needs_libraries
from migtui.core.models import Revision, Snapshot
from migtui.screens.dialogs import TextScreen
from migtui.screens.state import SessionScreen
from migtui.widgets.safe_text import clean, safe, safe_line, scrub

if TYPE_CHECKING:
    from migtui.core.history.tables import TableHistory
    from migtui.core.schema.model import TableRef


def rescue_text(rescue: Rescue) -> Text:
    """What the rescue dialog says about where the unknown revision came from."""
    text = Text()
    text.append(f"The database is on {rescue.unknown[:12]}, which no file here defines.\n\n",
                "bold")
    if not rescue.found:
        text.append(f"✗ {rescue.why}.\n\n")
        text.append("What is left: s on the graph stamps any revision (the version table is "
                    "purged first); the schema is not changed.\n")
        return text
    first = rescue.chain[0].commit
    text.append(f"Found in git commit {first.short} ({first.date[:10]}): ")
    text.append(f"{first.subject}\n")
    text.append(f"on branch(es): {', '.join(first.branches) or '(no branch)'}\n\n")
    text.append("Its chain down to a revision this branch knows:\n")
    for m in rescue.chain:
        text.append(f"  {m.revision[:12]}  {m.message}  ({m.path}, commit {m.commit.short})\n")
        for op in m.operations:
            text.append(f"      {op}\n", "dim")
    text.append(f"  {rescue.ancestor[:12]}  (known here: the common ancestor)\n\n")
    head = f", then upgrade to {rescue.head[:12]}" if rescue.head else ""
    text.append(f"a  restore the files for this run only, downgrade to "
                f"{rescue.ancestor[:12]}{head}\n")
    text.append(f"b  stamp {rescue.ancestor[:12]}: nothing runs, the schema keeps what the "
                "revisions above did\n")
    text.append("escape  close\n", "dim")
    return text


class RescueScreen(ModalScreen[tuple[Rescue, str] | None]):
    """Where the database's unknown revision came from, and the ways back; dismissed
    with (the rescue, "restore" or "stamp") when one is chosen."""

    class Found(Message, bubble=False):
        """The git search finished (or failed)."""

        def __init__(self, rescue: Rescue | None, error: MigtuiError | None = None) -> None:
            super().__init__()
            self.rescue = rescue
            self.error = error

    BINDINGS = [
        Binding("a", "choose('restore')", "Restore and move", id="rescue.restore"),
        Binding("b", "choose('stamp')", "Stamp ancestor", id="rescue.stamp"),
        Binding("escape", "close", "Close", id="rescue.close"),
    ]

    def __init__(self, project: Project, snapshot: Snapshot) -> None:
        super().__init__()
        self.project = project
        self.snapshot = snapshot
        self.rescue: Rescue | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Static(Text("Rescue an unknown revision", style="bold"))
            with VerticalScroll():
                yield Static(Text("Searching the git history of the versions folder…"),
                             id="rescue-body")

    def on_mount(self) -> None:
        self.search()

    @work(description="search", thread=True, exit_on_error=False, group="rescue")
    @needs_libraries
    def search(self) -> None:
        try:
            self.post_message(self.Found(find_rescue(self.project, self.snapshot)))
        except Exception as exc:
            self.post_message(self.Found(None, from_exception(exc, "The search failed")))

    def on_rescue_screen_found(self, message: RescueScreen.Found) -> None:
        body = self.query_one("#rescue-body", Static)
        if message.rescue is None:
            error = message.error.message if message.error else "the search failed"
            body.update(safe(f"✗ {error}"))
            return
        self.rescue = message.rescue
        body.update(scrub(rescue_text(message.rescue)))

    def action_choose(self, choice: str) -> None:
        rescue = self.rescue
        if rescue is None:
            self.notify("Still searching git: a moment", severity="warning")
            return
        if not rescue.found:
            self.notify(rescue.why, severity="warning")
            return
        self.dismiss((rescue, choice))

    def action_close(self) -> None:
        if self.rescue is not None:
            discard(self.rescue)
        self.dismiss(None)


class GraphHistory(SessionScreen):
    """The graph screen's part (a mixin): edit marks (``✎ edited since applied …``), the
    diff of an edited revision (``v``), and the rescue of an unknown revision (``R``)."""

    class RescueRequested(Message):
        """Confirm and run this rescue ("restore" or "stamp"); the app does it."""

        def __init__(self, rescue: Rescue, choice: str, snapshot: Snapshot) -> None:
            super().__init__()
            self.rescue = rescue
            self.choice = choice
            self.snapshot = snapshot

    class EditsRead(Message, bubble=False):
        """The applied revisions of a snapshot were compared with their files."""

        def __init__(self, snapshot: Snapshot, edited: tuple[EditedRevision, ...]) -> None:
            super().__init__()
            self.snapshot = snapshot
            self.edited = edited

    class DiffRead(Message, bubble=False):
        """The diff of an edited revision against its applied version (None: no copy)."""

        def __init__(self, edited: EditedRevision, diff: str | None) -> None:
            super().__init__()
            self.edited = edited
            self.diff = diff

    edits: dict[str, EditedRevision] = {}  # replaced by a new dict, never mutated

    def _selected(self) -> Revision | None:  # the graph screen's selection
        raise NotImplementedError

    def _show_snapshot(self, select: str | None = None) -> None:  # redraw the rows
        raise NotImplementedError

    def edit_notes(self) -> dict[str, str]:
        """The mark of every edited revision, for the graph rows."""
        return {r: e.mark for r, e in self.edits.items()}

    @work(description="read_edits",
          thread=True, exclusive=True, group="edit-marks", exit_on_error=False)
    def read_edits(self, snapshot: Snapshot) -> None:
        """Compare the applied revisions with what migtui applied (in a worker)."""
        try:
            found = edited_revisions(snapshot)
        except Exception:
            found = ()  # no marks beat a wrong mark
        self.post_message(self.EditsRead(snapshot, found))

    def on_graph_history_edits_read(self, message: GraphHistory.EditsRead) -> None:
        if message.snapshot is not self.state.snapshot:
            return
        edits = {e.revision: e for e in message.edited}
        if edits != self.edits:
            self.edits = edits
            self._show_snapshot()

    def action_edit_diff(self) -> None:
        """The diff of the selected revision's file against the version applied."""
        rev = self._selected()
        if rev is None:
            return
        edited = self.edits.get(rev.revision)
        if edited is None:
            self.notify(f"{rev.short} has not changed since migtui applied it (or migtui "
                        "did not apply it)")
            return
        self.read_diff(edited)

    @work(description="read_diff",
          thread=True, exclusive=True, group="edit-diff", exit_on_error=False)
    def read_diff(self, edited: EditedRevision) -> None:
        self.post_message(self.DiffRead(edited, applied_version_diff(edited)))

    def on_graph_history_diff_read(self, message: GraphHistory.DiffRead) -> None:
        edited = message.edited
        title = f"{edited.revision[:12]}: {edited.mark}"
        if message.diff is None:
            self.app.push_screen(TextScreen(
                title, "git has no copy of the version that was applied (SHA-256 "
                f"{edited.applied_sha256[:16]}…); the file now: {edited.now_sha256[:16]}…"))
            return
        body = Text()
        for line in message.diff.splitlines():
            style = ("green" if line.startswith("+") else "red" if line.startswith("-")
                     else "")
            body.append(line + "\n", style)
        self.app.push_screen(TextScreen(title, body))

    def action_rescue(self) -> None:
        """Search git for the database's unknown revision and offer the ways back."""
        snapshot = self.ready_for_write()
        if snapshot is None:
            return
        if not any(h not in snapshot.graph for h in snapshot.database.current_heads):
            self.notify("The database is on no unknown revision: nothing to rescue")
            return

        def chosen(answer: tuple[Rescue, str] | None) -> None:
            if answer is not None:
                self.post_message(self.RescueRequested(answer[0], answer[1], snapshot))

        self.app.push_screen(RescueScreen(self.project, snapshot), chosen)


class TablesHistory(SessionScreen):
    """The tables screen's part (a mixin): ``H`` lists the selected table's history."""

    class RevisionWanted(Message):
        """Show this revision on the graph; the app switches to it."""

        def __init__(self, revision: str) -> None:
            super().__init__()
            self.revision = revision

    selected: TableRef | None

    def action_table_history(self) -> None:
        snapshot, ref = self.state.snapshot, self.selected
        if snapshot is None or ref is None:
            self.notify("No table selected", severity="warning")
            return

        def chosen(revision: str | None) -> None:
            if revision:
                self.post_message(self.RevisionWanted(revision))

        self.app.push_screen(TableHistoryScreen(self.project, snapshot, ref.name), chosen)


class TableHistoryScreen(ModalScreen[str | None]):
    """The revisions whose operations touch one table; dismissed with the revision
    chosen with enter (the tables screen asks the app to show it on the graph)."""

    class HistoryRead(Message, bubble=False):
        def __init__(self, history: TableHistory | None, error: str = "") -> None:
            super().__init__()
            self.history = history
            self.error = error

    BINDINGS = [Binding("escape", "close", "Close", id="table-history.close")]

    def __init__(self, project: Project, snapshot: Snapshot, table: str) -> None:
        super().__init__()
        self.project = project
        self.snapshot = snapshot
        self.table = table

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Static(safe_line(f"History of {self.table}", "bold"), id="history-title")
            yield Static(Text("Recording every revision's operations…", style="dim"),
                         id="history-note")
            yield OptionList(id="history-list")

    def on_mount(self) -> None:
        self.read()

    @work(description="read", thread=True, exit_on_error=False, group="table-history")
    @needs_libraries
    def read(self) -> None:
        from migtui.core.history.tables import table_history  # SQLAlchemy: when asked

        try:
            self.post_message(self.HistoryRead(
                table_history(self.project, self.snapshot, self.table)))
        except Exception as exc:
            self.post_message(self.HistoryRead(None, from_exception(exc).message))

    def on_table_history_screen_history_read(self, message: TableHistoryScreen.HistoryRead
                                             ) -> None:
        note = self.query_one("#history-note", Static)
        history = message.history
        if history is None:
            note.update(safe(f"✗ {message.error}"))
            return
        options = self.query_one("#history-list", OptionList)
        for event in history.events:
            mark = "●" if event.applied else "○"
            label = safe_line(f"{mark} {event.short:<12} {event.message}")
            if event.guess:
                label.append("  (a guess: raw SQL or source text names it)", "italic")
            for op in event.operations:
                label.append(f"\n      {clean(op, one_line=True)}", "dim")
            options.add_option(Option(label, id=event.revision or None,
                                      disabled=not event.revision))
        count = len(history.events)
        what = (f"{count} {'entry' if count == 1 else 'entries'}, oldest first; ● applied "
                "○ pending; enter shows the revision on the graph")
        note.update(safe(f"{what}. {history.note}".strip() if history.events
                         else f"No revision touches {self.table}", "dim"))
        if history.events:
            options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)
