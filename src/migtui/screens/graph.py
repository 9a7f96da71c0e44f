"""The revision graph screen: browse the DAG and move the database through it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, Log, Static

from migtui.core.actions.plan import (
    Plan,
    next_revisions,
    plan_downgrade,
    plan_stamp,
    plan_step_down,
    plan_upgrade,
)
from migtui.core.errors import MigtuiError
from migtui.core.models import Revision, Snapshot
from migtui.core.revisions.branches import branch_choice
from migtui.core.revisions.problems import problems_text, same_file
from migtui.screens.dialogs import ChooseScreen, PromptScreen, TextScreen
from migtui.screens.graph_environments import choice_label, environment_labels
from migtui.screens.history import GraphHistory
from migtui.screens.state import AppState
from migtui.widgets.footer import SteadyFooter
from migtui.widgets.revision_graph import LEGEND, GraphRows, RevisionGraphView
from migtui.widgets.safe_text import clean, safe, safe_line
from migtui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from migtui.core.checks.preflight import FunctionOperations

# The footer's keys wait for the first graph this long at most (an env.py that takes
# its time to list the revisions leaves them out no longer).
FOOTER_HELD_S = 1.0

class GraphScreen(GraphHistory):
    """Every revision newest first, with what the database has applied."""

    class PlanRequested(Message):
        """Run this upgrade, downgrade or stamp (the app confirms it first)."""

        def __init__(self, plan: Plan, snapshot: Snapshot) -> None:
            super().__init__()
            self.plan = plan
            self.snapshot = snapshot  # the one the plan was made from

    class EnvironmentChosen(Message):
        """Work on this configured environment's database from now on."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    class MergeRequested(Message):
        """Write a merge revision of these heads with this message."""

        def __init__(self, message: str, heads: tuple[str, ...]) -> None:
            super().__init__()
            self.message = message
            self.heads = heads

    HELP = (
        "The revision graph, newest first. ● marks revisions the database has applied, "
        "○ pending ones; (current) is where the database is. u/d step the database one "
        "revision up or down, U/D move it to the selected revision, s stamps it without "
        "running anything, m merges several heads. Every write asks first and shows the SQL. "
        "@dev @staging name the configured environments on a revision ([label]: a branch "
        "label); E chooses the one "
        "the graph and its actions refer to (the status line names it)."
    )

    BINDINGS = [
        Binding("u", "upgrade_step", "Upgrade +1", id="graph.upgrade_step"),
        Binding("d", "downgrade_step", "Downgrade -1", id="graph.downgrade_step"),
        Binding("U", "upgrade_to", "Upgrade to selected", id="graph.upgrade_to"),
        Binding("D", "downgrade_to", "Downgrade to selected", id="graph.downgrade_to"),
        Binding("s", "stamp", "Stamp", id="graph.stamp"),
        Binding("m", "merge", "Merge heads", id="graph.merge"),
        Binding("E", "choose_environment", "Environment", id="graph.environment"),
        Binding("slash", "filter", "Filter", id="graph.filter"),
        Binding("l", "toggle_log", "Log", id="graph.log"),
        Binding("e", "error_details", "Error details", show=False, id="graph.error"),
        Binding("R", "rescue", "Rescue unknown revision", id="graph.rescue"),
        Binding("v", "edit_diff", "Diff since applied", show=False, id="graph.edit_diff"),
    ]

    # The graph has the keys from the start: a key typed while the app starts must not
    # go to the (hidden) filter box, which Textual would otherwise focus first.
    AUTO_FOCUS = "#graph"
    WRITE_ACTIONS = frozenset({"upgrade_step", "downgrade_step", "upgrade_to", "downgrade_to",
                               "stamp", "merge"})

    def compose(self) -> ComposeResult:
        yield StatusLine("Reading revisions…", id="status")
        yield Static("", id="progress")
        yield Input(placeholder="filter by revision id or message (enter keeps, escape clears)",
                    id="filter")
        yield RevisionGraphView(id="graph")
        yield Static(Text(LEGEND, style="dim"), id="legend")
        # A Log, not a RichLog: a RichLog shown after a scroll may never hear its first
        # size and then keeps every line it is given to itself.
        yield Log(id="log", max_lines=2000)
        yield SteadyFooter(held=True)  # (the graph first: released once it is drawn)

    @property
    def graph_view(self) -> RevisionGraphView:
        return self.query_one(RevisionGraphView)

    def on_mount(self) -> None:
        self._log_shown = 0
        self.show_state(None, self.state)
        self.graph_view.focus()
        self.set_timer(FOOTER_HELD_S, self._release_footer)  # whatever the read does

    def _release_footer(self) -> None:
        self.query_one(SteadyFooter).release()

    def on_revision_graph_view_first_drawn(self) -> None:
        self._release_footer()  # the rows are on screen: the keys next

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "rescue":  # only where there is something to rescue (footer room)
            snapshot = self.state.snapshot
            return snapshot is not None and any(
                head not in snapshot.graph for head in snapshot.database.current_heads)
        return super().check_action(action, parameters)

    def show_state(self, old: AppState | None, new: AppState) -> None:
        if (self.snapshot_changed(old, new) or old is None
                or new.environments != old.environments):
            self.refresh_bindings()
            self._show_snapshot(select=new.select_next)
            if new.snapshot is not None:
                self.read_edits(new.snapshot)  # the ✎ marks come a moment later
        if new.load_error:  # (no rows to wait for)
            self._release_footer()
        if old is None or new.progress != old.progress:
            widget = self.query_one("#progress", Static)
            widget.update(safe(new.progress, "bold"))
            widget.display = bool(new.progress)
        if old is None or new.log_written != old.log_written:
            self._sync_log()

    def _show_snapshot(self, select: str | None = None) -> None:
        """Draw the rows of the current snapshot, keeping (or moving to) a selection."""
        self.show_status()
        snapshot = self.state.snapshot
        if snapshot is None:
            return
        view = self.graph_view
        # The revision the user moved to stays selected; untouched, the cursor stays on
        # the newest (a first frame's preview corrected must not drag it down).
        keep = select or (view.selected.revision if view.selected and view.moved else None)
        marks = environment_labels(self.state.environments, self.state.environment, snapshot)
        view.set_rows(self._filtered(GraphRows(snapshot, self.edit_notes(), marks)),
                      keep=keep)

    def _filtered(self, rows: GraphRows) -> GraphRows:
        """The rows the filter keeps; the legend says how many (none: the list is empty)."""
        needle = self.query_one("#filter", Input).value.strip().lower()
        legend = self.query_one("#legend", Static)
        if not needle:
            legend.update(Text(LEGEND, style="dim"))
            return rows
        kept = rows.only(lambda rev: (
            rev.revision.startswith(needle) or needle in rev.message.lower()
            or any(needle in label.lower() for label in rev.branch_labels)))
        legend.update(safe_line(f"{len(kept):,} of {len(rows):,} revisions match "
                                f"“{needle}” (escape clears the filter)", "dim"))
        return kept

    # -- filter and log ------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter" and self.state.snapshot is not None:
            if event.value.strip():  # (what it finds stays selected once it is cleared)
                self.graph_view.moved = True
            self._show_snapshot()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.graph_view.focus()

    def key_escape(self) -> None:
        self._clear_filter()

    def _clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.graph_view.focus()
            if self.state.snapshot is not None:  # show every row again right now
                self._show_snapshot()

    def action_go_to(self, revision: str, then: str = "goto") -> None:
        """Select a revision (clearing a filter that hides it), then run ``then`` on it:
        ``upgrade_to``, ``downgrade_to`` or ``stamp`` (``goto`` only selects it)."""
        self._clear_filter()
        if not self.graph_view.select(revision):
            self.notify(f"{revision[:12]} is not in the graph", severity="warning")
            return
        actions = {"upgrade_to": self.action_upgrade_to,
                   "downgrade_to": self.action_downgrade_to, "stamp": self.action_stamp}
        if then in actions:
            actions[then]()

    def action_choose_environment(self) -> None:
        """Ask which configured environment the graph and its actions refer to."""
        marks = self.state.environments
        if not marks:
            self.notify("No environments configured: add [tool.migtui.environments.NAME] "
                        "to pyproject.toml (the README's Environments section)")
            return
        chosen = self.state.environment

        def picked(name: str | None) -> None:
            if name is not None and name != chosen:
                self.post_message(self.EnvironmentChosen(name))

        self.app.push_screen(ChooseScreen(
            "Which environment do the graph and its actions refer to?",
            [(m.name, choice_label(m, chosen)) for m in marks], highlighted=chosen), picked)

    def action_toggle_log(self) -> None:
        log = self.query_one("#log", Log)
        log.display = not log.display

    def _sync_log(self) -> None:
        """Append the captured Alembic lines that the log panel does not show yet."""
        state = self.state
        new = min(state.log_written - self._log_shown, len(state.log_lines))
        if new > 0:
            lines = state.log_lines[len(state.log_lines) - new:]
            self.query_one("#log", Log).write_lines(clean(line) for line in lines)
        self._log_shown = state.log_written

    def action_error_details(self) -> None:
        """e: why the selected row's file is broken, if it is; else the last error."""
        rev, snapshot = self.graph_view.selected, self.state.snapshot
        broken = [p for p in snapshot.graph.problems if p.kind == "file" and p.path
                  and rev is not None and rev.path and same_file(p.path, rev.path)
                  ] if snapshot is not None else []
        if broken:
            self.app.push_screen(TextScreen(broken[0].message, Text(problems_text(broken))))
            return
        self.show_last_error()

    # -- details -------------------------------------------------------------

    def on_revision_graph_view_activated(self, event: RevisionGraphView.Activated) -> None:
        rev = event.revision
        project = self.project
        dialect = self.state.snapshot.database.dialect if self.state.snapshot else ""
        parents = rev.down_revisions

        heads = self.state.snapshot.database.current_heads if self.state.snapshot else ()

        def sql(direction: str) -> str:
            if len(parents) > 1:
                raise MigtuiError("a merge point has no single SQL range (it joins branches)")
            from migtui.core.checks.batch_sql import revision_sql  # SQLAlchemy

            return revision_sql(project, rev.revision, parents[0] if parents else "base",
                                direction, dialect, heads)

        def operations() -> tuple[FunctionOperations, ...]:
            from migtui.core.checks.preflight import revision_operations  # SQLAlchemy

            return revision_operations(project, rev.revision, dialect)

        from migtui.screens.details import RevisionDetailsScreen  # (pygments: not at start)

        self.app.push_screen(RevisionDetailsScreen(
            rev,
            up_sql=lambda: sql("upgrade"),
            down_sql=lambda: sql("downgrade"),
            operations=operations,
        ))

    # -- write actions -------------------------------------------------------

    def _run(self, plan: Plan, snapshot: Snapshot) -> None:
        """Ask the app to confirm and run a plan made from this snapshot (a broken history
        shows the plan with only Cancel)."""
        if not self.history_refused(snapshot, plan):
            self.post_message(self.PlanRequested(plan, snapshot))

    def _selected(self) -> Revision | None:
        rev = self.graph_view.selected
        if rev is None:
            self.notify("No revision selected", severity="warning")
        return rev

    def action_upgrade_step(self) -> None:
        snapshot = self.ready_for_write("upgrade_step")
        if snapshot is None:
            return
        candidates = next_revisions(snapshot)
        unknown = any(h not in snapshot.graph for h in snapshot.database.current_heads)
        if (unknown or not candidates) and self.history_refused(snapshot):
            return  # (a cycle has no "next", an unknown revision no way on: say why)
        if not candidates:
            self.notify("The database is at head: nothing to upgrade")
            return
        if len(candidates) == 1:
            self._run(plan_upgrade(snapshot, candidates[0].revision), snapshot)
            return

        def chosen(revision: str | None) -> None:
            if revision:
                self._run(plan_upgrade(snapshot, revision), snapshot)

        choices = [branch_choice(snapshot, r.revision) for r in candidates]
        self.app.push_screen(ChooseScreen(
            "Several revisions can run next: u runs the one you choose, on its branch",
            [(c.revision, c.label) for c in choices],
            details={c.revision: c.leads_to for c in choices}), chosen)

    def action_downgrade_step(self) -> None:
        snapshot = self.ready_for_write("downgrade_step")
        if snapshot is None:
            return
        heads = snapshot.database.current_heads
        if not heads and self.history_refused(snapshot):
            return
        if not heads:
            self.notify("The database is at base: nothing to downgrade")
            return
        if len(heads) == 1:
            self._run(plan_step_down(snapshot, heads[0]), snapshot)
            return

        def chosen(head: str | None) -> None:
            if head:
                self._run(plan_step_down(snapshot, head), snapshot)

        self.app.push_screen(ChooseScreen(
            "The database is on several heads: step down from which?",
            [(h, f"{h[:12]}  {getattr(snapshot.graph.get(h), 'message', '')}") for h in heads],
        ), chosen)

    def action_upgrade_to(self) -> None:
        snapshot, rev = self.ready_for_write(), self._selected()
        if snapshot is None or rev is None:
            return
        if rev.revision in snapshot.applied:
            self.notify(f"{rev.short} is already applied", severity="warning")
            return
        self._run(plan_upgrade(snapshot, rev.revision), snapshot)

    def action_downgrade_to(self) -> None:
        snapshot, rev = self.ready_for_write(), self._selected()
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
        self._run(plan, snapshot)

    def action_stamp(self) -> None:
        snapshot, rev = self.ready_for_write(), self._selected()
        if snapshot is None or rev is None:
            return
        self._run(plan_stamp(snapshot, rev.revision), snapshot)

    def action_merge(self) -> None:
        snapshot = self.ready_for_write()
        if snapshot is None:
            return
        if self.history_refused(snapshot):
            return
        heads = snapshot.graph.heads
        if len(heads) < 2:
            self.notify("There is only one head: nothing to merge")
            return

        def named(message: str | None) -> None:
            if message:
                self.post_message(self.MergeRequested(message, heads))

        self.app.push_screen(PromptScreen(
            f"Merge {len(heads)} heads ({', '.join(h[:12] for h in heads)}) into a new "
            "revision. Message:", value="merge heads"), named)
