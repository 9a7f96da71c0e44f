"""Reading environments whose URL only env.py knows, in processes of their own.

An environment configured by ``x`` arguments only (or the tenants of a group that
names no ``url``) cannot be asked first whether its server answers (core/env/reach.py
needs the URL). Read in this process, its env.py run would hold the process-wide
ENV_LOCK while it waits for a host that does not answer, or for a table another session
has locked, and every other read would wait behind it. So such environments are read
in fresh processes (core/autogen/fresh_process.py), where ``Project.status()`` runs
env.py as everywhere else (the one runner, with the looking-only timeouts); only each
DatabaseStatus comes back through the pipe.

A process costs more than a read, so a few processes (:data:`BUSY`) each read a share
of the environments one after another, sending each status as it is read. When one
read takes longer than :data:`SLOW_S` (its server is slow, or a lock is held), the rest
of that process's share is handed to a new process at once, so nothing waits behind
it; whichever process reads an environment first gives its status. At most
:data:`MOST` processes run for one round; a read still unanswered after
:data:`STUCK_S` ends with an error and its process is killed.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from migtui.core.actions.config import ProjectOptions
from migtui.core.autogen.fresh_process import (
    ENDED_WITHOUT_ANSWER,
    expect_libraries,
    payload_fields,
    run_fresh,
    used_libraries,
    warm,
)
from migtui.core.autogen.task_processes import begin_forked
from migtui.core.env import timeouts
from migtui.core.errors import MigtuiError, from_exception
from migtui.core.models import DatabaseState, DatabaseStatus
from migtui.core.secrets import scrub_secrets

BUSY = max(2, min(4, os.cpu_count() or 2))  # processes started for a round
MOST = 8  # processes at once for a round, counting those waiting on a slow server
SLOW_S = 0.5  # a read this long: the rest of its process's share moves on
STUCK_S = timeouts.CONNECT_TIMEOUT_S + timeouts.STATEMENT_TIMEOUT_S + 30.0
_POLL_S = 0.1
_READ_SHARE = "migtui.core.environments.reading:read_share"
GONE_S = 15.0  # at most this long for the processes stopped at a round's end to be gone
# The first read's niceness. 0: given way to the first paint (5), it made a `u` typed at
# paint wait 0.1-0.2 s longer for its dialog, and the paint was no sooner (a real
# terminal, 1,000 revisions, 2 cores).
NICE = 0

StatusSink = Callable[[int, DatabaseStatus], None]


def read_apart(options: Sequence[ProjectOptions], on_status: StatusSink) -> None:
    """Read the database each of ``options`` (one environment each) connects to, in a
    few fresh processes; ``on_status(index, status)`` hears each one as it is read
    (from another thread), exactly once. Blocks until every one is heard; never raises."""
    if options:
        _Round(list(options), on_status).run()


class FirstRead:
    """The session's first database read, started at launch in a new interpreter.

    Read in the app's own process, it would wait for the first paint and then import
    Alembic and SQLAlchemy and run env.py there (most of a second, holding the GIL).
    Read here it runs beside Textual's start, on another core: a ``u`` typed at the
    first paint opens its confirmation about when ``alembic current`` would have
    answered. The read is ``Project.status()`` in that process (the one env.py runner,
    with the looking-only timeouts), as for any environment read apart.
    """

    def __init__(self, options: ProjectOptions, *, fork: bool = False) -> None:
        """``fork``: the read's process is a fork of this one, made at once (only where
        this process is one thread that has imported none of the project's code: the
        ``migtui`` script as it starts); otherwise a new interpreter."""
        self.options = options
        self._status: DatabaseStatus | None = None
        self._done = threading.Event()
        self._stopped = threading.Event()
        self._request = {"items": [(0, asdict(options))], "nice": NICE,
                         "sys_path": list(sys.path)}
        # Forked here and now, before another thread runs; where it cannot be, the
        # thread starts a new interpreter.
        self._begun = begin_forked(_READ_SHARE, self._request, options.cwd) if fork else None
        threading.Thread(target=self._read, daemon=True, name="migtui-first-read").start()

    def stop(self) -> None:
        """Not wanted after all (the app did not start, or reads other options): its
        process is killed if it still runs."""
        self._stopped.set()

    def answered(self) -> bool:
        """Whether :meth:`status` would answer at once."""
        return self._done.is_set()

    def status(self, cancelled: Callable[[], bool] = lambda: False) -> DatabaseStatus | None:
        """The status, once read (blocks until then, or until ``cancelled()``: a quit
        must not wait for env.py); None when no process could be started for it (the
        caller reads it itself, as it would have without this) or the wait was
        cancelled. A process that ended without an answer is an error status."""
        while not self._done.wait(_POLL_S):
            if cancelled():
                return None
        return self._status

    def _read(self) -> None:
        heard: list[DatabaseStatus] = []

        def on_part(part: dict[str, Any]) -> None:
            if "index" in part and not heard:  # told at once: the process ends after
                if part.get("libraries") is not None:  # before the server can start
                    expect_libraries(part["libraries"])
                heard.append(_status_from(part["status"]))
                self._status = heard[0]
                self._done.set()

        try:
            run_fresh(_READ_SHARE, self._request, self.options.cwd,
                      timeout=STUCK_S, cancelled=self._stopped.is_set, on_part=on_part,
                      new_interpreter=True, begun=self._begun)
        except MigtuiError as exc:
            if exc.message.startswith("The task did not finish"):  # env.py hangs
                heard.append(_stuck(exc.details))
            elif exc.message.startswith(ENDED_WITHOUT_ANSWER):  # env.py ended it
                # (Not read again in the app's own process: it would end that too.)
                heard.append(replace(_failed("env.py ended its process"
                                             + exc.message[len(ENDED_WITHOUT_ANSWER):],
                                             exc.details, cause="env.py"),
                                     process_ended=True))
        finally:
            if not self._done.is_set():
                self._status = heard[0] if heard else None
                self._done.set()


def start_reading() -> None:
    """Reading apart is about to be asked for: start its processes' server now, in the
    background, while the caller sets the rest up."""
    threading.Thread(target=warm, daemon=True, name="migtui-warm").start()


def read_share(request: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
    """In a fresh process: read each environment of the share in turn, sending each
    status (``{"index", "status"}``) as it is read; ``{"ready"}`` first. ``sys_path``:
    the app's, so that env.py imports what it imports in the app and in ``alembic``
    (the project's folder is on it only where ``prepend_sys_path`` puts it). ``nice``:
    run at that lower priority (the first read's :data:`NICE`, when not 0)."""
    if "sys_path" in request:
        sys.path[:] = request["sys_path"]
    if request.get("nice"):
        os.nice(int(request["nice"]))
    from migtui.core.actions.config import open_config
    from migtui.core.actions.project import Project

    yield {"ready": True}
    for index, data in request["items"]:
        options = ProjectOptions(**payload_fields(ProjectOptions, data))
        try:
            status = Project(open_config(options), options).status()
        except Exception as exc:
            err = from_exception(exc, "Cannot open this environment")
            status = DatabaseStatus(DatabaseState.UNREACHABLE, error=err.message,
                                    error_details=err.details, cause="config")
        yield {"index": index, "status": {**asdict(status), "state": status.state.value},
               "libraries": used_libraries() if status.reachable else None}


def _status_from(data: dict[str, Any]) -> DatabaseStatus:
    values = payload_fields(DatabaseStatus, data)
    values["state"] = DatabaseState(values["state"])
    for key in ("url", "error", "error_details"):
        values[key] = scrub_secrets(values.get(key, ""))  # the child's scrub, and ours
    return DatabaseStatus(**values)


def _failed(message: str, details: str = "", cause: str = "connection") -> DatabaseStatus:
    return DatabaseStatus(DatabaseState.UNREACHABLE, error=scrub_secrets(message),
                          error_details=scrub_secrets(details), cause=cause)


def _stuck(details: str) -> DatabaseStatus:
    """env.py's process gave no answer in time: env.py hangs (on the database, or on
    anything else), which is not the same as a database that says no."""
    return _failed(f"env.py gave no answer within {STUCK_S:g} s, so its process was stopped "
                   "(it may wait for the database, a lock, input or a sleep)", details,
                   cause="env.py")


@dataclass
class _Share:
    """The environments one process reads, in order, and how far it is."""

    items: list[int]
    done: int = 0  # how many of ``items`` it has sent
    since: float = 0.0  # when it began its current one (0: the process is not ready)
    handed_on: bool = False  # the rest of its items went to another process
    running: bool = True
    stuck: bool = False  # killed: its current read passed STUCK_S


class _Round:
    """One call of :func:`read_apart`: its processes, and which statuses are heard."""

    def __init__(self, options: list[ProjectOptions], on_status: StatusSink) -> None:
        self.options = options
        self.on_status = on_status
        self.heard: set[int] = set()
        self.shares: list[_Share] = []
        self.changed = threading.Condition()

    def run(self) -> None:
        count = len(self.options)
        parts = min(BUSY, count)
        with self.changed:
            for n in range(parts):
                self._start(list(range(count * n // parts, count * (n + 1) // parts)))
            while len(self.heard) < count and any(s.running for s in self.shares):
                self._hand_on_slow()
                self.changed.wait(_POLL_S)
            # Every one heard: the processes still reading (what another has read) are
            # being stopped; wait until they are gone, so that none outlives the round.
            gone_by = time.monotonic() + GONE_S
            while any(s.running for s in self.shares) and time.monotonic() < gone_by:
                self.changed.wait(_POLL_S)
        for index in range(count):  # (every process ended, and none read it)
            self._hear(index, _failed("No process read this environment"))

    def _start(self, items: list[int]) -> None:
        """A new process for ``items`` (the caller holds ``changed``)."""
        share = _Share(items)
        self.shares.append(share)
        threading.Thread(target=self._read, args=(share,), daemon=True,
                         name="migtui-environments-apart").start()

    def _hand_on_slow(self) -> None:
        """A process slow on its current read: a new one for the rest of its share."""
        now = time.monotonic()
        for share in list(self.shares):
            if (not share.running or share.handed_on or not share.since
                    or now - share.since <= SLOW_S):
                continue
            rest = [i for i in share.items[share.done + 1:] if i not in self.heard]
            if not rest:
                share.handed_on = True
            elif sum(s.running for s in self.shares) < MOST:
                share.handed_on = True
                self._start(rest)

    def _hear(self, index: int, status: DatabaseStatus) -> None:
        """The first status of ``index`` goes to on_status; later ones are dropped."""
        with self.changed:
            if index in self.heard:
                return
            self.heard.add(index)
            self.changed.notify_all()
        with contextlib.suppress(Exception):  # the listener's failure stops no other read
            self.on_status(index, status)

    def _read(self, share: _Share) -> None:
        """A process reading ``share`` (its own thread): each status as it arrives."""

        def on_part(part: dict[str, Any]) -> None:
            with self.changed:
                share.since = time.monotonic()
            if "index" in part:
                index, status = int(part["index"]), _status_from(part["status"])
                with self.changed:
                    share.done += 1
                self._hear(index, status)

        def stop() -> bool:  # everyone heard (it reads what another already has), or stuck
            with self.changed:
                share.stuck = bool(share.since) and time.monotonic() - share.since > STUCK_S
                return share.stuck or len(self.heard) == len(self.options)

        items = [(i, asdict(self.options[i])) for i in share.items]
        error: MigtuiError | None = None
        try:
            try:
                payload = run_fresh(_READ_SHARE,
                                    {"items": items, "sys_path": list(sys.path)},
                                    self.options[share.items[0]].cwd,
                                    cancelled=stop, on_part=on_part)
                if "error" in payload:
                    error = MigtuiError(payload["error"], payload.get("details", ""))
            except Exception as exc:  # a pipe, a temp file, an answer that makes no sense
                error = from_exception(exc, "Cannot read this environment")
            with self.changed:
                current = share.items[share.done] if share.done < len(share.items) else None
            if error is not None and current is not None:
                self._hear(current, _stuck(error.details) if share.stuck
                           else _failed(error.message, error.details))
        finally:  # whatever happened: the round knows this process is gone
            with self.changed:
                share.running = False
                rest = [i for i in share.items[share.done + 1:] if i not in self.heard]
                if rest and not share.handed_on:  # it ended early: the rest in a new one
                    self._start(rest)
                self.changed.notify_all()
