"""Run env.py without letting it touch the terminal or the process's logging.

The stock env.py calls ``logging.config.fileConfig``, which disables every other
logger and adds a handler that writes to stderr; env.py files also ``print``. While
the TUI owns the terminal, all of that must go to the log panel instead, and logging
must be as it was afterwards. Nor may env.py read the keys typed into the app: its
sys.stdin is empty while it runs.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from migtui.core.errors import MigtuiError
from migtui.core.secrets import scrub_secrets

LineSink = Callable[[str], None]

# Lock order (take them in this order, never the other way round):
#   ENV_LOCK            process-wide state that env.py and Alembic change: streams, logging,
#                       sys.path, the working folder, os.environ, alembic.context, the op
#                       proxy, Config.output_buffer. Held across a whole env.py run.
#   loader locks        RevisionLoader._lock, then reader._LOCK: revision files. Never held
#                       while env.py or a revision file runs, so code that env.py (or a
#                       thread it starts) calls back into never waits on ENV_LOCK's holder.
#   inspector locks     DatabaseInspector._lock: its engine and kept connection.

# How long a thread waits for ENV_LOCK before saying that an earlier run holds it (an
# env.py stuck on input(), a socket, a sleep): every later read would queue behind it.
ENV_WAIT_S = 30.0


class EnvBusy(MigtuiError):
    """An earlier env.py run (a read, a migration) has not returned: nothing ran now."""


class _EnvLock:
    """A re-entrant lock that a thread waits for at most ENV_WAIT_S, then EnvBusy."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = threading.local()
        self._since = 0.0  # when its holder took it
        self._writing = False  # its holder runs a step (looking=False), not a read

    def __enter__(self) -> _EnvLock:
        if not self._lock.acquire(timeout=ENV_WAIT_S):
            held = time.monotonic() - self._since
            if self._writing:
                raise EnvBusy(f"A step has been running for {held:.0f} s: nothing was "
                              "read now. Try again once it ends")
            raise EnvBusy(f"An earlier env.py run has not returned for {held:.0f} s "
                          "(env.py may be waiting for something): nothing ran now. Try "
                          "again once it returns, or restart migtui")
        self._took()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _took(self) -> None:
        depth = getattr(self._depth, "n", 0)
        if depth == 0:
            self._since = time.monotonic()
        self._depth.n = depth + 1

    def acquire(self) -> bool:
        """Take it (waiting at most ENV_WAIT_S); True, or EnvBusy."""
        self.__enter__()
        return True

    def try_acquire(self) -> bool:
        """Take it only if no other thread holds it (never waits)."""
        if not self._lock.acquire(blocking=False):
            return False
        self._took()
        return True

    def release(self) -> None:
        self._depth.n -= 1
        self._lock.release()

    @contextmanager
    def held(self, writing: bool) -> Iterator[None]:
        """Hold it across a run; ``writing`` tells waiting readers that a step runs."""
        with self:
            outer, self._writing = self._writing, self._writing or writing
            try:
                yield
            finally:
                self._writing = outer


ENV_LOCK = _EnvLock()
_capturing = 0  # captures in progress (any thread), under ENV_LOCK


