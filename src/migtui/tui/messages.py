"""App-wide results that workers post; only the UI thread reacts to them."""

from __future__ import annotations

from textual.message import Message

from migtui.core.errors import MigtuiError
from migtui.core.models import ActionResult, Snapshot


class SnapshotLoaded(Message):
    """The revision files and the database were read."""

    def __init__(self, snapshot: Snapshot, reason: str = "") -> None:
        super().__init__()
        self.snapshot = snapshot
        self.reason = reason


class LoadFailed(Message):
    """The revision files could not be read at all."""

    def __init__(self, error: MigtuiError) -> None:
        super().__init__()
        self.error = error


class LogLine(Message):
    """One line that Alembic or env.py wrote while an action ran."""

    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line


class ActionStarted(Message):
    """A write action began running in a worker."""

    def __init__(self, description: str, steps: int) -> None:
        super().__init__()
        self.description = description
        self.steps = steps


class ActionFinished(Message):
    """A write action ended, well or badly."""

    def __init__(self, result: ActionResult) -> None:
        super().__init__()
        self.result = result


class SqlRendered(Message):
    """The offline SQL of a plan, for the confirmation dialog."""

    def __init__(self, key: str, sql: str, error: str = "") -> None:
        super().__init__()
        self.key = key
        self.sql = sql
        self.error = error
