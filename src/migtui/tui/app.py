"""The migtui App: wiring, global keys, workers that call the core."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import get_current_worker

from migtui.core.actions.failures import RUNNING_STEP
from migtui.core.actions.plan import Plan
from migtui.core.actions.project import Project
from migtui.core.checks.preflight import check_plan
from migtui.core.checks.rehearsal import rehearse
from migtui.core.errors import MigtuiError, from_exception
from migtui.core.models import ActionResult, DatabaseState, DatabaseStatus, Snapshot
from migtui.core.revisions.problems import problems_summary, problems_text
from migtui.core.schema.inspector import DatabaseInspector
from migtui.core.schema.model import SchemaInfo
from migtui.screens.confirm import ConfirmScreen
from migtui.screens.dialogs import QuestionScreen, TextScreen
from migtui.screens.graph import GraphScreen
from migtui.screens.pending import PendingScreen
from migtui.screens.tables import TablesScreen
from migtui.tui.commands import RevisionCommands, TableCommands, binding_commands
from migtui.tui.help import help_text
from migtui.tui.messages import ActionFinished, LoadFailed, LogLine, SnapshotLoaded
from migtui.tui.settings import binding_ids, load_settings, remember_theme

_VERB = {"upgrade": "Upgraded", "downgrade": "Downgraded", "stamp": "Stamped",
         "merge": "Merged", "revision": "Wrote revision"}


class MigtuiApp(App[None]):
    """Browse and apply the Alembic migrations of one project."""

    TITLE = "migtui"
    CSS_PATH = Path(__file__).with_name("app.tcss")
    MODES = {"graph": GraphScreen, "pending": PendingScreen, "tables": TablesScreen}
    BINDINGS = [
        Binding("g", "switch_mode('graph')", "Graph", id="app.graph"),
        Binding("a", "switch_mode('pending')", "Pending", id="app.pending"),
        Binding("t", "switch_mode('tables')", "Tables", id="app.tables"),
        Binding("r", "refresh", "Refresh", id="app.refresh"),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    snapshot: reactive[Snapshot | None] = reactive(None, always_update=True)
    progress: reactive[str] = reactive("")
    # The last write action's result; screens watch it to refresh and mark what changed.
    last_result: reactive[ActionResult | None] = reactive(None, always_update=True)

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project
        self.busy = False
        self.load_error = ""
        self.last_error: tuple[str, str] | None = None
        self._problems_error: tuple[str, str] | None = None  # broken revision files
        self.select_next: str | None = None
        self.log_lines: list[str] = []
        # Until the tables screen exists, the app keeps the schema from before the last
        # action so that the screen can mark what changed when it first opens.
        self.tables_seen = False
        self.schema_before: SchemaInfo | None = None
        self._steps_total = 0
        self._steps_done = 0
        self._action_label = ""

    COMMANDS = App.COMMANDS | {RevisionCommands, TableCommands}

    def on_mount(self) -> None:
        self._apply_settings()
        self.switch_mode("graph")
        self.load(first=True)

    def _apply_settings(self) -> None:
        """Remapped keys and the remembered theme; bad config is reported, defaults apply."""
        settings = load_settings(Path(self.project.options.cwd), binding_ids([DOMNode]))
        if settings.keymap:
            self.set_keymap(settings.keymap)
        if settings.theme and settings.theme in self.available_themes:
            self.theme = settings.theme
        elif settings.theme:
            settings.problems.append(f"unknown theme {settings.theme!r}")
        for problem in settings.problems:
            self.notify(problem, title="migtui settings", severity="warning", timeout=10)
        self.theme_changed_signal.subscribe(self, lambda theme: remember_theme(theme.name))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's own commands, then every binding of the current screen."""
        yield from super().get_system_commands(screen)
        yield from binding_commands(self, screen)

    def revision_command(self, verb: str, revision: str) -> None:
        """Palette: go to a revision on the graph, then run the graph action on it."""
        self.switch_mode("graph")
        screen = self.screen
        if not isinstance(screen, GraphScreen):
            return
        screen.key_escape()  # clear a filter that could hide the revision
        if not screen.graph_view.select(revision):
            self.notify(f"{revision[:12]} is not in the graph", severity="warning")
            return
        actions = {"upgrade_to": screen.action_upgrade_to,
                   "downgrade_to": screen.action_downgrade_to, "stamp": screen.action_stamp}
        if verb in actions:
            actions[verb]()

    # -- reading -------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self, reload_files: bool = False, first: bool = False) -> None:
        """Read the revision files (again, when asked) and the database in a worker."""
        if reload_files:
            self.project.reload()
        try:
            if first:
                # Draw the graph now: env.py may take seconds to import the models.
                waiting = DatabaseStatus(DatabaseState.NOT_CHECKED, error="reading the database")
                early = Snapshot(self.project.info, self.project.graph(), waiting)
                self.post_message(SnapshotLoaded(early))
            snapshot = self.project.snapshot()
            self.post_message(SnapshotLoaded(snapshot))
        except MigtuiError as exc:
            self.post_message(LoadFailed(exc))
            return
        # Shown; now finish Alembic's authoritative load (imports of unchecked files).
        worker = get_current_worker()
        verified = self.project.verify(lambda: worker.is_cancelled)
        if verified is not None:
            self.post_message(SnapshotLoaded(replace(snapshot, graph=verified)))

    def on_snapshot_loaded(self, message: SnapshotLoaded) -> None:
        self.load_error = ""
        self.snapshot = message.snapshot
        db = message.snapshot.database
        if db.state is DatabaseState.UNREACHABLE:
            self.last_error = (db.error, db.error_details)
        # Broken revision files are the error to explain, unless something newer is.
        problems = message.snapshot.graph.problems
        shown = self._problems_error
        self._problems_error = (
            (problems_summary(problems), problems_text(problems)) if problems else None)
        if db.reachable and self.last_error in (None, shown):
            self.last_error = self._problems_error

    def on_load_failed(self, message: LoadFailed) -> None:
        self.load_error = f"✗ {message.error.message}  (e: details, r: retry)"
        self.last_error = (message.error.message, message.error.details)
        self.snapshot = None
        self.notify(message.error.message, title="Cannot read the project", severity="error")

    def action_refresh(self) -> None:
        """Re-read the revision files and the database."""
        self.load(reload_files=True)

    # -- writing -------------------------------------------------------------

    def ready_for_write(self) -> Snapshot | None:
        """The current snapshot if a write action may start now; else say why not."""
        if self.project.options.read_only:
            self.notify("This session is read-only (--read-only): write actions are disabled",
                        severity="warning")
            return None
        if self.busy:
            self.notify("An action is already running", severity="warning")
            return None
        snapshot = self.snapshot
        if snapshot is None:
            self.notify("The project is not loaded (r re-reads it)", severity="warning")
            return None
        if snapshot.database.state is DatabaseState.NOT_CHECKED:
            self.notify("Still reading the database: a moment", severity="warning")
            return None
        if not snapshot.database.reachable:
            self.notify(f"The database cannot be reached: {snapshot.database.error} "
                        "(r retries)", severity="error")
            return None
        return snapshot

    def confirm_and_run(self, plan: Plan, snapshot: Snapshot | None = None) -> None:
        """Ask with a ConfirmScreen; run the plan in a worker when the user says yes.

        ``snapshot`` is the one the plan was made from (by default the current one): the
        worker refuses to run if the database has moved away from it meanwhile.
        """
        snapshot = snapshot or self.snapshot
        if snapshot is None or self.busy:
            self.notify("Not now: an action is running or the project is not loaded",
                        severity="warning")
            return
        expected = snapshot.database.current_heads
        sql_loader = checks = rehearsal = None
        if plan.action != "stamp" and plan.steps:
            sql_loader = self._sql_loader(plan, snapshot)
            # Pre-flight: the plan's risks counted on the live data; h rehearses it.
            checks = partial(check_plan, self.project, plan, snapshot.database.dialect)
            rehearsal = partial(rehearse, self.project, plan, expected)

        def answered(yes: bool | None) -> None:
            if yes:
                self._start(plan.description, len(plan.steps))
                self._run_plan(plan, expected)

        self.push_screen(ConfirmScreen(plan, sql_loader, checks, rehearsal), answered)

    def _sql_loader(self, plan: Plan, snapshot: Snapshot) -> Callable[[], str]:
        """Offline SQL of the plan, as `alembic upgrade/downgrade START:END --sql`."""
        project, heads = self.project, snapshot.database.current_heads

        def unavailable(why: str) -> Callable[[], str]:
            def fail() -> str:
                raise MigtuiError(why)
            return fail

        if len(heads) > 1:
            return unavailable("SQL preview needs the database on a single revision")
        start = heads[0] if heads else "base"
        if plan.action == "upgrade":
            return lambda: project.sql("upgrade", start, plan.target)
        if plan.target == "base" or plan.target in snapshot.graph:
            end = plan.target
        else:  # one step down ("-1"): to the parent of the revision it undoes
            last = snapshot.graph.get(plan.steps[-1].revision)
            parents = last.down_revisions if last else ()
            if len(parents) > 1:
                return unavailable("no single SQL range for stepping down from a merge point")
            end = parents[0] if parents else "base"
        return lambda: project.sql("downgrade", start, end)

    def _start(self, description: str, steps: int) -> None:
        self.busy = True
        self._steps_total, self._steps_done, self._action_label = steps, 0, description
        self.progress = f"{description}…"

    @work(thread=True, group="action", exit_on_error=False)
    def _run_plan(self, plan: Plan, expected: tuple[str, ...]) -> None:
        # Another process may have moved the database since the plan was made.
        status = self.project.status()
        if status.reachable and set(status.current_heads) != set(expected):
            now = ", ".join(h[:12] for h in status.current_heads) or "base"
            self.post_message(ActionFinished(ActionResult(
                plan.action, plan.target, False, (), expected, status.current_heads, 0.0,
                error=f"The database moved to {now} since this was planned: nothing ran; "
                      "the graph is re-read, plan again",
            )))
            return
        run = {"upgrade": self.project.upgrade, "downgrade": self.project.downgrade,
               "stamp": self.project.stamp}[plan.action]
        before = None if self.tables_seen else self._read_schema_quietly()
        self._finish(plan.action, plan.target, lambda: run(plan.target, on_line=self._post_line),
                     before)

    def _read_schema_quietly(self) -> SchemaInfo | None:
        inspector = DatabaseInspector(self.project)
        try:
            return inspector.read_schema()
        except MigtuiError:
            return None  # no marks is better than no action
        finally:
            inspector.close()

    def run_merge(self, message: str, heads: tuple[str, ...]) -> None:
        """Write a merge revision of the given heads in a worker."""
        self._start("Merging heads", 0)
        self._merge(message, heads)

    @work(thread=True, group="action", exit_on_error=False)
    def _merge(self, message: str, heads: tuple[str, ...]) -> None:
        self._finish("merge", " ".join(heads),
                     lambda: self.project.merge(message, heads, self._post_line))

    def _finish(self, action: str, target: str, run: Callable[[], ActionResult],
                schema_before: SchemaInfo | None = None) -> None:
        """Run an action and always post ActionFinished, so the app is never left busy."""
        try:
            result = run()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            err = from_exception(exc, f"{action.capitalize()} failed")
            result = ActionResult(action, target, False, (), (), (), 0.0,
                                  error=err.message, error_details=err.details)
        self.post_message(ActionFinished(result, schema_before))

    def _post_line(self, line: str) -> None:
        self.post_message(LogLine(line))

    def on_log_line(self, message: LogLine) -> None:
        self.log_lines.append(message.line)
        if isinstance(self.screen, GraphScreen):
            self.screen.sync_log()
        match = RUNNING_STEP.search(message.line)
        if match and self.busy:
            self._steps_done += 1
            total = max(self._steps_total, self._steps_done)
            self.progress = (f"{self._action_label}: step {self._steps_done} of {total} "
                             f"({match.group(1)} {match.group(2) or 'base'} → "
                             f"{match.group(3) or 'base'})")

    def on_action_finished(self, message: ActionFinished) -> None:
        result = message.result
        if message.schema_before is not None:
            self.schema_before = message.schema_before
        self.last_result = result
        self.busy = False
        self.progress = ""
        if result.ok:
            self.last_error = None
            self.select_next = result.new_revision
            after = ", ".join(h[:12] for h in result.heads_after) or "base"
            what = result.new_revision[:12] if result.new_revision else after
            ran = sum(1 for line in result.log if RUNNING_STEP.search(line))
            count = (f" {ran} revision{'s' if ran != 1 else ''}"
                     if result.action in ("upgrade", "downgrade") else "")
            self.notify(f"{_VERB.get(result.action, result.action)}{count}: now at {what} "
                        f"({result.seconds:.2f} s)", title="Done")
        else:
            self.last_error = (result.error, result.error_details)
            self.notify(f"{result.error}  (e: details)", title="Failed", severity="error",
                        timeout=10)
        self.load(reload_files=result.action in ("merge", "revision"))

    # -- dialogs -------------------------------------------------------------

    def show_error_details(self) -> None:
        """Open the details (traceback) of the last error, if there is one."""
        if self.last_error is None:
            self.notify("No error to show")
            return
        message, details = self.last_error
        self.push_screen(TextScreen(message, Text(details or "(no further details)")))

    def action_help(self) -> None:
        self.push_screen(TextScreen("Keys", help_text(self.screen, self.active_bindings)))

    async def action_quit(self) -> None:
        """Quit; while a migration runs, ask first."""
        if not self.busy:
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(QuestionScreen(
            "A migration is running. Quit anyway?",
            "Alembic is still working. migtui closes when the running migration returns, "
            "and the database stays wherever Alembic left it (on PostgreSQL a failed step "
            "is rolled back). Press n to keep watching."), answered)
