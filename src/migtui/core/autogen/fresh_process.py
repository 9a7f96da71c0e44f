"""Run a task in a fresh Python process, so the user's modules are imported anew.

env.py imports the user's models; Python caches modules, and SQLModel / declarative
metadata is process-wide, so a second import in one process sees the old models (or
fails with "Table already defined"). Every task here runs in a process that has never
imported the user's code, in the project's folder, with the caller's environment.

Starting Python and importing Alembic and SQLAlchemy takes most of a second, so the
tasks run on :mod:`multiprocessing`'s ``forkserver``: a server process, started on first
use, imports those libraries once (:data:`PRELOAD`, never the user's code) and forks one
child per task. Where there is no forkserver (or ``MIGTUI_NO_FORK_SERVER`` is set, or
the server cannot start), or the caller asks for one, a task gets a new interpreter of
its own (started with ``subprocess``): slower, same answer; the app's first read can
be forked from the app as it starts instead (both in core/autogen/task_processes.py).
The task's side of all this is core/autogen/fresh_child.py. One process per task rather
than a pool with ``max_tasks_per_child=1``: a task that passes its timeout is killed
by its own handle, and no idle worker is kept waiting.

Nothing of the server or of a task reaches the terminal (the TUI owns it): the server's
stdout and stderr go to ``/dev/null`` and each task's to a log file, whose tail becomes
the error's details when a task ends without an answer. (multiprocessing's resource
tracker keeps the terminal as its stderr, but writes there only about leaked semaphores
or shared memory, which these tasks never create.) A task is killed when it passes its
timeout or its caller cancels it, and tasks never outlive the app: those still running
at exit are killed, and a task whose app is gone ends itself. As everywhere with
multiprocessing, the caller's ``__main__`` is imported again in each task's process
(the ``migtui`` script only imports its entry point there).
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import multiprocessing
import multiprocessing.connection
import multiprocessing.resource_tracker
import multiprocessing.util  # registers its exit handler before ours (see atexit below)
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any

from migtui.core.autogen.fresh_child import forked_main
from migtui.core.autogen.task_processes import (
    Begun,
    Forked,
    Interpreter,
    new_log,
    task_job,
)
from migtui.core.errors import MigtuiError, from_exception, one_line
from migtui.core.secrets import scrub_secrets

Payload = dict[str, Any]

TIMEOUT = 600.0
# Imported once by the fork server so that every task starts warm; no user code here.
# This module comes first: importing it in the server sends the server's output away.
PRELOAD = [
    "migtui.core.autogen.fresh_process",
    "alembic",
    "alembic.command",
    "sqlalchemy",
    "logging.config",
    "migtui.core.autogen.diff",
    "migtui.core.autogen.compare",
]
# Dialects, drivers and SQLModel: known libraries (never the user's code), imported by
# the server too when a read of the project's database found them imported there (see
# expect_libraries); all of them while that is not known. Those not installed are skipped.
PRELOAD_IF_USED = (
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.mysql",
    "psycopg",
    "psycopg2",
    "pymysql",
    "MySQLdb",
    "asyncpg",
    "aiosqlite",
    "sqlmodel",
)
ENDED_WITHOUT_ANSWER = "The Python process ended without an answer"
_CANCEL_POLL = 0.2  # seconds between looks at cancelled()
_LOG_TAIL = 64 * 1024  # bytes of a task's output kept for the error details

_lock = threading.Lock()
_fork_server_usable = "forkserver" in multiprocessing.get_all_start_methods()
_preload_set = False
_expected: tuple[str, ...] | None = None  # of PRELOAD_IF_USED; None: not known
_running: set[_Task] = set()


def run_fresh(target: str, request: Payload, cwd: str, timeout: float = TIMEOUT,
              cancelled: Callable[[], bool] | None = None,
              on_part: Callable[[Payload], None] | None = None,
              new_interpreter: bool = False, begun: Begun | None = None) -> Payload:
    """Call ``target`` ("module:function") with ``request`` in a fresh process in ``cwd``.

    The function takes and returns JSON-able dicts. A generator function's yielded
    dicts are handed to ``on_part`` (on this thread) as they arrive, and what it returns
    is the answer. Raises MigtuiError when the process gives no answer, or none within
    ``timeout`` seconds, or ``cancelled()`` turns true first (checked a few times a
    second); the process is killed then. ``new_interpreter``: a new interpreter even
    where the fork server runs (for a task that imports less than its preload).
    ``begun``: the process of this very task, already forked (``begin_forked``); its
    answer is waited for here.
    """
    if begun is not None:
        with _lock:
            _running.add(begun.task)
        try:
            return _run(begun.job, begun.log_path, timeout, cancelled, on_part, begun.task)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(begun.log_path)
    job = task_job(target, request, cwd)
    log_path = new_log()
    try:
        return _run(job, log_path, timeout, cancelled, on_part, new_interpreter)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(log_path)


def _run(job: Payload, log_path: str, timeout: float,
         cancelled: Callable[[], bool] | None,
         on_part: Callable[[Payload], None] | None, how: bool | Forked) -> Payload:
    """The answer of the task's process: started here (``how``: new_interpreter), or
    the one already forked."""
    process, reader = (how, how.reader) if isinstance(how, Forked) else _start(
        job, log_path, how)
    waiting: list[Any] = [reader] if process.sentinel is None else [reader, process.sentinel]
    poll = cancelled is not None or process.sentinel is None
    answer: Payload | None = None
    ended = was_cancelled = False  # ended: the answer came, or the process is gone
    try:
        deadline = time.monotonic() + timeout
        while not ended:
            remaining = deadline - time.monotonic()
            was_cancelled = cancelled is not None and cancelled()
            if remaining <= 0 or was_cancelled:
                break
            ready = multiprocessing.connection.wait(
                waiting, min(remaining, _CANCEL_POLL) if poll else remaining)
            if not ready:
                # Gone with nothing left to read (its pipe held open by a process it
                # started): what it sent before it ended is read first.
                ended = process.exitcode is not None and not reader.poll(0)
                continue
            try:
                message = json.loads(reader.recv_bytes()) if (
                    reader in ready or reader.poll(0)) else {}  # {}: gone without a word
            except (EOFError, OSError):
                message = {}
            if not message:
                ended = True
                continue
            if "part" in message:
                if on_part is not None:
                    on_part(message["part"])
                continue
            answer, ended = message["answer"], True
    finally:
        reader.close()
        status = _stop(process, grace=1.0 if ended else 0.0)  # killed if not finished
    if was_cancelled:
        raise MigtuiError("The task was cancelled, so it was stopped")
    if not ended:
        raise MigtuiError(f"The task did not finish within {timeout:g} s, so it was stopped")
    if answer is None:
        details = scrub_secrets(_tail(log_path))
        last = details.strip().splitlines()[-1] if details.strip() else ""
        raise MigtuiError(
            f"{ENDED_WITHOUT_ANSWER} (exit status {status})"
            + (f": {one_line(last)}" if last else ""), details)
    return answer


def warm() -> None:
    """Start the fork server now, in the background, so that the first task does not
    wait for it to import Alembic and SQLAlchemy (it imports no user code). Returns at
    once; does nothing where tasks get a new interpreter each."""
    global _fork_server_usable
    if _fork_server() is None:
        return
    import multiprocessing.forkserver

    try:
        _ensure_resource_tracker()
        with _lock:
            multiprocessing.forkserver.ensure_running()
    except (OSError, EOFError):
        _fork_server_usable = False  # as _start finds: a new interpreter per task


def used_libraries() -> list[str]:
    """Which of :data:`PRELOAD_IF_USED` this process has imported (a read reports them
    once env.py has run: its models' SQLModel, its database's driver)."""
    return [name for name in PRELOAD_IF_USED if name in sys.modules]


def expect_libraries(names: Sequence[str]) -> None:
    """What the project's tasks import of :data:`PRELOAD_IF_USED` (what a read of its
    database imported): a server not started yet preloads those only. Importing a driver
    or SQLModel that no task uses would hold the first task back (most of a second for
    all of them); a task still imports what its server did not."""
    global _expected
    with _lock:
        _expected = tuple(name for name in names if name in PRELOAD_IF_USED)


def payload_fields(cls: type, data: Payload) -> Payload:
    """The arguments of dataclass ``cls`` from its JSON form (``asdict`` sent through
    the pipe): lists become tuples again, keys it does not have are left out."""
    names = {f.name for f in fields(cls)}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}


def _fork_server() -> BaseContext | None:
    """The forkserver context (its preload set before it starts); None where tasks get
    a new interpreter each."""
    global _preload_set
    if not _fork_server_usable or os.environ.get("MIGTUI_NO_FORK_SERVER"):
        return None
    context = multiprocessing.get_context("forkserver")
    with _lock:
        if not _preload_set:
            used = PRELOAD_IF_USED if _expected is None else _expected
            context.set_forkserver_preload([*PRELOAD, *used])
            _preload_set = True
    return context


def _start(job: Payload, log_path: str, new_interpreter: bool
           ) -> tuple[_Task, multiprocessing.connection.Connection]:
    """The task's process, started, and the connection its answer comes through."""
    global _fork_server_usable
    context = None if new_interpreter else _fork_server()
    if context is None:
        try:
            interpreter = Interpreter(job, log_path)
        except OSError as exc:
            raise from_exception(exc, "Cannot start a Python process") from exc
        with _lock:
            _running.add(interpreter)
        return interpreter, interpreter.reader
    reader, writer = context.Pipe(duplex=False)
    # daemon: multiprocessing's own exit handler stops it too, should ours not run first.
    process = context.Process(  # type: ignore[attr-defined]
        target=forked_main, args=(writer, job, log_path), name="migtui-task", daemon=True)
    try:
        _ensure_resource_tracker()
        with _lock:
            process.start()
            _running.add(process)
    except Exception as exc:
        reader.close()
        if isinstance(exc, (OSError, EOFError)):
            _fork_server_usable = False  # it cannot start here: a new interpreter per task
            return _start(job, log_path, True)
        raise from_exception(exc, "Cannot start a Python process") from exc
    finally:
        writer.close()  # the child has its own copy: EOF here once it is gone
    assert isinstance(process, BaseProcess)
    return process, reader


