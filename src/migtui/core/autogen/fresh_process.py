"""Run a task in a fresh Python process, so the user's modules are imported anew.

env.py imports the user's models; Python caches modules, and SQLModel / declarative
metadata is process-wide, so a second import in one process sees the old models (or
fails with "Table already defined"). Every task here runs in a process that has never
imported the user's code, in the project's folder, with the caller's environment.

Starting Python and importing Alembic and SQLAlchemy takes most of a second, so on
systems with ``fork`` a small server process does those imports once and forks a
child per task (the user's modules are still imported fresh in each child). Anything
that goes wrong with the server falls back to one plain subprocess per task.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from migtui.core.env.urls import scrub_secrets
from migtui.core.errors import MigtuiError, from_exception, one_line

Payload = dict[str, Any]

_MARK = "@@migtui-fresh@@ "
TIMEOUT = 600.0
# Imported once by the server so that forked children start warm (no user code here).
_PRELOAD = ("migtui.core.autogen.diff", "migtui.core.autogen.compare")


def run_fresh(target: str, request: Payload, cwd: str) -> Payload:
    """Call ``target`` ("module:function") with ``request`` in a fresh process in ``cwd``.

    The function takes and returns JSON-able dicts. Raises MigtuiError when the
    process gives no answer.
    """
    job = {"target": target, "request": request, "cwd": cwd, "env": dict(os.environ)}
    if _forking_supported():
        try:
            return _SERVER.run(job)
        except TimeoutError as exc:
            raise MigtuiError(f"The task did not finish within {TIMEOUT:.0f} s") from exc
        except (OSError, ValueError, _NoAnswer):
            _SERVER.stop()  # answer it the slow way, which also reports stderr
    return _run_subprocess(job)


def _forking_supported() -> bool:
    return (hasattr(os, "fork") and hasattr(socket, "AF_UNIX")
            and not os.environ.get("MIGTUI_NO_FORK_SERVER"))


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONIOENCODING", "utf-8")
    return env


def _call(job: Payload) -> Payload:
    """Run one job in this (fresh) process: switch folder and environment, call target."""
    os.environ.clear()
    os.environ.update(job["env"])
    os.chdir(job["cwd"])
    module, _, name = str(job["target"]).partition(":")
    try:
        result: Payload = getattr(importlib.import_module(module), name)(job["request"])
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # env.py may raise anything; the answer must get out
        err = from_exception(exc, "" if isinstance(exc, MigtuiError) else "Task failed")
        result = {"error": err.message, "details": err.details}
    return result


# -- one subprocess per task -------------------------------------------------


def _run_subprocess(job: Payload) -> Payload:
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from migtui.core.autogen.fresh_process import subprocess_main; "
             "subprocess_main()"],
            input=json.dumps(job), capture_output=True, text=True, cwd=job["cwd"],
            env=_child_env(), timeout=TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise MigtuiError(f"The task did not finish within {TIMEOUT:.0f} s") from exc
    except OSError as exc:
        raise from_exception(exc, "Cannot start a Python process") from exc
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(_MARK):
            answer: Payload = json.loads(line[len(_MARK):])
            return answer
    details = scrub_secrets((done.stderr or "") + (done.stdout or ""))
    last = details.strip().splitlines()[-1] if details.strip() else ""
    raise MigtuiError(
        f"The Python process ended without an answer (exit status {done.returncode})"
        + (f": {one_line(last)}" if last else ""), details)


def subprocess_main() -> None:
    """Entry point of a one-task subprocess: the job on stdin, the answer on stdout."""
    answer_to = sys.stdout
    job = json.loads(sys.stdin.read())
    answer = _call(job)
    answer_to.write(_MARK + json.dumps(answer, default=str) + "\n")
    answer_to.flush()


# -- the fork server -----------------------------------------------------------


class _NoAnswer(Exception):
    """The forked child closed the connection without answering."""


class _ForkServer:
    """A warm Python process that forks one child per task; started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._folder: str | None = None

    def _path(self) -> str:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                assert self._folder is not None
                return os.path.join(self._folder, "socket")
            self._folder = tempfile.mkdtemp(prefix="migtui-")
            path = os.path.join(self._folder, "socket")
            self._process = subprocess.Popen(
                [sys.executable, "-c",
                 f"from migtui.core.autogen.fresh_process import serve; serve({path!r})"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env=_child_env(),
            )
            assert self._process.stdout is not None
            ready, _, _ = select.select([self._process.stdout], [], [], 120)
            if not ready or self._process.stdout.readline().strip() != b"ready":
                raise _NoAnswer("the fork server did not start")
            return path

    def run(self, job: Payload) -> Payload:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(TIMEOUT)
            conn.connect(self._path())
            conn.sendall(json.dumps(job).encode())
            conn.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        if not chunks:
            raise _NoAnswer("the task ended without an answer")
        answer: Payload = json.loads(b"".join(chunks))
        return answer

    def stop(self) -> None:
        with self._lock:
            process, self._process = self._process, None
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
            if self._folder is not None:
                for name in ("socket", ""):
                    try:
                        target = os.path.join(self._folder, name)
                        os.unlink(target) if name else os.rmdir(target)
                    except OSError:
                        pass
                self._folder = None


_SERVER = _ForkServer()
atexit.register(_SERVER.stop)


def serve(path: str) -> None:  # pragma: no cover - runs in the server process
    """The fork server: import once, then fork a child for each connection on ``path``."""
    for module in _PRELOAD:
        importlib.import_module(module)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    os.write(1, b"ready\n")
    while True:
        readable, _, _ = select.select([listener.fileno(), 0], [], [])
        if 0 in readable and not os.read(0, 1024):
            return  # the app is gone (its end of our stdin closed)
        if listener.fileno() in readable:
            conn, _ = listener.accept()
            if os.fork() == 0:
                _serve_one(listener, conn)
            conn.close()


def _serve_one(listener: socket.socket, conn: socket.socket) -> None:  # pragma: no cover
    """In a forked child: answer one job, then leave without returning to the loop."""
    status = 1
    try:
        listener.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # nothing may reach the server's pipes
            os.dup2(devnull, fd)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
        answer = _call(json.loads(b"".join(chunks)))
        conn.sendall(json.dumps(answer, default=str).encode())
        conn.close()
        status = 0
    finally:
        os._exit(status)
