"""`migtui` in a real pseudo-terminal, as a user starts it: for tests that need the real
process (its own sys.path, a real terminal driver, an exit that must happen)."""

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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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


@contextmanager
def migtui_in_terminal(folder: Path, rows: int = 30, columns: int = 100,
                       from_shell: bool = False) -> Iterator[tuple[int, int]]:
    """(pid, terminal fd) of `migtui` started in ``folder``; killed afterwards if alive.

    ``from_shell``: started by a shell that stays (as from a shell prompt, or tmux), which
    prints ``migtui-exited`` once migtui has ended; the pid is the shell's. (Started
    directly, migtui leads the terminal's session: its end hangs up every process it
    started, which a shell's child cannot count on.)"""
    migtui = str(Path(sys.executable).with_name("migtui"))
    pid, fd = pty.fork()
    if pid == 0:  # the child: migtui in the project folder, as a user runs it
        os.chdir(folder)
        os.environ["TERM"] = "xterm-256color"
        os.environ.pop("PYTHONPATH", None)
        if from_shell:
            os.execv("/bin/sh", ["/bin/sh", "-c", f"'{migtui}'; echo migtui-exited; sleep 600"])
        os.execv(migtui, [migtui])
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        os.kill(pid, signal.SIGWINCH)
        yield pid, fd
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
