"""How the app reads the project: the graph from the files for the first paint, then the
database, then Alembic's authoritative load, each once what came before is on screen.

The base class of MigtuiApp (app.py keeps the wiring). The first paint needs only the
revision headers: with the header cache warm that imports neither alembic nor
SQLAlchemy (tests/test_first_paint_imports.py). Importing them, running env.py and
importing unchecked revision files all hold the GIL for tenths of a second, so each
waits in its worker until the snapshot before it has been drawn; the workers start at
once (a test that waits for workers sees them). As `migtui` starts, the database's first
read is begun in a process of its own (FirstRead) and runs beside the first paint: its
status is shown without importing either here; core/libraries.py imports them after.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
from dataclasses import replace

from textual import work
from textual.worker import get_current_worker

from migtui.core.actions.plan import read_marks_ahead
from migtui.core.actions.project import Project
from migtui.core.autogen.fresh_process import warm
from migtui.core.env.imported import changed_since_imported, short_names
from migtui.core.environments.fleet import Fleet
from migtui.core.environments.reading import FirstRead
from migtui.core.errors import MigtuiError, from_exception
from migtui.core.libraries import importing, load
from migtui.core.models import DatabaseState, DatabaseStatus, RevisionGraph, Snapshot
from migtui.screens.graph import GraphScreen
from migtui.screens.state import AppState, SessionScreen
from migtui.tui.environments_app import KEY_GRACE_S, EnvironmentsApp
from migtui.tui.messages import LoadFailed, SnapshotLoaded

MAIN_MODES = ("graph", "pending", "tables", "environments")
# Seconds after the database has first been read (and drawn) until the tables screen is
# built while nobody looks: out of the way of a key typed at the first paint.
PREBUILD_AFTER = 0.5

# Revisions whose marks (read from their source) are read ahead for the first frames.
MARKS_AHEAD = 100
# The progress line while `r` reads the revision files and the database.
READING = "Reading the revision files and the database…"
READING_SAID_AFTER = 0.5  # s: a quicker read does not flash it
# The first read (env.py at launch) still unanswered this long after the first paint.
SLOW_FIRST_READ = "Still waiting for env.py (a server, a lock, input?): q quits"
SLOW_FIRST_READ_AFTER = 5.0


def screen_class(mode: str) -> type[SessionScreen]:
    """The class of a main screen (all but the graph's imported on first use)."""
    if mode == "pending":
        from migtui.screens.pending import PendingScreen

        return PendingScreen
    if mode == "tables":
        from migtui.screens.tables import TablesScreen

        return TablesScreen
    if mode == "environments":
        from migtui.screens.environments import EnvironmentsScreen

        return EnvironmentsScreen
    return GraphScreen


def _resume_collector() -> None:
    gc.freeze()
    gc.enable()


def _early(project: Project, graph: RevisionGraph) -> Snapshot:
    """The first snapshot: the graph, the database not read yet."""
    waiting = DatabaseStatus(DatabaseState.NOT_CHECKED, error="reading the database")
    return Snapshot(project.info, graph, waiting)


class LoadingApp(EnvironmentsApp):
    """Reads the project in the ``load`` worker group, one step per drawn snapshot."""

    def __init__(self, fleet: Fleet, environment: str, state: AppState,
                 first_read: FirstRead | None = None) -> None:
        super().__init__(fleet, environment, state)
        self._first_read = first_read  # the database read begun at launch, apart
        self._painted = threading.Event()  # the first graph is on screen
        self._shown = threading.Event()  # the last snapshot is on screen
        self._prebuild_asked = False
        self._slow_first_asked = False
        self._reading = 0  # reads `r` asked for that have not answered yet
        self._stale_told: set[str] = set()  # modules said to have changed since imported
        # Set by the CLI when it disabled the garbage collector for the start (see
        # cli.run): turned back on once the first frame is on screen.
        self.collector_paused = False

    def resume_collector_after_paint(self) -> None:
        """Turn the garbage collector back on after the next frame, if it was paused:
        what the start made is frozen first (it lives as long as the app), so that
        collections later do not walk it again."""
        if self.collector_paused:
            self.collector_paused = False
            self.call_after_refresh(_resume_collector)

    def graph_at_hand(self) -> SnapshotLoaded | None:
        """The first snapshot, if the graph can be had at once (the header cache warm):
        read here on the UI thread, it is in the very first frame. (A worker would
        wait its turn for the GIL behind that frame, and a second frame would follow.)
        None when it needs a worker: Alembic, a revision module imported, a cold cache."""
        try:
            graph = self.project.graph_at_hand()
        except Exception:  # (the worker reads it again, and says what is wrong)
            return None
        if graph is None:
            return None
        return SnapshotLoaded(_early(self.project, graph), self.project, first=True)

    @work(description="draw_first", thread=True, exclusive=True, group="load", exit_on_error=False)
    def draw_first(self, drawn: Snapshot | None = None) -> None:
        """The graph from the revision files alone, for the first paint (unless
        ``drawn``: that one is already on its way); the database (env.py may take
        seconds to import the models) once that is on screen."""
        apart, self._first_read = self._first_read, None
        project = self.project
        early = drawn
        if early is None:
            self._painted.clear()
            try:
                with importing():  # (a cold cache: Alembic finds the script folder)
                    early = _early(project, project.graph())
            except MigtuiError as exc:
                if apart is not None:
                    apart.stop()
                self.post_message(LoadFailed(exc))
                return
            self.post_message(SnapshotLoaded(early, project, first=True))
        self._painted.wait(timeout=10)
        worker = get_current_worker()
        if drawn is not None:  # (the graph cache's, maybe: read from the headers now)
            with contextlib.suppress(MigtuiError):
                graph = project.graph()
                if graph is not drawn.graph and not worker.is_cancelled:
                    early = _early(project, graph)
                    self.post_message(SnapshotLoaded(early, project, first=True))
        if apart is not None:  # (while the database is read elsewhere: this thread idles)
            with contextlib.suppress(Exception):  # (only ahead: the read must go on)
                read_marks_ahead(early.graph, MARKS_AHEAD,
                                 lambda: apart.answered() or worker.is_cancelled)
        if not worker.is_cancelled:
            self._read(apart=apart)
        elif apart is not None:
            apart.stop()

    @work(description="load", thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self, reload_files: bool = False, check_bytes: bool = False,
             written: tuple[str, ...] = ()) -> None:
        """Read the revision files (again, when asked: ``written``, the files the folder
        watcher saw written, and with ``check_bytes`` every file whose bytes changed, even
        under the same size and mtime) and the database in a worker."""
        last = self.state.snapshot
        # The last read's process ended without an answer: env.py ends the processes that
        # run it, so this one runs apart too (in the app's, it would end the app).
        apart = (FirstRead(self.project.options)
                 if last is not None and last.database.process_ended else None)
        self._read(reload_files, apart=apart, check_bytes=check_bytes, written=written)

    def _read(self, reload_files: bool = False, apart: FirstRead | None = None,
              check_bytes: bool = False, written: tuple[str, ...] = ()) -> None:
        """The snapshot, posted; then Alembic's authoritative load (in a load worker).
        ``apart``: the database read begun at launch, used if it read these options."""
        worker = get_current_worker()
        project = self.project  # (one environment throughout: another chosen cancels)
        status = None
        if apart is not None:
            if apart.options == project.options:
                status = apart.status(lambda: worker.is_cancelled)
            apart.stop()  # (answered, or not wanted: its process is not left running)
            if status is not None and status.cause == "config":
                status = None  # (the project's own error: read here, to say it as such)
            if worker.is_cancelled or project is not self.project:
                return
        try:
            if status is None:  # read here: imported first, before any other worker may
                load()
            if written:
                project.files_written(written)
            if reload_files:
                project.reload()
            snapshot = project.snapshot(status=status)
            self._shown.clear()
            self.post_message(SnapshotLoaded(snapshot, project))
        except MigtuiError as exc:
            self.post_message(LoadFailed(exc))
            return
        except Exception as exc:  # (Alembic or SQLAlchemy failed to import: said too)
            self.post_message(LoadFailed(from_exception(exc, "Cannot read the project")))
            return
        # Once shown (and a key that waited for it answered: its dialog drawn); a read
        # apart imported nothing here yet.
        self._shown.wait(timeout=5)
        time.sleep(KEY_GRACE_S)
        # The comparisons' process server (it imports Alembic and SQLAlchemy, never the
        # user's code), started while the graph is looked at: the first `a` then waits
        # only for env.py and the comparison. (Started at once with the read, its two
        # processes made a key's dialog 50 ms later on two cores.)
        warm()
        try:
            load()
            if status is not None:
                project.remember_secrets()
        except Exception:  # (the workers that need them say why, each in its place)
            return
        verified = project.verify(lambda: worker.is_cancelled)
        if verified is not None:
            snapshot = replace(snapshot, graph=verified)
            self.post_message(SnapshotLoaded(snapshot, project))
        # After the snapshot is drawn (it takes a quarter of a second at 10,000 revisions):
        # files rewritten keeping their size and mtime, drawn again if there were any.
        if check_bytes and not worker.is_cancelled and project.recheck_files():
            with contextlib.suppress(MigtuiError):
                snapshot = replace(snapshot, graph=project.graph())
                self.post_message(SnapshotLoaded(snapshot, project))

    def use_environment(self, name: str) -> bool:
        """Another environment: the read begun at launch is not wanted (if not taken).
        One that cannot be used leaves the session, and that read, as they were."""
        if not super().use_environment(name):
            return False
        first, self._first_read = self._first_read, None
        if first is not None:
            first.stop()
        return True

    def read_again(self) -> None:
        """`r`: read the files and the database again; a read that takes more than a
        moment says so until it answers (an env.py that hangs would otherwise leave the
        old screen without a word)."""
        self._reading += 1
        self.set_timer(READING_SAID_AFTER, self._say_reading)
        self.load(reload_files=True, check_bytes=True)

    def _say_reading(self, text: str = READING) -> None:
        if self._reading and not self.state.busy:
            self.state = replace(self.state, progress=text)

    def read_answered(self) -> None:
        """A read ended (a snapshot, or an error): the progress line says so no more."""
        self._reading = 0  # (the load worker is exclusive: the newest read answered)
        if not self.state.busy and self.state.progress in (READING, SLOW_FIRST_READ):
            self.state = replace(self.state, progress="")

    def snapshot_arrived(self, message: SnapshotLoaded) -> None:
        """Called by the app's handler: the load worker goes on once this is drawn."""
        if not message.first:
            self.read_answered()
            if self.current_mode != "pending":  # (autogenerate imports them afresh; a
                self._tell_stale_modules()  # step's confirmation says it in any case)
        self.call_after_refresh((self._painted if message.first else self._shown).set)
        if message.first and not self._slow_first_asked:  # (an env.py that hangs: said)
            self._slow_first_asked = True
            self._reading += 1
            self.set_timer(SLOW_FIRST_READ_AFTER, lambda: self._say_reading(SLOW_FIRST_READ))
        if self.final(message.snapshot) and not self._prebuild_asked:
            self._prebuild_asked = True
            self.set_timer(PREBUILD_AFTER, self._prebuild_tables)

    def _tell_stale_modules(self) -> None:
        """Say once for each module of the project that changed on disk after this
        process imported it (env.py and the revisions go on running the old copy)."""
        new = [p for p in changed_since_imported() if p not in self._stale_told]
        if new:
            self._stale_told.update(new)
            self.notify(f"{short_names(new, os.getcwd())} changed after migtui imported "
                        "it: steps run the copy imported first (it matters if env.py or "
                        "a revision takes something from it)",
                        severity="warning", timeout=8)

    async def _prebuild_tables(self) -> None:
        """Build (mount) the tables screen in the background, without showing it: it
        lists the tables at once and keeps its list read from then on (it re-reads after
        every new snapshot), so that `t` only has to show it."""
        if "tables" in self._screens or not self.is_running:  # (not while closing:
            return  # Textual goes through the screen stacks then)
        if len(self.screen_stack) > 1:  # a dialog is up (or being built): not now
            self.set_timer(PREBUILD_AFTER, self._prebuild_tables)
            return
        # Textual's own first step of switch_mode (the mode's screen is made and
        # mounted, its stack kept), without switching to it.
        await self._init_mode("tables")
        screen = self._screens.get("tables")
        if screen is None:
            return
        # Styled as Textual styles the screens below the current one, so that switching
        # to it does not restyle the whole app first (a tenth of a second and more).
        self.stylesheet.update(screen, animate=False)
        screen._css_update_count = self._css_update_count

