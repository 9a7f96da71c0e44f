"""The revision graph screen: browse the DAG and move the database through it."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, RichLog, Static

from migtui.core.actions.plan import (
    Plan,
    next_revisions,
    plan_downgrade,
    plan_stamp,
    plan_step_down,
    plan_upgrade,
)
from migtui.core.checks.preflight import revision_operations
from migtui.core.errors import MigtuiError
from migtui.core.models import Revision, Snapshot
from migtui.screens.details import RevisionDetailsScreen
from migtui.screens.dialogs import ChooseScreen, PromptScreen
from migtui.widgets.revision_graph import LEGEND, RevisionGraphView, build_rows
from migtui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from migtui.tui.app import MigtuiApp


class GraphScreen(Screen[None]):
    """Every revision newest first, with what the database has applied."""

    HELP = (
        "The revision graph, newest first. ● marks revisions the database has applied, "
        "○ pending ones; (current) is where the database is. u/d step the database one "
        "revision up or down, U/D move it to the selected revision, s stamps it without "
        "running anything, m merges several heads. Every write asks first and shows the SQL."
    )

    BINDINGS = [
        Binding("u", "upgrade_step", "Upgrade +1", id="graph.upgrade_step"),
        Binding("d", "downgrade_step", "Downgrade -1", id="graph.downgrade_step"),
        Binding("U", "upgrade_to", "Upgrade to selected", id="graph.upgrade_to"),
        Binding("D", "downgrade_to", "Downgrade to selected", id="graph.downgrade_to"),
        Binding("s", "stamp", "Stamp", id="graph.stamp"),
        Binding("m", "merge", "Merge heads", id="graph.merge"),
        Binding("slash", "filter", "Filter", id="graph.filter"),
        Binding("l", "toggle_log", "Log", id="graph.log"),
        Binding("e", "error_details", "Error details", show=False, id="graph.error"),
    ]

    def compose(self) -> ComposeResult:
        yield StatusLine("Reading revisions…", id="status")
        yield Static("", id="progress")
        yield Input(placeholder="filter by revision id or message (enter keeps, escape clears)",
                    id="filter")
        yield RevisionGraphView(id="graph")
        yield Static(Text(LEGEND, style="dim"), id="legend")
        yield RichLog(id="log", max_lines=2000, wrap=False, markup=False)
        yield Footer()

    @property
    def migtui(self) -> MigtuiApp:
        return cast("MigtuiApp", self.app)

    @property
    def graph_view(self) -> RevisionGraphView:
        return self.query_one(RevisionGraphView)

    def on_mount(self) -> None:
        self._log_shown = 0
        self.watch(self.app, "snapshot", self._show_snapshot)
        self.watch(self.app, "progress", self._show_progress)
        self.graph_view.focus()
        self.sync_log()

    def on_screen_resume(self) -> None:
        self.sync_log()  # lines of actions started from other screens

    def _show_snapshot(self, snapshot: Snapshot | None) -> None:
        status = self.query_one(StatusLine)
        if snapshot is None:
            status.show(None, self.migtui.load_error or "Reading revisions…")
            return
        status.show(snapshot)
        view = self.graph_view
        keep = self.migtui.select_next or (view.selected.revision if view.selected else None)
        self.migtui.select_next = None
        view.set_rows(self._filtered(build_rows(snapshot)), keep=keep)

    def _show_progress(self, progress: str) -> None:
        widget = self.query_one("#progress", Static)
        widget.update(Text(progress, style="bold"))
        widget.display = bool(progress)

    def _filtered(self, rows: list) -> list:  # type: ignore[type-arg]
        needle = self.query_one("#filter", Input).value.strip().lower()
        if not needle:
            return rows
        return [
            r for r in rows
            if r.revision.revision.startswith(needle) or needle in r.revision.message.lower()
            or any(needle in label.lower() for label in r.revision.branch_labels)
        ]

    # -- filter and log ------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter" and self.migtui.snapshot is not None:
            self._show_snapshot(self.migtui.snapshot)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.graph_view.focus()

    def key_escape(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.graph_view.focus()
            if self.migtui.snapshot is not None:  # show every row again right now
                self._show_snapshot(self.migtui.snapshot)

    def action_toggle_log(self) -> None:
        log = self.query_one("#log", RichLog)
        log.display = not log.display

    def sync_log(self) -> None:
        """Append the captured Alembic lines that the log panel does not show yet."""
        lines = self.migtui.log_lines
        log = self.query_one("#log", RichLog)
        for line in lines[self._log_shown:]:
            log.write(Text(line))
        self._log_shown = len(lines)

    def action_error_details(self) -> None:
        self.migtui.show_error_details()

    # -- details -------------------------------------------------------------

    def on_revision_graph_view_activated(self, event: RevisionGraphView.Activated) -> None:
        rev = event.revision
        project = self.migtui.project
        dialect = self.migtui.snapshot.database.dialect if self.migtui.snapshot else ""
        parents = rev.down_revisions

        def sql(direction: str) -> str:
            if len(parents) > 1:
                raise MigtuiError("a merge point has no single SQL range (it joins branches)")
            start = parents[0] if parents else "base"
            if direction == "upgrade":
                return project.sql("upgrade", start, rev.revision)
            return project.sql("downgrade", rev.revision, start)

        self.app.push_screen(RevisionDetailsScreen(
            rev,
            up_sql=lambda: sql("upgrade"),
            down_sql=lambda: sql("downgrade"),
            operations=lambda: revision_operations(project, rev.revision, dialect),
        ))

    # -- write actions -------------------------------------------------------

    def _ready(self) -> Snapshot | None:
        """The snapshot when a write may start; otherwise say why not and return None."""
        return self.migtui.ready_for_write()

    def _selected(self) -> Revision | None:
        rev = self.graph_view.selected
        if rev is None:
            self.notify("No revision selected", severity="warning")
        return rev

    def action_upgrade_step(self) -> None:
        snapshot = self._ready()
        if snapshot is None:
            return
        candidates = next_revisions(snapshot)
        if not candidates:
            self.notify("The database is at head: nothing to upgrade")
            return
        if len(candidates) == 1:
            self.migtui.confirm_and_run(plan_upgrade(snapshot, candidates[0].revision), snapshot)
            return

        def chosen(revision: str | None) -> None:
            if revision:
                self.migtui.confirm_and_run(plan_upgrade(snapshot, revision), snapshot)

        self.app.push_screen(ChooseScreen(
            "Several revisions can run next: which branch?",
            [(r.revision, f"{r.short}  {r.message}") for r in candidates],
        ), chosen)

    def action_downgrade_step(self) -> None:
        snapshot = self._ready()
        if snapshot is None:
            return
        heads = snapshot.database.current_heads
        if not heads:
            self.notify("The database is at base: nothing to downgrade")
            return
        if len(heads) == 1:
            self.migtui.confirm_and_run(plan_step_down(snapshot, heads[0]), snapshot)
            return

        def chosen(head: str | None) -> None:
            if head:
                self.migtui.confirm_and_run(plan_step_down(snapshot, head), snapshot)

        self.app.push_screen(ChooseScreen(
            "The database is on several heads: step down from which?",
            [(h, f"{h[:12]}  {getattr(snapshot.graph.get(h), 'message', '')}") for h in heads],
        ), chosen)

    def action_upgrade_to(self) -> None:
        snapshot, rev = self._ready(), self._selected()
        if snapshot is None or rev is None:
            return
        if rev.revision in snapshot.applied:
            self.notify(f"{rev.short} is already applied", severity="warning")
            return
        self.migtui.confirm_and_run(plan_upgrade(snapshot, rev.revision), snapshot)

    def action_downgrade_to(self) -> None:
        snapshot, rev = self._ready(), self._selected()
        if snapshot is None or rev is None:
            return
        if rev.revision not in snapshot.applied:
            self.notify(f"{rev.short} is not applied: use U to upgrade to it",
                        severity="warning")
            return
        plan: Plan = plan_downgrade(snapshot, rev.revision)
        if not plan.steps:
            self.notify(f"The database is already at {rev.short}")
            return
        self.migtui.confirm_and_run(plan, snapshot)

    def action_stamp(self) -> None:
        snapshot, rev = self._ready(), self._selected()
        if snapshot is None or rev is None:
            return
        self.migtui.confirm_and_run(plan_stamp(snapshot, rev.revision), snapshot)

    def action_merge(self) -> None:
        snapshot = self._ready()
        if snapshot is None:
            return
        heads = snapshot.graph.heads
        if len(heads) < 2:
            self.notify("There is only one head: nothing to merge")
            return

        def named(message: str | None) -> None:
            if message:
                self.migtui.run_merge(message, heads)

        self.app.push_screen(PromptScreen(
            f"Merge {len(heads)} heads ({', '.join(h[:12] for h in heads)}) into a new "
            "revision. Message:", value="merge heads"), named)
