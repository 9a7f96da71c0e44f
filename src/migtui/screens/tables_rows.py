"""The tables screen's rows tab: a table's rows, a page at a time as the grid scrolls."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static, TabbedContent

from migtui.core.actions.project import Project
from migtui.core.schema.model import (
    NO_CHANGES,
    Cell,
    RowRequest,
    SchemaChanges,
    TableInfo,
    TableRef,
)
from migtui.screens.inspector_screen import InspectorScreen
from migtui.screens.state import AppState
from migtui.screens.value import ValueScreen
from migtui.widgets.row_grid import RowGrid
from migtui.widgets.safe_text import clean, safe
from migtui.widgets.table_structure import rows_line

PAGE_ROWS = 200


class TableRows(InspectorScreen):
    """The rows part of the tables screen (a base class): the selected table's rows in
    a RowGrid, fetched in workers a page at a time; enter shows a whole value."""

    selected: TableRef | None

    def __init__(self, project: Project, state: AppState) -> None:
        super().__init__(project, state)
        self.changes: SchemaChanges = NO_CHANGES
        self._rows_token = 0
        self._rows_for: TableRef | None = None
        self._rows_loading = False

    @property
    def grid(self) -> RowGrid:
        return self.query_one(RowGrid)

    def table(self, ref: TableRef | None) -> TableInfo | None:
        """The table with this name, as read now (the screen knows)."""
        raise NotImplementedError

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "rows":
            self._load_rows()

    def _load_rows(self) -> None:
        table = self.table(self.selected)
        if table is None or table.ref == self._rows_for or not table.reflected:
            return  # (an unread table's rows come once its columns are read)
        self._rows_for = table.ref
        self._rows_token += 1
        grid = self.grid
        grid.reset(tuple(c.name for c in table.columns))
        if self.changes.table_mark(table.ref) == "dropped":
            self._rows_loading = False
            self.query_one("#rows-info", Static).update(
                Text("dropped by the last action: no rows to show", style="dim"))
            return
        self._fetch(table, 0, None, forward=True)

    def _fetch(self, table: TableInfo, offset: int, key: tuple[Any, ...] | None,
               forward: bool) -> None:
        request = RowRequest(
            schema=table.ref.schema, table=table.ref.name,
            columns=tuple(c.name for c in table.columns), key_columns=table.key_columns,
            key=key, offset=offset, backwards=not forward, limit=PAGE_ROWS,
        )
        self._rows_loading = True
        self._show_rows_line()
        self.read_rows(self._rows_token, request)

    def on_inspector_screen_rows_read(self, message: InspectorScreen.RowsRead) -> None:
        if message.token != self._rows_token:
            return
        self._rows_loading = False
        if message.page is None:
            self.grid.fetch_failed(not message.request.backwards)
            self.query_one("#rows-info", Static).update(
                safe(f"✗ {message.error}", "bold red"))
            return
        self.grid.add_page(message.page)
        self._show_rows_line()

    def on_row_grid_need_rows(self, event: RowGrid.NeedRows) -> None:
        table = self.table(self._rows_for)
        if table is None:
            return
        key, offset = event.grid.edge(event.forward)
        self._fetch(table, offset, key, event.forward)

    def on_row_grid_from_start(self, event: RowGrid.FromStart) -> None:
        self._rows_for = None
        self._load_rows()

    def on_row_grid_moved(self, event: RowGrid.Moved) -> None:
        self._show_rows_line()

    def _show_rows_line(self) -> None:
        grid = self.grid
        table = self.table(self._rows_for)
        total = str(table.rows) if table is not None and table.rows is not None else ""
        self.query_one("#rows-info", Static).update(rows_line(
            grid.first_held, grid.held, total, grid.cursor_row, grid.more_after,
            self._rows_loading), layout=False)  # one line, always: no layout pass

    def on_row_grid_value_wanted(self, event: RowGrid.ValueWanted) -> None:
        table = self.table(self._rows_for)
        name = clean(f"{table.ref.label if table else ''}.{event.column}", one_line=True)
        title = f"{name}, row {event.row + 1:,}"
        if event.cell.truncated and table is not None and table.key_columns and event.key:
            self.read_value(title, table, event.column, event.key)
            return
        self._show_value(title, event.cell)

    def on_inspector_screen_value_read(self, message: InspectorScreen.ValueRead) -> None:
        if message.cell is None:
            self.notify(str(message.error), title="Cannot read the value", severity="error")
            return
        self._show_value(message.title, message.cell)

    def _show_value(self, title: str, cell: Cell) -> None:
        self.app.push_screen(ValueScreen(title, cell))

