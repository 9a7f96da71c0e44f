"""The terminal is handed back when the app's process ends abruptly (tui/supervisor.py):
env.py calling ``os._exit()`` during a read, in a real pseudo-terminal, as a user runs
`migtui`. A normal quit says nothing more and exits with 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

from terminal_helpers import migtui_in_terminal, read_until
from test_real_terminal import _sample

ABRUPT = b"ended abruptly"


def _dies_when(project: Path, marker: Path) -> None:
    """env.py ends the process without a word once ``marker`` exists."""
    env = project / "migrations" / "env.py"
    env.write_text(f"import os as _os, pathlib as _pathlib\n"
                   f"if _pathlib.Path({str(marker)!r}).exists():\n"
                   f"    _os._exit(7)\n" + env.read_text())


def test_os_exit_in_env_py_hands_the_terminal_back(tmp_path: Path) -> None:
    project = _sample(tmp_path)
    marker = tmp_path / "die"
    _dies_when(project, marker)
    with migtui_in_terminal(project, columns=120) as (pid, fd):
        shown = read_until(fd, b"3 pending", 60)
        assert b"3 pending" in shown, shown[-2000:]
        marker.touch()
        os.write(fd, b"r")  # read again: env.py runs in the app's process, and ends it
        shown = read_until(fd, b"see where the database stands", 60)
        assert ABRUPT in shown and b"(exit status 7)" in shown, shown[-2000:]
        # Out of the alternate screen (mouse reporting off, the cursor shown) first.
        assert b"\x1b[?1049lmigtui: the app " + ABRUPT in shown
        _pid, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 7
        lflag = termios.tcgetattr(fd)[3]
        assert lflag & termios.ICANON and lflag & termios.ECHO, "cooked mode again"


def test_a_normal_quit_says_nothing_more(tmp_path: Path) -> None:
    project = _sample(tmp_path)
    with migtui_in_terminal(project, columns=120) as (pid, fd):
        shown = read_until(fd, b"3 pending", 60)
        assert b"3 pending" in shown, shown[-2000:]
        os.write(fd, b"q")
        shown = read_until(fd, b"\x1b[?1049l", 60)
        _pid, status = os.waitpid(pid, 0)
        shown += read_until(fd, ABRUPT, 1)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        assert ABRUPT not in shown


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_the_app_ends_when_its_watcher_is_killed(tmp_path: Path) -> None:
    """kill -9 of the `migtui` process a shell started (the watcher): the app hands the
    terminal back and ends, instead of drawing on a terminal the shell has again."""
    project = _sample(tmp_path)
    with migtui_in_terminal(project, columns=120, from_shell=True) as (shell, fd):
        shown = read_until(fd, b"3 pending", 60)
        assert b"3 pending" in shown, shown[-2000:]
        (watcher,) = _children(shell)
        (app,) = _children(watcher)
        os.kill(watcher, signal.SIGKILL)
        shown = read_until(fd, b"migtui-exited", 30)  # (the shell, at once)
        if b"\x1b[?1049l" not in shown:
            shown += read_until(fd, b"\x1b[?1049l", 10)  # (the app, within a second)
        assert b"\x1b[?1049l" in shown and b"migtui-exited" in shown, shown[-2000:]
        deadline = time.monotonic() + 10
        while Path(f"/proc/{app}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Path(f"/proc/{app}").exists() or b"Z" in Path(
            f"/proc/{app}/stat").read_bytes().split(b")")[-1][:3], "the app ended"


def test_an_input_that_is_not_a_terminal_is_one_clear_error(tmp_path: Path) -> None:
    project = _sample(tmp_path)
    done = subprocess.run([str(Path(sys.executable).with_name("migtui"))], cwd=project,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("migtui: error: its input is not a terminal")
    assert len(done.stderr.strip().splitlines()) == 1
