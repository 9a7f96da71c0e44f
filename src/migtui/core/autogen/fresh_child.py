"""The task's side of core/autogen/fresh_process.py: run one job in a fresh process.

A task's process is either forked from the fork server (:func:`forked_main`, the
:class:`multiprocessing.Process` target) or a new interpreter started by
``subprocess`` (:func:`interpreter_main`, via :data:`BOOT`). Either way its output goes
to the task's log file, it calls the job's target, sends the answer through its
connection and ends at once, and it ends by itself when the app that asked is gone.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import multiprocessing
import multiprocessing.connection
import os
import sys
import threading
from collections.abc import Callable, Generator
from typing import Any, BinaryIO

from migtui.core.errors import MigtuiError, from_exception

Payload = dict[str, Any]
TASK_GC_THRESHOLD = (50_000, 20, 100)  # (Python's own: 700, 10, 10)

# `python -c BOOT CONTROL_FD ANSWER_FD`: the job is the first line on CONTROL_FD (which
# stays open as long as the app wants the task); the answer goes to ANSWER_FD.
# sys.path[0] (the working folder, for -c) goes before anything is imported, so that a
# file of the project cannot stand in for a module; the app's sys.path comes with the job.
BOOT = (
    "import sys\n"
    "del sys.path[0]\n"
    "import json, os\n"
    "control = os.fdopen(int(sys.argv[1]), 'rb')\n"
    "job = json.loads(control.readline())\n"
    "sys.path[:] = job.pop('sys_path')\n"
    "from migtui.core.autogen.fresh_child import interpreter_main\n"
    "interpreter_main(job, control, int(sys.argv[2]))\n"
)


def forked_main(conn: multiprocessing.connection.Connection, job: Payload,
                log_path: str) -> None:  # pragma: no cover - runs in the child process
    """A task forked from the fork server: output to the log, then :func:`_answer`."""
    output_to(log_path)
    detach()
    task_collector()
    parent = multiprocessing.parent_process()
    sentinel = None if parent is None else parent.sentinel
    if sentinel is not None:
        _exit_when_ready(lambda: multiprocessing.connection.wait([sentinel]))
    # Daemonic processes may not start processes of their own, but env.py may want to.
    multiprocessing.current_process().daemon = False
    _answer(conn, job)


def interpreter_main(job: Payload, control: BinaryIO,
                     answer_fd: int) -> None:  # pragma: no cover - runs in the child process
    """A task in an interpreter of its own (started with :data:`BOOT`; its output is
    already the log file): the app is gone, or no longer wants it, once ``control``
    ends."""
    detach()
    task_collector()
    _exit_when_ready(control.read)
    _answer(multiprocessing.connection.Connection(answer_fd, readable=False), job)


def detach() -> None:
    """Leave the terminal's session: with no controlling terminal, what env.py opens as
    /dev/tty (getpass, a prompt of its own) fails at once, rather than writing over the
    app and taking the keys typed into it. (Its input is /dev/null already.)"""
    with contextlib.suppress(OSError):  # (already a session leader: nothing to leave)
        os.setsid()


def task_collector() -> None:
    """The cyclic garbage collector of a task's process: on, with what the process
    started with (the fork server's preloaded libraries, the app's first modules) frozen
    out of its reach, and collecting the young generation every 50,000 new objects
    rather than 700. Importing 1,000 models spent a fifth of a comparison in collections
    that found next to nothing (3.7 s rather than 4.5 s; the same peak memory)."""
    gc.freeze()
    gc.set_threshold(*TASK_GC_THRESHOLD)
    gc.enable()


def _answer(conn: multiprocessing.connection.Connection,
            job: Payload) -> None:  # pragma: no cover - runs in the child process
    """Run the job, send its parts and its answer, and leave at once."""
    try:
        def send(message: Payload) -> None:
            conn.send_bytes(json.dumps(message, default=str).encode())

        send({"answer": _call(job, lambda part: send({"part": part}))})
        conn.close()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        # Like a CLI run that has finished: threads or atexit handlers env.py left
        # behind must not keep the task (and the caller's join) waiting.
        os._exit(0)


def output_to(log_path: str) -> None:  # pragma: no cover - runs in the child process
    """Send stdout and stderr (the file descriptors, so C code too) to the log file."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(devnull)


def _exit_when_ready(wait: Callable[[], object]) -> None:  # pragma: no cover - in the child
    """End this process as soon as ``wait()`` returns (the app that asked is gone)."""
    def watch() -> None:
        with contextlib.suppress(Exception):
            wait()
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="migtui-parent-watch").start()


def _call(job: Payload, send_part: Callable[[Payload], None]
          ) -> Payload:  # pragma: no cover - runs in the child process
    """Run one job in this (fresh) process: switch folder and environment, call target
    (a generator's parts go to ``send_part`` as it yields them)."""
    os.environ.clear()
    os.environ.update(job["env"])
    os.chdir(job["cwd"])
    # The project's folder first on sys.path, as for `python -c` run in that folder.
    if job["cwd"] not in sys.path:
        sys.path.insert(0, job["cwd"])
    module, _, name = str(job["target"]).partition(":")
    try:
        result = getattr(importlib.import_module(module), name)(job["request"])
        if isinstance(result, Generator):
            parts: Generator[Payload, None, Payload | None] = result
            while True:
                try:
                    send_part(next(parts))
                except StopIteration as stop:
                    result = stop.value or {}
                    break
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # env.py may raise anything; the answer must get out
        err = from_exception(exc, "" if isinstance(exc, MigtuiError) else "Task failed")
        result = {"error": err.message, "details": err.details}
    answer: Payload = result
    return answer
