"""Keep what is written to file descriptors 1 and 2 off the screen while the app runs.

Python's own output (``print``, logging, warnings) is captured around every env.py run
(core/env/capture.py), but a subprocess that env.py starts, a C library, or
``os.write(1, …)`` writes to the descriptors themselves: straight over the UI, at any
place of the screen. While the app runs, descriptors 1 and 2 lead into a pipe whose
lines go to the log panel (``l``), and Textual draws through a copy of the terminal's
descriptor. Both are put back before the app's process prints anything after it.
"""

from __future__ import annotations

import contextlib
import io
import os
import select
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from migtui.core.secrets import scrub_secrets

LineSink = Callable[[str], None]

_IDLE_S = 0.2  # a line without its newline yet is told once nothing more came for this long
# ... but its last word (or ``key = value``) only once nothing came for this long: it may
# be the first half of a secret (``user:hun`` | ``ter2@host``), masked only when whole.
_HELD_S = 2.0
_SPACES = (b" ", b"\t", b"\r", b"\x0b", b"\x0c")
_CHUNK = 65536
_EARLY_KEPT = 5000  # lines kept before the app can take them


class TerminalGuard:
    """Descriptors 1 and 2 into the log while started; the terminal for Textual only."""

    def __init__(self) -> None:
        self.on_line: LineSink | None = None  # set once the app exists (from any thread)
        self._saved: tuple[int, int] | None = None
        self._terminal: TextIO | None = None
        self._stdout: TextIO | None = None
        self._streams: tuple[object, object, object] = (None, None, None)
        self._early: list[str] = []  # lines before on_line was set

    @property
    def terminal_fd(self) -> int:
        """The descriptor that leads to the terminal (2 when not started)."""
        return self._terminal.fileno() if self._terminal is not None else 2

    def start(self) -> None:
        """Take descriptors 1 and 2 off the terminal (only when 2 is one: Textual draws
        there). Call before the app is made: Textual keeps ``sys.__stderr__`` then."""
        if self._saved is not None or not os.isatty(2):
            return
        original = sys.__stderr__
        self._saved = (os.dup(1), os.dup(2))
        # Textual asks shutil.get_terminal_size() for the size, which asks sys.__stdout__:
        # a copy of descriptor 1 as it was (the terminal), not the pipe.
        self._stdout = io.TextIOWrapper(
            io.FileIO(os.dup(1), "w"), encoding=getattr(sys.__stdout__, "encoding", None)
            or "utf-8", errors="backslashreplace", write_through=True)
        self._terminal = io.TextIOWrapper(
            io.FileIO(os.dup(2), "w"), encoding=getattr(original, "encoding", None) or "utf-8",
            errors="backslashreplace", write_through=True)
        read, write = os.pipe()
        os.dup2(write, 1)
        os.dup2(write, 2)
        os.close(write)
        self._streams = (sys.__stderr__, sys.stderr, sys.__stdout__)
        # Textual's driver draws on sys.__stderr__: the copy of the terminal.
        setattr(sys, "__stderr__", self._terminal)  # noqa: B010 (typed as final)
        setattr(sys, "__stdout__", self._stdout)  # noqa: B010
        sys.stderr = self._terminal
        threading.Thread(target=self._pump, args=(read,), daemon=True,
                         name="migtui-fd-output").start()

    def stop(self) -> None:
        """The descriptors and streams back as they were (the pipe's reader lives on
        for processes the app started that still hold it)."""
        if self._saved is None:
            return
        saved, self._saved = self._saved, None
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)
        old_dunder, old_stderr, old_stdout = self._streams
        if sys.__stderr__ is self._terminal:
            setattr(sys, "__stderr__", old_dunder)  # noqa: B010
        if sys.__stdout__ is self._stdout:
            setattr(sys, "__stdout__", old_stdout)  # noqa: B010
        if sys.stderr is self._terminal:
            sys.stderr = old_stderr  # type: ignore[assignment]
        stdout, self._stdout = self._stdout, None
        if stdout is not None:
            with contextlib.suppress(Exception):
                stdout.close()
        terminal, self._terminal = self._terminal, None
        if terminal is not None:
            with contextlib.suppress(Exception):
                terminal.close()

    def attach(self, on_line: LineSink) -> None:
        """Where the lines go from now on (those written before go there first)."""
        self.on_line = on_line  # (set first: the pump's next line goes there)
        early, self._early = self._early, []
        for line in early:
            on_line(line)

    def _tell(self, raw: bytes) -> None:
        line = scrub_secrets(raw.decode("utf-8", "replace").rstrip("\r\n"))
        if not line.strip():
            return
        sink = self.on_line
        if sink is None:
            if len(self._early) < _EARLY_KEPT:
                self._early.append(line)
            return
        with contextlib.suppress(Exception):  # (the app may be gone)
            sink(line)

    def _pump(self, fd: int) -> None:
        partial = b""
        quiet_since = 0.0  # (when the partial line got its last bytes)
        while True:
            ready, _, _ = select.select([fd], [], [], _IDLE_S if partial else None)
            if not ready:  # nothing more for a while: what there is is a line, but for
                # its last word, held a little longer
                cut = len(partial)
                if time.monotonic() - quiet_since < _HELD_S:
                    cut = last_word_start(partial)
                if cut:
                    self._tell(partial[:cut])
                partial = partial[cut:]
                continue
            quiet_since = time.monotonic()
            try:
                chunk = os.read(fd, _CHUNK)
            except OSError:
                return
            if not chunk:
                if partial:
                    self._tell(partial)
                return
            *lines, partial = (partial + chunk).split(b"\n")
            for line in lines:
                self._tell(line)


def last_word_start(line: bytes) -> int:
    """Where a line's last word begins, or its last ``key = value`` (the value maybe
    still empty): what may be the first part of a secret."""
    start = _word_start(line, len(line))
    before = line[:start].rstrip(b"".join(_SPACES))
    if before.endswith((b"=", b":")):
        start = _word_start(line, len(before[:-1].rstrip(b"".join(_SPACES))))
    return start


def _word_start(line: bytes, end: int) -> int:
    return max(line.rfind(space, 0, end) for space in _SPACES) + 1


GUARD = TerminalGuard()
