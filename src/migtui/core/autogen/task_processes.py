"""The processes a fresh task gets when it does not come from the fork server.

:class:`Interpreter` is a new interpreter started with ``subprocess``; :class:`Forked` is
a fork of the calling process itself, for the app's very first read: begun as
``migtui`` starts, before Textual, Alembic or SQLAlchemy are imported and before the app
runs a thread of its own, it inherits only the little the app has imported by then and
skips the new interpreter's start and imports (50-60 ms before its answer, on two
cores). Both are used by core/autogen/fresh_process.py through the same few methods as
multiprocessing's processes; the task's side is core/autogen/fresh_child.py either way.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing.connection
import os
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from typing import Any

from migtui.core.autogen.fresh_child import BOOT, interpreter_main, output_to

Payload = dict[str, Any]


class Interpreter:
    """A task in a new interpreter, started with ``subprocess`` (fresh_child.BOOT).

    Not multiprocessing's "spawn": that also starts its resource tracker (one more
    interpreter) and imports the app's ``__main__`` again in the child, which at the
    app's launch (the first read) cost the first paint a tenth of a second on two cores.
    The job goes as one JSON line through a pipe that stays open while the task is
    wanted; the answer comes back framed as multiprocessing's connections frame it.
    """

    sentinel: int | None = None  # (EOF on the answer pipe tells that it is gone)

    def __init__(self, job: Payload, log_path: str) -> None:
        control_read, control_write = os.pipe()
        answer_read, answer_write = os.pipe()
        try:
            with open(log_path, "ab") as log:
                self._popen = subprocess.Popen(
                    [sys.executable, "-c", BOOT, str(control_read), str(answer_write)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    pass_fds=(control_read, answer_write))
        except BaseException:
            os.close(control_write)
            os.close(answer_read)
            raise
        finally:
            os.close(control_read)
            os.close(answer_write)
        self.reader = multiprocessing.connection.Connection(answer_read, writable=False)
        self._control = os.fdopen(control_write, "wb")
        line = json.dumps({**job, "sys_path": sys.path}, default=str).encode() + b"\n"
        with contextlib.suppress(OSError):  # (it died at once: its log tells why)
            self._control.write(line)
            self._control.flush()

    @property
    def exitcode(self) -> int | None:
        return self._popen.poll()

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(timeout)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self._popen.kill()

    def close(self) -> None:
        """The task is not wanted any more: its process ends once it sees this."""
        with contextlib.suppress(OSError):
            self._control.close()


class Forked:
    """A task in a fork of this process, begun at once on the calling thread.

    Only for a process that is, at that moment, one thread that has imported little (the
    ``migtui`` script as it starts): the child inherits everything the caller holds, and
    a fork made while another thread imports a module could leave that module's import
    lock held in the child. The child's input is /dev/null and its output the task's log
    file, as for :class:`Interpreter`; it ends by itself when the control pipe closes
    (the app gone, or the task no longer wanted).
    """

    sentinel: int | None = None

    def __init__(self, job: Payload, log_path: str) -> None:
        control_read, control_write = os.pipe()
        answer_read, answer_write = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # (nothing buffered is written twice)
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            with warnings.catch_warnings():  # (3.12+ warns of the threads it leaves out)
                warnings.simplefilter("ignore", DeprecationWarning)
                self.pid = os.fork()
        except BaseException:
            for fd in (control_read, control_write, answer_read, answer_write):
                os.close(fd)
            raise
        if self.pid == 0:  # pragma: no cover - the child; it never returns
            try:
                os.close(control_write)
                os.close(answer_read)
                output_to(log_path)  # (its collector: see interpreter_main)
                interpreter_main(job, os.fdopen(control_read, "rb"), answer_write)
            finally:
                os._exit(1)
        os.close(control_read)
        os.close(answer_write)
        self.reader = multiprocessing.connection.Connection(answer_read, writable=False)
        self._control = os.fdopen(control_write, "wb")
        self._status: int | None = None

    @property
    def exitcode(self) -> int | None:
        if self._status is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # (reaped elsewhere: it is gone all the same)
                self._status = -1
            else:
                if pid:
                    self._status = os.waitstatus_to_exitcode(status)
        return self._status

    def join(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.exitcode is None and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.005)

    def kill(self) -> None:
        if self.exitcode is None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)

    def close(self) -> None:
        """The task is not wanted any more: its process ends once it sees this."""
        with contextlib.suppress(OSError):
            self._control.close()


@dataclass(frozen=True)
class Begun:
    """A task whose process :func:`begin_forked` forked; fresh_process.run_fresh, given
    it, waits for its answer."""

    job: Payload
    log_path: str
    task: Forked


def begin_forked(target: str, request: Payload, cwd: str) -> Begun | None:
    """Fork the process of the task ``run_fresh(target, request, cwd)`` now, on the
    calling thread; None where it cannot be forked (run_fresh then starts the task its
    usual way). Only while this process is one thread that imports nothing else (the
    app as it starts): see :class:`Forked`."""
    if not hasattr(os, "fork"):
        return None
    job = task_job(target, request, cwd)
    try:
        log_path = new_log()
    except OSError:
        return None
    try:
        return Begun(job, log_path, Forked(job, log_path))
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(log_path)
        return None


def new_log() -> str:
    """A new empty file for a task's output (its tail becomes an error's details)."""
    fd, log_path = tempfile.mkstemp(prefix="migtui-task-", suffix=".log")
    os.close(fd)
    return log_path


def task_job(target: str, request: Payload, cwd: str) -> Payload:
    """What a task's process is sent: what to call, with what, where, in which
    environment (the caller's)."""
    return {"target": target, "request": request, "cwd": cwd, "env": dict(os.environ)}
