"""The worker plumbing of the tables screen: reads through a read-only inspector.

Each read runs in a thread worker and posts its answer (or the error) as one of the
Messages below; the screen handles them on the UI thread.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message
from textual.worker import get_current_worker

from migtui.core.actions.project import Project
from migtui.core.errors import MigtuiError
from migtui.core.libraries import needs_libraries
from migtui.core.schema.model import Cell, RowPage, RowRequest, SchemaInfo, TableInfo, TableRef
from migtui.screens.state import AppState, SessionScreen

if TYPE_CHECKING:  # the inspector imports SQLAlchemy: made by the first worker that reads
    from migtui.core.schema.inspector import DatabaseInspector

# Tables whose structure one read takes: the first few soon (the list's top, the table
# selected), then more at a time; a table asked for waits for one batch at most.
FIRST_BATCH = 10
BATCH = 40


class InspectorScreen(SessionScreen):
    """A main screen that reads the database's tables and rows in workers."""

    class SchemaRead(Message, bubble=False):
        """The tables and views were read (or could not be)."""

        def __init__(self, token: int, schema: SchemaInfo | None, error: MigtuiError | None
                     ) -> None:
            super().__init__()
            self.token, self.schema, self.error = token, schema, error

    class StructureRead(Message, bubble=False):
        """The structure of a few more tables was read (or could not be)."""

        def __init__(self, token: int, tables: tuple[TableInfo, ...],
                     error: MigtuiError | None) -> None:
            super().__init__()
            self.token, self.tables, self.error = token, tables, error

    class RowsRead(Message, bubble=False):
        """A page of a table's rows arrived (or could not be read)."""

        def __init__(self, token: int, request: RowRequest, page: RowPage | None,
                     error: MigtuiError | None) -> None:
            super().__init__()
            self.token, self.request, self.page, self.error = token, request, page, error

    class ValueRead(Message, bubble=False):
        """The whole value of one cell arrived (or could not be read)."""

        def __init__(self, title: str, cell: Cell | None, error: MigtuiError | None) -> None:
            super().__init__()
            self.title, self.cell, self.error = title, cell, error

    def __init__(self, project: Project, state: AppState) -> None:
        super().__init__(project, state)
        self._inspector: DatabaseInspector | None = None
        self._inspector_lock = threading.Lock()
        # Tables the user is looking at: the structure worker reads these next.
        self._wanted: deque[TableRef] = deque()

    @property
    def inspector(self) -> DatabaseInspector:
        """The database inspector of this screen (made on first use, in a worker)."""
        with self._inspector_lock:
            if self._inspector is None:
                from migtui.core.schema.inspector import DatabaseInspector

                self._inspector = DatabaseInspector(self.project)
            return self._inspector

    def use_project(self, project: Project) -> None:
        """Another environment: read its tables through an inspector of its own."""
        super().use_project(project)
        with self._inspector_lock:
            old, self._inspector = self._inspector, None  # made anew for this project
        if old is not None:
            old.close()

    def on_unmount(self) -> None:
        if self._inspector is not None:
            self._inspector.close()

    @work(description="read_schema",
          thread=True, exclusive=True, group="tables-schema", exit_on_error=False)
    @needs_libraries
    def read_schema(self, token: int) -> None:
        """List every table and view by name (no structure: one query); posts SchemaRead."""
        try:
            self.post_message(self.SchemaRead(
                token, self.inspector.read_schema(structure=False), None))
        except MigtuiError as exc:
            self.post_message(self.SchemaRead(token, None, exc))

    def want_structure(self, ref: TableRef) -> None:
        """Have the structure worker read this table next (it is on screen)."""
        self._wanted.append(ref)

    @work(description="read_structure",
          thread=True, exclusive=True, group="tables-structure", exit_on_error=False)
    @needs_libraries
    def read_structure(self, token: int, tables: Sequence[TableInfo], whole: bool = True
                       ) -> None:
        """Read these tables' structure (those not read yet), a batch at a time, those
        asked for with ``want_structure`` first; posts StructureRead for each batch.
        ``whole=False``: the first batch only. One worker: a newer one (or a cancel)
        stops it between two batches."""
        worker = get_current_worker()
        left = {t.ref: t for t in tables if not t.reflected}
        size = FIRST_BATCH
        while left and not worker.is_cancelled:
            batch: dict[TableRef, TableInfo] = {}
            while self._wanted and len(batch) < size:  # the newest asked for first
                ref = self._wanted.pop()
                if ref in left:
                    batch[ref] = left[ref]
            for ref, table in left.items():
                if len(batch) >= size:
                    break
                batch.setdefault(ref, table)
            try:
                read = self.inspector.read_structure(tuple(batch.values()))
            except MigtuiError as exc:
                self.post_message(self.StructureRead(token, (), exc))
                return
            for ref in batch:
                del left[ref]
            self.post_message(self.StructureRead(token, read, None))
            if not whole:
                return
            size = BATCH

    @work(description="read_rows", thread=True, group="tables-rows", exit_on_error=False)
    @needs_libraries
    def read_rows(self, token: int, request: RowRequest) -> None:
        """Read one page of rows; posts RowsRead."""
        try:
            page = self.inspector.read_rows(request)
            self.post_message(self.RowsRead(token, request, page, None))
        except MigtuiError as exc:
            self.post_message(self.RowsRead(token, request, None, exc))

    @work(description="read_value", thread=True, group="tables-value", exit_on_error=False)
    @needs_libraries
    def read_value(self, title: str, table: TableInfo, column: str, key: tuple[Any, ...]
                   ) -> None:
        """Read the whole value of one cell; posts ValueRead."""
        try:
            cell = self.inspector.read_value(table, column, key)
            self.post_message(self.ValueRead(title, cell, None))
        except MigtuiError as exc:
            self.post_message(self.ValueRead(title, None, exc))
