"""The app's side of environments: where each configured one stands, and which one the
session works on.

The base class of MigtuiApp (app.py keeps the wiring). After each read of the session's
own database, every other configured environment is read at once (``Fleet.read_each``:
one env.py run each, with the looking-only timeouts), so that the graph can
mark the revision each stands on and the environments screen show each row as it
arrives (``AppState.environment_reads``); the session's own read is its environment's.
``E`` on the graph chooses the environment the session works on: the app then opens
the project on it (as ``--env NAME`` would) and hands the new project down to every
main screen.
"""

from __future__ import annotations

import time
from dataclasses import replace

from textual import work

from migtui.core.actions.project import Project
from migtui.core.environments.config import Environment
from migtui.core.environments.fleet import EnvironmentRead, Fleet
from migtui.core.errors import MigtuiError
from migtui.core.libraries import importing, load
from migtui.core.models import DatabaseState, Snapshot
from migtui.screens.state import AppState, EnvironmentMark, SessionScreen
from migtui.tui.messages import EnvironmentMarked
from migtui.tui.running import RunningActions

# Seconds the workers wait after the database is drawn before importing Alembic or
# starting processes: a key typed at the first paint opens its dialog in the frames
# after it, and the import would hold the GIL while the dialog is built.
KEY_GRACE_S = 0.15


def unread_mark(env: Environment) -> EnvironmentMark:
    """The mark of an environment not read yet."""
    return EnvironmentMark(env.name, env.group, env.protected, problem=env.problem)


def read_mark(read: EnvironmentRead) -> EnvironmentMark:
    """The mark of an environment as read: where it stands, or why it was not read."""
    db, env = read.status, read.environment
    # (env.py connects elsewhere than its url: not put on another database's revision)
    placed = db.reachable and not db.unused_url
    return EnvironmentMark(env.name, env.group, env.protected, read=True,
                           reachable=placed, heads=db.current_heads if placed else (),
                           problem="" if placed else db.write_refusal or db.error)


class EnvironmentsApp(RunningActions):
    """Reads every configured environment for the graph's marks; switches between them."""

    project: Project
    protected = ""  # the name of the protected environment open: typed to write

    def __init__(self, fleet: Fleet, environment: str, state: AppState) -> None:
        super().__init__()
        self.fleet = fleet
        self._screens: dict[str, SessionScreen] = {}
        self._marks_token = 0
        marks = tuple(unread_mark(e) for e in fleet.config.environments)
        self.set_reactive(EnvironmentsApp.state,
                          replace(state, environments=marks, environment=environment))
        chosen = fleet.config.find(environment)
        self.protected = environment if chosen is not None and chosen.protected else ""

    def read_environments(self, snapshot: Snapshot) -> None:
        """The session's database was just read: that is its environment's read; read
        every other one, each in a worker of its own."""
        self._marks_token += 1
        chosen = self.state.environment
        own = self._own_environment()
        reads = () if own is None else (EnvironmentRead(own, snapshot, time.time(), 0.0),)
        marks = tuple(self._own_mark(m, snapshot) if m.name == chosen else m
                      for m in self.state.environments)
        self.state = replace(self.state, environments=marks, environment_reads=reads,
                             environments_round=self._marks_token)
        self.fleet.forget_reach()
        self._read_environments(self._marks_token, tuple(
            env for env in self.fleet.environments if own is None or env.name != own.name))

    def _own_environment(self) -> Environment | None:
        """The environment the session's snapshot is the read of, if it is one."""
        if self.state.environment:
            return self.fleet.config.find(self.state.environment)
        if not self.fleet.config.environments:
            return self.fleet.environments[0]  # the project's own database alone
        return None

    @staticmethod
    def _own_mark(mark: EnvironmentMark, snapshot: Snapshot) -> EnvironmentMark:
        db = snapshot.database
        return replace(mark, read=True, reachable=db.reachable,
                       heads=db.current_heads if db.reachable else (),
                       problem="" if db.reachable else db.error)

    @work(description="_read_environments",
          thread=True, group="environment-marks", exit_on_error=False)
    def _read_environments(self, token: int, envs: tuple[Environment, ...]) -> None:
        """Read them all at once (Fleet.read_each), posting each read as it arrives."""
        def post(read: EnvironmentRead) -> None:
            self.post_message(EnvironmentMarked(token, read))

        if not envs:  # (no other environment: nothing to import for, beside a dialog)
            return
        time.sleep(KEY_GRACE_S)
        load()
        self.fleet.read_each(envs, post)

    def on_environment_marked(self, message: EnvironmentMarked) -> None:
        if message.token != self._marks_token:
            return  # a newer round of reads is under way
        mark, name = read_mark(message.read), message.read.environment.name
        reads = tuple(r for r in self.state.environment_reads if r.environment.name != name)
        self.state = replace(self.state, environment_reads=(*reads, message.read),
                             environments=tuple(mark if m.name == mark.name else m
                                                for m in self.state.environments))

    def use_environment(self, name: str) -> bool:
        """Work on environment ``name`` from now on: the graph, its actions, the tables
        (the caller reads its database); False, saying why, when it cannot be used."""
        if self.state.busy:
            self.notify("An action is running: choose another environment when it ends",
                        severity="warning")
            return False
        env = self.fleet.config.find(name)
        if env is None:
            self.notify(f"No environment {name!r}", severity="warning")
            return False
        try:
            with importing():  # (Alembic reads its config: the one import lock)
                project = self.fleet.project_for(env)
        except MigtuiError as exc:
            now = self.state.environment or "the project's own database"
            self.notify(f"{name} cannot be used: {exc.message.rstrip('.')}. Still on {now}.",
                        severity="error")
            return False
        self.project = project
        self.protected = env.name if env.protected else ""
        for screen in self._screens.values():
            screen.use_project(project)
        self.state = replace(self.state, environment=name, last_error=None)
        return True

    @staticmethod
    def final(snapshot: Snapshot) -> bool:
        """Whether a snapshot holds the database as read (not the early one)."""
        return snapshot.database.state is not DatabaseState.NOT_CHECKED