_Task = BaseProcess | Interpreter | Forked


class _WithoutFileno:
    """``stream`` in every way, except that it has no file descriptor."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _ensure_resource_tracker() -> None:
    """Start multiprocessing's resource tracker, also while Textual holds sys.stderr.

    Starting a process first starts the tracker, keeping ``sys.stderr.fileno()`` open
    for it; Textual's stand-in for sys.stderr answers -1 there, which makes every start
    fail ("bad value(s) in fds_to_keep"). For that moment sys.stderr is the same stream
    without a descriptor, and the tracker keeps the real fd 2 as it always does.
    """
    stream = sys.stderr
    try:
        usable = stream is None or stream.fileno() >= 0
    except Exception:  # no descriptor at all: the tracker copes with that
        usable = True
    if usable:
        return
    stand_in = _WithoutFileno(stream)
    sys.stderr = stand_in  # type: ignore[assignment]
    try:
        multiprocessing.resource_tracker.ensure_running()
    finally:
        if sys.stderr is stand_in:  # unless another thread has set its own meanwhile
            sys.stderr = stream


def _stop(process: _Task, grace: float) -> int | None:
    """Make sure the task's process is gone (and reaped); its exit status."""
    process.join(grace)  # after answering it ends by itself
    if process.exitcode is None:
        process.kill()
        process.join(10)
    status = process.exitcode
    with _lock:
        _running.discard(process)
    if status is not None or not isinstance(process, BaseProcess):
        process.close()
    return status


