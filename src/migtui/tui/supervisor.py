"""The terminal is handed back even when the process that draws on it ends abruptly.

env.py and the revisions run in migtui's own process, as they do in the alembic CLI, and
some of them end it without a word: ``os._exit()`` in env.py, a crash in a database
driver's C code, a kill by the kernel's out-of-memory killer. Textual cannot restore the
terminal then: it stays in raw mode, on the alternate screen, with mouse reporting on,
and the shell looks frozen.

So the `migtui` script forks first of all (on POSIX, in a terminal). The parent only
waits for the child, which is the app. If the child ends and leaves the terminal's
settings changed, the parent puts them back, leaves the alternate screen and says in one
line how the process ended. The parent exits with the child's status. A child that
stops by itself (Textual's suspend) stops the parent too, so that the shell gets the
terminal back, and `fg` resumes both; a TERM or TSTP sent to the parent goes on to the
child. The child ends by itself, terminal handed back, once the parent is gone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from typing import Any, NoReturn

from migtui.tui.exit_watchdog import LEAVE_APP_MODE

# Said after the terminal has been restored (the database is as the process left it:
# what a step had not committed is rolled back with its connection).
ENDED = ("migtui: the app ended abruptly ({how}): env.py or a revision may have ended "
         "the process (os._exit, a driver's crash), or it was killed. The terminal is "
         "restored. Start migtui again to see where the database stands.\n")
_PARENT_POLL_S = 0.5  # how often the app looks whether its watcher is still there


def split() -> None:
    """Fork: return in the child (the app); in the parent, wait for the child, restore
    the terminal if it was left changed, and exit with the child's status. Does nothing
    (returns) where there is no fork or no terminal on stdin."""
    if not hasattr(os, "fork") or not sys.stdin.isatty():
        return
    try:
        import termios

        saved = termios.tcgetattr(sys.stdin.fileno())
    except (ImportError, OSError, ValueError):
        return
    for stream in (sys.stdout, sys.stderr):  # (nothing buffered is written twice)
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        child = os.fork()
    except OSError:
        return
    if child == 0:
        _end_with(os.getppid())
        return
    _wait(child, saved)


def _end_with(parent: int) -> None:
    """The app: end (the terminal handed back first) once the watcher is gone, killed
    say; the shell has the terminal again then, and an app left drawing on it would
    fight it for every key."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_POLL_S)
        from migtui.tui import exit_watchdog

        exit_watchdog.arm(0.0, 129)

    threading.Thread(target=watch, daemon=True, name="migtui-watcher-gone").start()


def _wait(child: int, saved: list[Any]) -> NoReturn:
    """The parent: wait for the app, then hand the terminal back as it was."""
    import termios

    # Keys typed at the terminal (Ctrl+C before the app reads them raw) reach the app by
    # themselves; a TERM or a TSTP sent to this process (the pid the shell shows) is
    # passed on to it.
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    # A stop sent to this process stops the app (which stops itself, and then this one).
    for sig in (signal.SIGTERM, signal.SIGTSTP):
        signal.signal(sig, lambda number, _frame: _forward(child, number))
    while True:
        try:
            _pid, status = os.waitpid(child, os.WUNTRACED)
        except ChildProcessError:
            os._exit(1)
        if os.WIFSTOPPED(status):  # suspended by itself: the shell must see it stop
            os.kill(os.getpid(), signal.SIGSTOP)
            continue
        break
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        code = 128 + number
        how = f"signal {number}, {signal.Signals(number).name}"
    else:
        code = os.WEXITSTATUS(status)
        how = f"exit status {code}"
    fd = sys.stdin.fileno()
    with contextlib.suppress(OSError, termios.error):
        if termios.tcgetattr(fd) != saved:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
            os.write(2, LEAVE_APP_MODE + ENDED.format(how=how).encode())
    os._exit(code)


def _forward(child: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(child, sig)
