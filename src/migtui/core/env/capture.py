"""Run env.py without letting it touch the terminal or the process's logging.

The stock env.py calls ``logging.config.fileConfig``, which disables every other
logger and adds a handler that writes to stderr; env.py files also ``print``. While
the TUI owns the terminal, all of that must go to the log panel instead, and logging
must be as it was afterwards.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from migtui.core.env.urls import scrub_secrets

LineSink = Callable[[str], None]

# env.py runs mutate process-wide state (sys.path, logging, alembic.context): one at a time.
ENV_LOCK = threading.RLock()


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

    with ENV_LOCK:
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
        old_out, old_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = writer
        try:
            yield out
        except SystemExit as exc:
            # env.py or a revision called sys.exit(): an error of that project, not a
            # request to end migtui.
            raise RuntimeError(f"env.py or a revision called sys.exit({exc.code!r})") from exc
        finally:
            writer.flush()
            sys.stdout, sys.stderr = old_out, old_err
            # Every alembic command prepends prepend_sys_path again: keep sys.path from
            # growing by one entry per action over a long session.
            if len(set(sys.path)) != len(sys.path):
                sys.path[:] = list(dict.fromkeys(sys.path))
            root.removeHandler(handler)
            _restore_logging(root_state, states)
