"""Quit always quits: `migtui` in a real pseudo-terminal, with an env.py that hangs.

The graph is drawn from the revision files while env.py is stuck reading the database;
`q` must end the process (the worker thread stuck in env.py cannot be joined) and hand
the terminal back (the alternate screen left).
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

from projects import LINEAR, sqlite_url, write_project

from projectkit.templates import ENV_STOCK

ENV_HANGS = ENV_STOCK.replace(
    "def run_migrations_online() -> None:\n",
    "def run_migrations_online() -> None:\n    import time\n    time.sleep(3600)\n",
)
assert ENV_HANGS != ENV_STOCK


def read_until(fd: int, needle: bytes, seconds: float) -> bytes:
    """What the terminal received, up to and including ``needle`` (or EOF)."""
    seen = b""
    deadline = time.monotonic() + seconds
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_q_ends_the_process_while_env_py_hangs(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "proj", env_py=ENV_HANGS,
                           url=sqlite_url(tmp_path / "hang.db"), revisions=LINEAR)
    migtui = str(Path(sys.executable).with_name("migtui"))
    pid, fd = pty.fork()
    if pid == 0:  # the child: migtui in the project folder, as a user runs it
        os.chdir(folder)
        os.environ["TERM"] = "xterm-256color"
        os.execv(migtui, [migtui])
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        os.kill(pid, signal.SIGWINCH)
        shown = read_until(fd, b"create gadget", 60)
        assert b"create gadget" in shown, "the graph was not drawn"
        time.sleep(0.5)  # env.py is now stuck in its worker
        os.write(fd, b"q")
        rest = read_until(fd, b"\x1b[?1049l", 60)
        deadline = time.monotonic() + 60  # a guard against a hang, not a speed test
        status = None
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            read_until(fd, b"\0", 0.2)  # keep the terminal drained
        assert status is not None and done == pid, "migtui did not exit after q"
        assert b"\x1b[?1049l" in rest, "the terminal was not handed back"
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
