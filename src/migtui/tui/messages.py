"""What the app's own workers post; only the UI thread reacts to them.

Screens and dialogs define their Messages themselves, nested in the class that posts
them (``GraphScreen.PlanRequested``, ``ConfirmScreen.SqlRendered``, …).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from migtui.core.environments.fleet import EnvironmentRead
from migtui.core.errors import MigtuiError
from migtui.core.models import ActionResult, Snapshot

if TYPE_CHECKING:
    from migtui.core.actions.project import Project
    from migtui.core.schema.model import SchemaInfo


class SnapshotLoaded(Message):
    """The revision files and the database were read (``first``: the files only, for
    the first paint; the database is read once that is on screen), for ``project``
    (the environment chosen when the read began: another one chosen since drops it)."""

    def __init__(self, snapshot: Snapshot, project: Project, first: bool = False) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.project = project
        self.first = first


class LoadFailed(Message):
    """The revision files could not be read at all."""

    def __init__(self, error: MigtuiError) -> None:
        super().__init__()
        self.error = error


class LogLine(Message):
    """Lines that Alembic or env.py wrote while an action ran (and those written since
    this was posted: the app takes them all at once)."""

    def __init__(self, *lines: str) -> None:
        super().__init__()
        self.lines = lines


class ActionFinished(Message):
    """A write action ended, well or badly (posted whatever happened)."""

    def __init__(self, result: ActionResult, schema_before: SchemaInfo | None = None) -> None:
        super().__init__()
        self.result = result
        # The tables before the action, read when no tables screen was there to hold it.
        self.schema_before = schema_before


class VersionsChanged(Message):
    """A revision file was added, changed or deleted under a versions folder."""

    def __init__(self, paths: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.paths = paths  # the files written (read again even at the same size and mtime)


class ActionProgress(Message):
    """What the running action does or waits for now (from its Watch)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class StepStarted(Message):
    """Step ``number`` of ``total`` of the running action has started."""

    def __init__(self, number: int, total: int, text: str) -> None:
        super().__init__()
        self.number = number
        self.total = total
        self.text = text


class EnvironmentMarked(Message):
    """One configured environment was read (for the graph's marks and the chooser)."""

    def __init__(self, token: int, read: EnvironmentRead) -> None:
        super().__init__()
        self.token = token
        self.read = read
