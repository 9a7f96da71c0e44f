"""App-wide results that workers post; only the UI thread reacts to them."""

from __future__ import annotations

from textual.message import Message

from migtui.core.errors import MigtuiError
from migtui.core.models import ActionResult, Snapshot
from migtui.core.schema.model import SchemaInfo


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

    def __init__(self, result: ActionResult, schema_before: SchemaInfo | None = None) -> None:
        super().__init__()
        self.result = result
        # The tables before the action, read when no tables screen was there to hold it.
        self.schema_before = schema_before


class SqlRendered(Message):
    """The offline SQL of a plan, for the confirmation dialog."""

    def __init__(self, key: str, sql: str, error: str = "") -> None:
        super().__init__()
        self.key = key
        self.sql = sql
        self.error = error


# -- pending changes (autogenerate) ----------------------------------------------

from migtui.core.autogen.diff import AutogenDiff  # noqa: E402


class DiffComputed(Message):
    """The autogenerate comparison of the models with the database finished."""

    def __init__(self, diff: AutogenDiff, generation: int) -> None:
        super().__init__()
        self.diff = diff
        self.generation = generation


# -- pre-flight checks and rehearsal (confirmation dialog, revision details) -----

from migtui.core.checks.preflight import FunctionOperations, Preflight  # noqa: E402
from migtui.core.checks.rehearsal import Rehearsal  # noqa: E402


class PlanChecked(Message):
    """A plan was checked against the live database (or could not be)."""

    def __init__(self, preflight: Preflight | None, error: MigtuiError | None = None) -> None:
        super().__init__()
        self.preflight = preflight
        self.error = error


class RehearsalFinished(Message):
    """A plan ran inside a transaction that was rolled back (or could not run)."""

    def __init__(self, rehearsal: Rehearsal | None, error: MigtuiError | None = None) -> None:
        super().__init__()
        self.rehearsal = rehearsal
        self.error = error


class OperationsRecorded(Message):
    """The recorded operations of one revision's upgrade() and downgrade()."""

    def __init__(self, functions: tuple[FunctionOperations, ...], error: str = "") -> None:
        super().__init__()
        self.functions = functions
        self.error = error


# -- tables screen (live inspector) ---------------------------------------------

from migtui.core.schema.model import Cell, RowPage, RowRequest  # noqa: E402


class TablesRead(Message):
    """The tables screen's inspector read the tables and views (or failed to)."""

    def __init__(self, token: int, schema: SchemaInfo | None, error: MigtuiError | None
                 ) -> None:
        super().__init__()
        self.token, self.schema, self.error = token, schema, error


class TableRowsRead(Message):
    """A page of a table's rows arrived (or could not be read)."""

    def __init__(self, token: int, request: RowRequest, page: RowPage | None,
                 error: MigtuiError | None) -> None:
        super().__init__()
        self.token, self.request, self.page, self.error = token, request, page, error


class TableValueRead(Message):
    """The whole value of one cell of a table arrived."""

    def __init__(self, title: str, cell: Cell | None, error: MigtuiError | None) -> None:
        super().__init__()
        self.title, self.cell, self.error = title, cell, error