def kill_running(wait: bool = True) -> None:
    """Kill the tasks still running, so that quitting never waits for one (at exit; and
    by the exit watchdog, ``wait=False``, before it ends the process without exit
    handlers: a task could not always see its app gone, as env.py may hold its GIL)."""
    if not _lock.acquire(timeout=-1 if wait else 0.5):
        return
    try:
        running = list(_running)
    finally:
        _lock.release()
    for process in running:
        with contextlib.suppress(Exception):
            process.kill()
    if not wait:
        return
    for process in running:
        with contextlib.suppress(Exception):
            process.join(5)


# atexit runs the last registered first: this runs before multiprocessing's own handler,
# which would otherwise wait for every child process to end.
atexit.register(kill_running)


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - _LOG_TAIL))
            return log.read().decode("utf-8", "replace")
    except OSError:
        return ""


# -- in the fork server -----------------------------------------------------------


def _quiet_fork_server() -> None:  # pragma: no cover - runs in the fork server
    """When this module is the fork server's preload: keep the server off the terminal.

    The server is started with the app's stdout and stderr (the terminal); what it or a
    child before its task starts would write goes to /dev/null instead. The working
    folder (the user's project) leaves sys.path, so that no file of the project can
    stand in for a preloaded library.
    """
    server = sys.modules.get("multiprocessing.forkserver")
    code = getattr(getattr(server, "main", None), "__code__", None)
    frame = sys._getframe()
    while frame is not None and frame.f_code is not code:
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return  # an ordinary import
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]


_quiet_fork_server()