class _LineWriter(io.TextIOBase):
    """A text stream that hands every complete line to a callback."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        super().__init__()
        self._on_line = on_line
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        for line in lines:
            self._on_line(line)
        return len(text)

    def flush(self) -> None:
        if self._partial:
            line, self._partial = self._partial, ""
            self._on_line(line)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def isatty(self) -> bool:
        return False


class _SinkHandler(logging.Handler):
    def __init__(self, on_line: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(levelname)-5.5s [%(name)s] %(message)s"))
        self._on_line = on_line

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):  # a log line is never worth a crash
            self._on_line(self.format(record))


@dataclass
class CapturedOutput:
    """Everything env.py and Alembic wrote while captured, one entry per line."""

    lines: list[str] = field(default_factory=list)


_LoggerState = tuple[int, list[logging.Handler], bool, bool]


def _logger_states() -> dict[str, _LoggerState]:
    states: dict[str, _LoggerState] = {}
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            states[name] = (logger.level, list(logger.handlers), logger.disabled, logger.propagate)
    return states


def _restore_logging(root_state: _LoggerState, states: dict[str, _LoggerState]) -> None:
    root = logging.getLogger()
    for handler in root.handlers:
        if handler not in root_state[1]:
            handler.close()
    root.setLevel(root_state[0])
    root.handlers = root_state[1]
    root.disabled = root_state[2]
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if not isinstance(logger, logging.Logger):
            continue
        level, handlers, disabled, propagate = states.get(name, (logging.NOTSET, [], False, True))
        for handler in logger.handlers:
            if handler not in handlers:
                handler.close()
        logger.setLevel(level)
        logger.handlers = handlers
        logger.disabled = disabled
        logger.propagate = propagate


@contextmanager
def captured(on_line: LineSink | None = None) -> Iterator[CapturedOutput]:
    """Capture stdout, stderr and log records; restore streams and logging afterwards.

    ``on_line`` is called for every line as it is written (from the calling thread),
    so a UI can stream progress. Passwords are scrubbed from every line.
    """
    out = CapturedOutput()

    def sink(line: str) -> None:
        line = scrub_secrets(line.rstrip())
        if not line:
            return
        out.lines.append(line)
        if on_line is not None:
            on_line(line)

    global _capturing
    with ENV_LOCK, _process_state_kept():
        _capturing += 1
        # New modules may have appeared in the project since the last run (a new
        # revision file, a new models package): do not trust the import finder caches.
        importlib.invalidate_caches()
        root = logging.getLogger()
        root_state: _LoggerState = (root.level, list(root.handlers), root.disabled, True)
        states = _logger_states()
        writer = _LineWriter(sink)
        handler = _SinkHandler(sink)
        alembic_logger = logging.getLogger("alembic")
        root.addHandler(handler)
        if alembic_logger.level == logging.NOTSET:
            alembic_logger.setLevel(logging.INFO)
        old_out, old_err, old_in = sys.stdout, sys.stderr, sys.stdin
        sys.stdout = sys.stderr = writer
        # The keys typed into the app are Textual's (it reads the descriptor itself):
        # env.py's input() or sys.stdin.read() gets an end of file, as in a task.
        sys.stdin = io.StringIO()
        try:
            yield out
        except SystemExit as exc:
            # env.py or a revision called sys.exit(): an error of that project, not a
            # request to end migtui.
            raise RuntimeError(f"env.py or a revision called sys.exit({exc.code!r})") from exc
        finally:
            _capturing -= 1
            writer.flush()
            sys.stdout, sys.stderr, sys.stdin = old_out, old_err, old_in
            root.removeHandler(handler)
            _restore_logging(root_state, states)


@contextmanager
def quiet() -> Iterator[None]:
    """Capture like :func:`captured` unless a capture is already in progress.

    For reading revision files, which env.py (or a thread it started) may ask for while
    another thread holds ENV_LOCK across the env.py run: output already goes to that
    run's capture, and waiting for ENV_LOCK there would deadlock.
    """
    if _capturing:
        yield
        return
    with captured():
        yield


_kept_paths: list[str] = []  # prepend_sys_path entries: they stay for the whole session


def keep_on_sys_path(paths: list[str]) -> None:
    """Entries Alembic put first on sys.path for the project (``prepend_sys_path``):
    restoring sys.path after env.py must not take them away."""
    for entry in paths:
        if entry not in _kept_paths:
            _kept_paths.append(entry)


_WATCHED_SIGNALS = tuple(
    s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP", "SIGCHLD"))
    if s is not None
)


def _signal_off_the_main_thread(real: Callable[..., object]) -> Callable[..., object]:
    """``signal.signal`` while env.py runs on a worker thread: Python allows handlers on
    the main thread only, so a call there would raise (the alembic CLI runs env.py on
    its main thread, and the same env.py works there). The call is passed over and the
    handler in place returned: a handler env.py set would be undone afterwards anyway
    (a CLI run ends its process), and the app's own stay."""
    def passed_over(signalnum: int, handler: object) -> object:
        if threading.current_thread() is threading.main_thread():
            return real(signalnum, handler)
        return signal.getsignal(signalnum)

    return passed_over


@contextmanager
def _process_state_kept() -> Iterator[None]:
    """Put back what env.py may change for the whole process: the working folder,
    sys.path, os.environ and signal handlers. Each CLI run starts from a clean process;
    so must each env.py run here."""
    cwd = os.getcwd()
    path = list(sys.path)
    environ = dict(os.environ)
    main = threading.current_thread() is threading.main_thread()
    handlers = {s: signal.getsignal(s) for s in _WATCHED_SIGNALS} if main else {}
    real_signal = signal.signal
    if not main:  # (see _signal_off_the_main_thread)
        signal.signal = _signal_off_the_main_thread(real_signal)  # type: ignore[assignment]
    try:
        yield
    finally:
        signal.signal = real_signal
        with contextlib.suppress(OSError):
            if os.getcwd() != cwd:
                os.chdir(cwd)
        if sys.path != path:
            # What Alembic's prepend_sys_path added stays, as it does for a CLI run.
            sys.path[:] = [p for p in _kept_paths if p not in path] + path
        if os.environ != environ:
            for name in set(os.environ) - set(environ):
                del os.environ[name]
            for name, value in environ.items():
                if os.environ.get(name) != value:
                    os.environ[name] = value
        for sig, handler in handlers.items():
            if signal.getsignal(sig) is not handler and handler is not None:
                with contextlib.suppress(ValueError, OSError):
                    signal.signal(sig, handler)
