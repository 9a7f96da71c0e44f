"""The migtui App: wiring, global keys, workers that call the core.

The app owns the session's state (`AppState`) and hands every new one down to the
main screens. Screens ask for work with their own Messages (`GraphScreen.PlanRequested`,
`PendingScreen.NewRevisionRequested`, …); the app does it: every write action goes
through one path (`_act` → `_run_action` → `ActionFinished`), which always clears busy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen

from migtui.core.actions.halfway import partial_text
from migtui.core.actions.plan import Plan
from migtui.core.actions.project import Project
from migtui.core.env.watch import Watch
from migtui.core.environments.fleet import Fleet
from migtui.core.environments.reading import FirstRead
from migtui.core.libraries import needs_libraries
from migtui.core.models import DatabaseState, Snapshot
from migtui.core.revisions.problems import lineage_text, problems_summary, problems_text
from migtui.screens.dialogs import TextScreen
from migtui.screens.graph import GraphScreen
from migtui.screens.history import GraphHistory, TablesHistory
from migtui.screens.state import AppState, SessionScreen
from migtui.tui.commands import (
    RevisionCommands,
    TableCommands,
    binding_commands,
    partial_commands,
)
from migtui.tui.help import help_text
from migtui.tui.loading import MAIN_MODES, LoadingApp, screen_class
from migtui.tui.messages import ActionFinished, LoadFailed, SnapshotLoaded, VersionsChanged
from migtui.tui.settings import Settings, binding_ids, load_settings, remember_theme
from migtui.tui.writes import (
    Outcome,
    apply_plan,
    checks_loader,
    confirmation,
    done_text,
    failed,
    offer_again,
    rehearsal_runner,
    sql_loader,
)
from migtui.widgets.safe_text import clean

if TYPE_CHECKING:
    from migtui.core.models import ActionResult
    from migtui.core.revisions.watch import FolderWatcher
    from migtui.screens.environments import EnvironmentsScreen
    from migtui.screens.pending import PendingScreen

class MigtuiApp(LoadingApp):
    """Browse and apply the Alembic migrations of one project."""

    TITLE = "migtui"
    # Made by Textual as it starts: a switch_mode holds the first frame back 50 ms.
    DEFAULT_MODE = "graph"
    CSS_PATH = Path(__file__).with_name("app.tcss")
    # Quit, help and cancel first: a narrow footer cuts from the end.
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("c", "cancel_action", "Cancel migration", id="app.cancel"),
        Binding("g", "switch_mode('graph')", "Graph", id="app.graph"),
        Binding("a", "switch_mode('pending')", "Pending", id="app.pending"),
        Binding("t", "switch_mode('tables')", "Tables", id="app.tables"),
        Binding("w", "switch_mode('environments')", "Environments", id="app.environments"),
        Binding("r", "refresh", "Refresh", id="app.refresh"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.ctrl_c"),
    ]

    def __init__(self, project: Project, fleet: Fleet | None = None,
                 environment: str = "", first_read: FirstRead | None = None) -> None:
        """``project`` opened on environment ``environment`` of ``fleet`` (by default the
        environments configured beside the project, and its own database); its database
        read by ``first_read`` when one was started for it."""
        super().__init__(fleet if fleet is not None else Fleet(project), environment,
                         AppState(read_only=project.options.read_only), first_read)
        self.project = project
        for mode in MAIN_MODES:
            self.add_mode(mode, partial(self._make_screen, mode))
        self._problems_error: tuple[str, str] | None = None  # broken revision files
        self._partial_error: tuple[str, str] | None = None  # a step left half done
        self._select_next: str | None = None  # for the snapshot after an action
        self._versions_watcher: FolderWatcher | None = None
        self._running_plan: Plan | None = None
        self._replan: tuple[Plan, str] | None = None  # refused: offer it made anew
        self._drawn_at_load: SnapshotLoaded | None = None  # the graph at hand at start

    COMMANDS = App.COMMANDS | {RevisionCommands, TableCommands}

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification (the screens' too) shows its words literally: they carry
        revision ids, table names and error text, which are data, never markup."""
        super().notify(clean(message), title=clean(title, one_line=True), severity=severity,
                       timeout=timeout, markup=False)

    def _make_screen(self, mode: str) -> SessionScreen:
        cls = screen_class(mode)
        screen = (cls(self.project, self.state, self.fleet)  # type: ignore[call-arg]
                  if mode == "environments" else cls(self.project, self.state))
        self._screens[mode] = screen
        return screen

    def watch_state(self, state: AppState) -> None:
        for screen in self._screens.values():
            screen.state = state

    def on_load(self) -> None:
        # Before Textual makes the graph screen: the graph at hand and the theme in its first frame.
        self._settings = self._read_settings()
        self._drawn_at_load = self.graph_at_hand()
        if self._drawn_at_load is not None:
            self.on_snapshot_loaded(self._drawn_at_load)

    def on_mount(self) -> None:
        self._apply_settings(self._settings)
        self.draw_first(self._drawn_at_load.snapshot if self._drawn_at_load else None)
        self.resume_collector_after_paint()

    def on_unmount(self) -> None:
        if self._versions_watcher is not None:
            self._versions_watcher.stop()

    def _watch_versions(self) -> None:
        """Refresh the graph by itself when a revision file is added, changed or deleted
        (a git pull, an editor): no r needed."""
        if self._versions_watcher is None:
            folders = self.project.version_folders()
            from migtui.core.revisions.watch import FolderWatcher  # (watchfiles: not at start)

            self._versions_watcher = FolderWatcher(
                folders, lambda paths: self.post_message(VersionsChanged(tuple(paths))),
                recursive=True).start()

    def on_versions_changed(self, message: VersionsChanged) -> None:
        if not self.state.busy:  # an action re-reads everything when it ends
            self.load(reload_files=True, written=message.paths)

    def _read_settings(self) -> Settings:
        """The user's settings, with the configured (or remembered) theme applied."""
        settings = load_settings(Path(self.project.options.cwd), binding_ids([DOMNode]),
                                 self.available_themes)
        if settings.theme:
            self.theme = settings.theme
        return settings

    def _apply_settings(self, settings: Settings) -> None:
        """Remapped keys; bad config is reported, defaults apply."""
        if settings.keymap:
            self.set_keymap(settings.keymap)
        for problem in settings.problems:
            self.notify(problem, title="migtui settings", severity="warning", timeout=10)
        self.theme_changed_signal.subscribe(self, lambda theme: remember_theme(theme.name))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's own commands, then every binding of the current screen."""
        yield from super().get_system_commands(screen)
        yield from binding_commands(self, screen)
        yield from partial_commands(self)

    async def revision_command(self, verb: str, revision: str) -> None:
        """Palette: go to a revision on the graph, then run the graph action on it."""
        await self.switch_mode("graph")
        if isinstance(self.screen, GraphScreen):
            await self.run_action(f"go_to({revision!r}, {verb!r})", self.screen)

    # -- reading -------------------------------------------------------------

    def on_snapshot_loaded(self, message: SnapshotLoaded) -> None:
        if message.project is not self.project:
            return  # read for an environment chosen before the one chosen now
        snapshot = message.snapshot
        self.snapshot_arrived(message)
        if not message.first:
            self._watch_versions()  # (once the graph is on screen)
        db = snapshot.database
        last_error = self.state.last_error
        if db.state is DatabaseState.UNREACHABLE:
            last_error = (db.error, db.error_details)
        # Broken revision files are the error to explain, unless something newer is.
        problems = snapshot.graph.problems
        shown = self._problems_error
        self._problems_error = (
            (problems_summary(problems), problems_text(problems, lineage_text(snapshot.unknown)))
            if problems else None)
        shown_partial, partial_step = self._partial_error, snapshot.partial
        self._partial_error = partial_text(partial_step) if partial_step is not None else None
        if db.reachable and last_error in (None, shown, shown_partial):
            last_error = self._partial_error or self._problems_error
        select, self._select_next = self._select_next, None
        again = self.state.snapshot is not None and db is self.state.snapshot.database
        self.state = replace(self.state, snapshot=snapshot, load_error="",
                             last_error=last_error, select_next=select)
        if self.final(snapshot) and not again:  # (not the same read with verified files)
            self.read_environments(snapshot)
        if self._replan is not None and db.state is not DatabaseState.NOT_CHECKED:
            old, why = self._replan
            self._replan = None
            new, said, severity = offer_again(old, why, snapshot)
            if new is None:
                self.notify(said, severity=severity, timeout=10)
            else:
                self._confirm_and_run(new, snapshot, notice=said, reoffered=True)

    def on_load_failed(self, message: LoadFailed) -> None:
        self.read_answered()
        self.state = replace(
            self.state, snapshot=None, select_next=None,
            load_error=f"✗ {message.error.message}  (e: details, r: retry)",
            last_error=(message.error.message, message.error.details))
        self.notify(message.error.message, title="Cannot read the project", severity="error")

    def action_refresh(self) -> None:
        """Re-read the revision files and the database."""
        self.read_again()

    # -- what the screens ask for ----------------------------------------------

    def on_graph_screen_plan_requested(self, message: GraphScreen.PlanRequested) -> None:
        self._confirm_and_run(message.plan, message.snapshot)

    def on_pending_screen_plan_requested(self, message: PendingScreen.PlanRequested) -> None:
        self._confirm_and_run(message.plan, message.snapshot)

    def on_graph_screen_merge_requested(self, message: GraphScreen.MergeRequested) -> None:
        if not self._refused():
            text, heads = message.message, message.heads
            self._act("Merging heads", 0, "merge", " ".join(heads),
                      lambda: (self.project.merge(text, heads, self._post_line), None))

    def on_environments_screen_bring_requested(
            self, message: EnvironmentsScreen.BringRequested) -> None:
        from migtui.screens.environments import EnvironmentsScreen
        from migtui.tui.environments import confirm_bring

        screen = self._screens.get("environments")
        if isinstance(screen, EnvironmentsScreen):
            confirm_bring(self, screen, message)

    def on_graph_screen_environment_chosen(self, message: GraphScreen.EnvironmentChosen
                                           ) -> None:
        if self.use_environment(message.name):
            self.draw_first()

    def on_graph_history_rescue_requested(self, message: GraphHistory.RescueRequested) -> None:
        from migtui.tui.history import confirm_rescue

        confirm_rescue(self, message)

    async def on_tables_history_revision_wanted(
            self, message: TablesHistory.RevisionWanted) -> None:
        await self.revision_command("goto", message.revision)

    def on_pending_screen_new_revision_requested(
            self, message: PendingScreen.NewRevisionRequested) -> None:
        if not self._refused():
            self._act("Writing the new revision", 0, "revision", "",
                      lambda: (_write_revision(self.project, message), None))

    # -- writing -------------------------------------------------------------

    def _refused(self) -> bool:
        """Whether a write may not start now (the user is told why)."""
        refusal = self.state.write_refusal()
        if refusal is None and any(isinstance(s, ModalScreen) for s in self.screen_stack):
            refusal = ("A dialog is open: answer it first. Nothing else was planned",
                       "warning")  # (keys typed in a burst reach the graph before it)
        if refusal is not None:
            text, severity = refusal
            self.notify(text, severity=severity)
        return refusal is not None

    def _confirm_and_run(self, plan: Plan, snapshot: Snapshot, notice: str = "",
                         reoffered: bool = False) -> None:
        """Ask with a ConfirmScreen; run the plan in a worker when the user says yes.

        The plan is frozen: it runs only if the database's heads and every revision file
        are still what the dialog showed (checked inside the env.py run); otherwise
        nothing runs and the dialog is offered again with the new plan.
        """
        if self._refused():
            return
        plan, notice = confirmation(plan, snapshot, notice)
        expected, sql, checks, rehearsal = plan.heads, None, None, None
        if plan.action != "stamp" and plan.steps:
            sql = sql_loader(self.project, plan, snapshot)
            # Pre-flight: the plan's risks counted on the live data; h rehearses it.
            checks = checks_loader(self.project, plan, snapshot.database.dialect)
            rehearsal = rehearsal_runner(self.project, plan, expected)

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            if self.state.busy:  # another action started while the dialog was open
                self.notify("An action is already running", severity="warning")
                return
            # The tables from before, for the marks: unless the tables screen holds them.
            read_before = not getattr(self._screens.get("tables"), "holds_structure", False)
            watch = Watch(report=self._report_progress, on_step=self._report_step)
            self._watch, self._running_plan = watch, plan
            self.refresh_bindings()
            self._act(plan.description, len(plan.steps), plan.action, plan.target,
                      partial(apply_plan, self.project, plan, read_before, self._post_line,
                              watch))

        from migtui.screens.confirm import ConfirmScreen
        from migtui.screens.protected_confirm import ProtectedConfirmScreen

        dialog = (partial(ProtectedConfirmScreen, self.protected) if self.protected
                  else ConfirmScreen)  # --env NAME of a protected environment: type NAME
        self.push_screen(dialog(plan, sql, checks, rehearsal, reoffered=reoffered,
                                notice=notice, environment=self.state.environment), answered)

    def _act(self, label: str, steps: int, action: str, target: str,
             job: Callable[[], Outcome]) -> None:
        """Start a write action: busy until its ActionFinished arrives."""
        self._action_label = label
        self.state = replace(self.state, busy=True, progress=f"{label}…")
        self._run_action(action, target, job)

    @work(description="_run_action", thread=True, group="action", exit_on_error=False)
    @needs_libraries
    def _run_action(self, action: str, target: str, job: Callable[[], Outcome]) -> None:
        """Run one write action; whatever happens, post ActionFinished (it clears busy)."""
        result, before = failed(action, target), None
        try:
            result, before = job()
        except BaseException as exc:  # a revision file may raise anything, even SystemExit
            result, before = failed(action, target, exc), None
            if isinstance(exc, KeyboardInterrupt):
                raise
        finally:
            self.post_message(ActionFinished(result, before))

    def on_action_finished(self, message: ActionFinished) -> None:
        result = message.result
        plan, self._watch, self._running_plan = self._running_plan, None, None
        self.refresh_bindings()
        if self._quitting:
            self._exit_now()
            return
        if result.plan_changed and plan is not None:
            self._replan = (plan, result.error)
        self.state = replace(
            self.state, busy=False, progress="", last_result=result,
            schema_before=(self.state.schema_before if message.schema_before is None
                           else message.schema_before),
            last_error=None if result.ok else (result.error, result.error_details))
        if result.ok:
            self._select_next = result.new_revision
            if result.action == "revision":
                self.switch_mode("graph")  # where the new revision shows
            self.notify(done_text(result), title="Done")
        elif self._replan is None:  # (refused: the next snapshot says why, and offers)
            hint = "" if result.error.endswith(")") and "(e: " in result.error else "  (e: details)"
            self.notify(f"{result.error}{hint}", title="Failed", severity="error", timeout=10)
        self.load(reload_files=result.action in ("merge", "revision"))

    # -- dialogs -------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(TextScreen("Keys", help_text(self.screen, self.active_bindings)))


def _write_revision(project: Project, asked: PendingScreen.NewRevisionRequested) -> ActionResult:
    """autogen's write_revision (imported by the action worker: it loads multiprocessing)."""
    from migtui.core.autogen.diff import write_revision

    return write_revision(project, asked.message, choices=asked.choices, reviewed=asked.reviewed)
