"""The worker plumbing of the tables screen: reads through a read-only inspector.

Each read runs in a thread worker and posts its answer (or the error) as one of the
Messages below; the screen handles them on the UI thread.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message

from migtui.core.actions.project import Project
from migtui.core.errors import MigtuiError
from migtui.core.schema.model import Cell, RowPage, RowRequest, SchemaInfo, TableInfo
from migtui.screens.state import AppState, SessionScreen

if TYPE_CHECKING:  # the inspector imports SQLAlchemy: made by the first worker that reads
    from migtui.core.schema.inspector import DatabaseInspector


class InspectorScreen(SessionScreen):
    """A main screen that reads the database's tables and rows in workers."""

    class SchemaRead(Message, bubble=False):
        """The tables and views were read (or could not be)."""

        def __init__(self, token: int, schema: SchemaInfo | None, error: MigtuiError | None
                     ) -> None:
            super().__init__()
            self.token, self.schema, self.error = token, schema, error

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

    @work(thread=True, exclusive=True, group="tables-schema", exit_on_error=False)
    def read_schema(self, token: int) -> None:
        """Read every table and view; posts SchemaRead."""
        try:
            self.post_message(self.SchemaRead(token, self.inspector.read_schema(), None))
        except MigtuiError as exc:
            self.post_message(self.SchemaRead(token, None, exc))

    @work(thread=True, group="tables-rows", exit_on_error=False)
    def read_rows(self, token: int, request: RowRequest) -> None:
        """Read one page of rows; posts RowsRead."""
        try:
            page = self.inspector.read_rows(request)
            self.post_message(self.RowsRead(token, request, page, None))
        except MigtuiError as exc:
            self.post_message(self.RowsRead(token, request, None, exc))

    @work(thread=True, group="tables-value", exit_on_error=False)
    def read_value(self, title: str, table: TableInfo, column: str, key: tuple[Any, ...]
                   ) -> None:
        """Read the whole value of one cell; posts ValueRead."""
        try:
            cell = self.inspector.read_value(table, column, key)
            self.post_message(self.ValueRead(title, cell, None))
        except MigtuiError as exc:
            self.post_message(self.ValueRead(title, None, exc))
