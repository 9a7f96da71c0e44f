"""What the main screens share, in one typed object that the app owns and hands down.

The app is the only writer: it replaces its ``AppState`` (a frozen dataclass) and sets
the new one on every main screen (``SessionScreen.state``); each screen redraws what
changed. Screens never read or write attributes of the app: they read their ``state``
and ask for work by posting Messages, which the app handles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen

from migtui.core.actions.plan import Plan
from migtui.core.actions.project import Project
from migtui.core.environments.fleet import EnvironmentRead
from migtui.core.models import ActionResult, DatabaseState, Snapshot
from migtui.core.revisions.problems import history_refusal
from migtui.screens.dialogs import TextScreen
from migtui.widgets.status_line import StatusLine, not_read

if TYPE_CHECKING:
    from migtui.core.schema.model import SchemaInfo


@dataclass(frozen=True)
class EnvironmentMark:
    """Where one configured environment stands, as last read (the graph's ``@dev``)."""

    name: str  # "staging", or "tenants:acme" for a tenant
    group: str = ""  # "tenants" for a tenant
    protected: bool = False
    read: bool = False  # False: not read yet (or it could not be opened at all)
    reachable: bool = False
    heads: tuple[str, ...] = ()
    problem: str = ""  # why it was not read, when it was not


@dataclass(frozen=True)
class AppState:
    """One session of the app, as the screens see it."""

    read_only: bool = False
    # The revision files and the database, as last read (None: not read, or it failed).
    snapshot: Snapshot | None = None
    # Why the project could not be read at all ("" when it could).
    load_error: str = ""
    # A write action is running; progress says which step, for the graph's progress line.
    busy: bool = False
    progress: str = ""
    # The last write action's result, and the tables from before it when no tables
    # screen held them: the tables screen marks what that action changed.
    last_result: ActionResult | None = None
    schema_before: SchemaInfo | None = None
    # The revision the graph selects with this snapshot (a new merge or revision).
    select_next: str | None = None
    # The last lines Alembic and env.py wrote during actions, for the graph's log panel,
    # and how many lines were written in all (the kept ones are the last of those).
    log_lines: tuple[str, ...] = ()
    log_written: int = 0
    # The error that `e` explains: (one line, details).
    last_error: tuple[str, str] | None = None
    # Every configured environment (none: the project's own database alone), and the one
    # the session's database is: the graph's marks, its ●/○ and every action refer to it
    # ("" : the database the project was opened on).
    environments: tuple[EnvironmentMark, ...] = ()
    environment: str = ""
    # Every environment as read in the newest round of reads (the environments screen's
    # rows), in the order they arrived; the round counts up with each new one.
    environment_reads: tuple[EnvironmentRead, ...] = ()
    environments_round: int = 0

    def chosen_environment(self) -> EnvironmentMark | None:
        """The mark of the environment the session works on, if one is chosen."""
        return next((m for m in self.environments if m.name == self.environment), None)

    def write_refusal(self) -> tuple[str, SeverityLevel] | None:
        """Why a write action may not start now (and how loud to say it), or None."""
        if self.read_only:
            return ("This session is read-only (--read-only): write actions are disabled",
                    "warning")
        if self.busy:
            return "An action is already running", "warning"
        snapshot = self.snapshot
        if snapshot is None:
            return "The project is not loaded (r re-reads it)", "warning"
        if snapshot.database.state is DatabaseState.NOT_CHECKED:
            return "Still reading the database: a moment", "warning"
        if not snapshot.database.reachable:
            if snapshot.database.cause == "env.py":  # (the error names env.py and its line)
                return f"{snapshot.database.error} (r retries)", "error"
            reason = not_read(snapshot.database)[1]
            why = _NOT_READ.get(snapshot.database.cause, "The database cannot be reached")
            return f"{why}: {reason} (r retries)", "error"
        if snapshot.database.write_refusal:
            return snapshot.database.write_refusal, "error"
        return None


# Why a write cannot start on a database that was not read, by its cause.
_NOT_READ = {"login": "The database refused the login",
             "version table": "alembic_version cannot be read"}


class SessionScreen(Screen[None]):
    """A main screen (graph, pending changes, tables): shows the state the app hands down.

    Subclasses implement ``show_state(old, new)``; ``old`` is None the first time (on
    mount), so that they draw everything.
    """

    # What the status line says while there is no snapshot and no load error.
    WAITING = "Reading revisions…"

    # Quit and help first in every main screen's footer, before the screen's own keys: a
    # narrow footer cuts from the end. (The app binds the same keys; these put them first.)
    BINDINGS = [
        Binding("q", "app.quit", "Quit", id="app.quit"),
        Binding("question_mark,f1", "app.help", "Help", id="app.help"),
    ]

    state: reactive[AppState] = reactive(AppState, always_update=True, init=False)

    # The actions that write: hidden from the footer, help and palette when read-only.
    WRITE_ACTIONS: frozenset[str] = frozenset()

    def __init__(self, project: Project, state: AppState) -> None:
        super().__init__()
        self.project = project
        self.set_reactive(SessionScreen.state, state)
        self._deferred = ""  # a write action asked for before the database was read

    def watch_state(self, old: AppState, new: AppState) -> None:
        # Until mounted, on_mount draws whatever state is newest; once the app is
        # exiting, nothing needs drawing.
        if self.is_mounted and not self.app_closing:
            self.show_state(old, new)
            self._replay(new)

    def _replay(self, new: AppState) -> None:
        """A write key pressed while the database was being read runs once it has been
        (if nothing was opened over this screen meanwhile): the key is not lost."""
        snapshot, action = new.snapshot, self._deferred
        if not action or (snapshot is not None
                          and snapshot.database.state is DatabaseState.NOT_CHECKED):
            return
        self._deferred = ""
        if snapshot is not None and self.is_current and self.app.screen is self:
            # "Still reading…, this opens as soon as…" has been answered: it would
            # otherwise stay over the dialog for seconds.
            self.app.clear_notifications()
            self.call_later(self.run_action, action)

    def show_state(self, old: AppState | None, new: AppState) -> None:
        """Redraw what changed between two states."""

    @property
    def app_closing(self) -> bool:
        """Whether the app is exiting. A screen built in the background can be mounted
        then without its widgets (Textual mounts none once exit is asked): its handlers
        have nothing to draw on."""
        return not (self.app.is_running and self.is_attached)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A read-only session does not advertise what it will not do.
        return not (self.state.read_only and action in self.WRITE_ACTIONS)

    def on_key(self, event: events.Key) -> None:
        """A hidden write key pressed in a read-only session still says why nothing runs."""
        if not self.state.read_only:
            return
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if binding.action in self.WRITE_ACTIONS:
                event.stop()
                refusal = self.state.write_refusal()
                if refusal is not None:
                    self.notify(refusal[0], severity=refusal[1])
                return

    @staticmethod
    def snapshot_changed(old: AppState | None, new: AppState) -> bool:
        """Whether a new snapshot (or load error) arrived."""
        return old is None or new.snapshot is not old.snapshot or new.load_error != old.load_error

    def use_project(self, project: Project) -> None:
        """The session now works on another environment's database (attributes go down)."""
        self.project = project

    def show_status(self) -> None:
        """The status line: the snapshot, or why there is none."""
        status = self.query_one(StatusLine)
        chosen = self.state.chosen_environment()
        environment = "" if chosen is None else (
            chosen.name + (" (protected)" if chosen.protected else ""))
        if self.state.snapshot is None:
            status.show(None, self.state.load_error or self.WAITING)
        else:
            status.show(self.state.snapshot, environment=environment)

    def ready_for_write(self, again: str = "") -> Snapshot | None:
        """The current snapshot if a write action may start now; else say why not.

        ``again`` names the action asking: pressed while the database is still being
        read, it runs again as soon as it has been (see ``_replay``)."""
        refusal = self.state.write_refusal()
        snapshot = self.state.snapshot
        if (refusal is not None and again and snapshot is not None
                and snapshot.database.state is DatabaseState.NOT_CHECKED
                and not self.state.busy and not self.state.read_only):
            if again != self._deferred:  # (the same key again: said once)
                self.notify(f"Still reading the database: {_WAITING.get(again, 'this')} "
                            "opens as soon as it has been read")
            self._deferred = again  # the newest key counts
            self.call_after_refresh(_load_dialogs)  # (this waits anyway; the dialog won't)
            return None
        if refusal is not None:
            message, severity = refusal
            self.notify(message, severity=severity)
            return None
        return snapshot

    def history_refused(self, snapshot: Snapshot, plan: Plan | None = None) -> bool:
        """Whether the revision history is too broken for Alembic to run anything.

        If so, the user sees why: the plan's confirmation with only Cancel, or (with no
        plan to show) a notification."""
        refusal = history_refusal(snapshot.graph.problems) or _unknown_refusal(snapshot, plan)
        if not refusal:
            return False
        if plan is None:
            self.notify(refusal + " (e: details)", severity="error", timeout=10)
        else:
            from migtui.screens.confirm import ConfirmScreen  # (not before the first paint)

            self.app.push_screen(ConfirmScreen(plan, refusal=refusal,
                                               environment=self.state.environment))
        return True

    def show_last_error(self) -> None:
        """Open the details (traceback) of the last error, if there is one."""
        if self.state.last_error is None:
            self.notify("No error to show")
            return
        message, details = self.state.last_error
        self.app.push_screen(TextScreen(message, Text(details or "(no further details)")))


# What a key pressed before the database was read opens once it has been.
_WAITING = {"upgrade_step": "the upgrade's confirmation",
            "downgrade_step": "the downgrade's confirmation"}


def _load_dialogs() -> None:
    """Import the confirmation's code (a hundredth of a second, pygments among it) while
    a key waits for the database: its dialog then opens that much sooner after the read."""
    import migtui.screens.confirm  # noqa: F401


def _unknown_refusal(snapshot: Snapshot, plan: Plan | None) -> str:
    """Why no upgrade or downgrade can start from a database on a revision that no file
    defines ("" when it is not): Alembic cannot walk from it (a stamp can)."""
    unknown = [h[:12] for h in snapshot.database.current_heads if h not in snapshot.graph]
    if not unknown or (plan is not None and plan.action == "stamp"):
        return ""
    return (f"The database is on {', '.join(unknown)}, which no revision file defines: "
            "Alembic cannot upgrade or downgrade from it. R looks for it in the git "
            "history; s stamps a known revision (no migration runs)")
