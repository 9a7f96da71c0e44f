"""Quitting always ends the process, even while env.py hangs in a worker thread.

Textual runs thread workers on asyncio's default executor, and ``asyncio.run`` waits for
every one of them when the app ends: a worker stuck in user code (an env.py that
sleeps, a revision that waits forever) would keep the process alive with the terminal
already handed back. Once the user has asked to quit, this watchdog gives the app a few
seconds to finish normally, then restores the terminal's settings (if the app did not)
and ends the process. A migration cannot commit after that: its connection dies with
the process, and the database rolls back what was not committed.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Any

_terminal: list[Any] = []  # the terminal's settings from before the app started
# Stop mouse, focus and resize reporting and bracketed paste (each mode Textual's driver
# turns on), wrap lines again, show the cursor, leave the alternate screen.
LEAVE_APP_MODE = (b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?1016l"
                  b"\x1b[?1004l\x1b[?2048l\x1b[?2004l\x1b[?7h\x1b[?25h\x1b[?1049l")


def remember_terminal() -> None:
    """Keep the terminal's settings (call before the app takes the terminal)."""
    with contextlib.suppress(Exception):
        import termios

        _terminal[:] = [sys.stdin.fileno(), termios.tcgetattr(sys.stdin.fileno())]


def arm(seconds: float, status: int = 0) -> None:
    """End the process ``seconds`` from now unless it has ended by itself."""

    def end() -> None:
        # The processes of tasks still running go first: exit handlers do not run here.
        fresh = sys.modules.get("migtui.core.autogen.fresh_process")  # (if ever used)
        if fresh is not None:
            with contextlib.suppress(Exception):
                fresh.kill_running(wait=False)
        if _terminal:
            with contextlib.suppress(Exception):
                import termios

                termios.tcsetattr(_terminal[0], termios.TCSADRAIN, _terminal[1])
        with contextlib.suppress(Exception):
            from migtui.tui.terminal_guard import GUARD  # (descriptor 1 is its pipe)

            os.write(GUARD.terminal_fd, LEAVE_APP_MODE)
        os._exit(status)

    timer = threading.Timer(seconds, end)
    timer.daemon = True
    timer.start()
