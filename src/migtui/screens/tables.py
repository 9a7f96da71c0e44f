"""The tables screen: a live, read-only inspector of the database env.py connects to."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from migtui.core.actions.project import Project
from migtui.core.errors import MigtuiError
from migtui.core.models import DatabaseState
from migtui.core.schema.model import (
    NO_CHANGES,
    SchemaInfo,
    TableInfo,
    TableRef,
    compare,
)
from migtui.screens.dialogs import TextScreen
from migtui.screens.history import TablesHistory
from migtui.screens.inspector_screen import InspectorScreen
from migtui.screens.state import AppState
from migtui.screens.tables_rows import TableRows
from migtui.widgets.footer import SteadyFooter
from migtui.widgets.row_grid import RowGrid
from migtui.widgets.row_table import RowTable
from migtui.widgets.safe_text import safe
from migtui.widgets.status_line import StatusLine
from migtui.widgets.table_structure import (
    ListColumns,
    fill_columns,
    fill_constraints,
    fill_foreign_keys,
    fill_indexes,
    list_columns,
    list_entry,
    title_line,
)

TABS = ("columns", "indexes", "constraints", "foreign-keys", "rows")


# The table list's share of the screen's width, at most, and its width at least.
SIDE_SHARE = 0.4
SIDE_MIN = 24


class TablesScreen(TablesHistory, TableRows):
    """Every table and view of the database: structure, rows, what the last action changed."""

    WAITING = "Reading the database…"

    HELP = (
        "The tables and views of the database env.py connects to, read-only. Pick a table "
        "on the left (/ filters); the tabs show its columns, indexes, constraints, foreign "
        "keys (enter jumps to the referenced table) and rows (fetched a page at a time as "
        "you scroll; enter shows a whole value). After every upgrade, downgrade or stamp the "
        "screen re-reads the database and marks tables and columns as new, changed or "
        "dropped until the next action. Row counts with ~ are estimates. The list shows "
        "at once; each table's structure and row count are read after it, a few tables "
        "at a time, the one selected first."
    )

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="tables.filter"),
        Binding("1", "tab('columns')", "Columns", show=False, id="tables.columns"),
        Binding("2", "tab('indexes')", "Indexes", show=False, id="tables.indexes"),
        Binding("3", "tab('constraints')", "Constraints", show=False, id="tables.constraints"),
        Binding("4", "tab('foreign-keys')", "Foreign keys", show=False, id="tables.fks"),
        Binding("5", "tab('rows')", "Rows", id="tables.rows"),
        Binding("e", "error_details", "Error details", show=False, id="tables.error"),
        Binding("H", "table_history", "Table history", id="tables.history"),
    ]

    def __init__(self, project: Project, state: AppState) -> None:
        super().__init__(project, state)
        self.schema: SchemaInfo | None = None
        self._baseline: SchemaInfo | None = None
        self._refs: list[TableRef] = []
        self._fk_targets: list[TableRef] = []
        self._shape: tuple[ListColumns, int] | None = None  # the list's columns and width
        self.selected: TableRef | None = None
        self._token = 0
        self._error: MigtuiError | None = None

    def compose(self) -> ComposeResult:
        yield StatusLine("Reading the database…", id="status")
        with Horizontal(id="tables-body"):
            with Vertical(id="tables-side"):
                yield Input(placeholder="filter tables (/)", id="tables-filter")
                yield OptionList(id="table-list")
            with Vertical(id="table-detail"):
                yield Static("", id="table-title")
                with TabbedContent(id="table-tabs"):  # the first tab: columns
                    for tab_id, label in zip(TABS, ("Columns", "Indexes", "Constraints",
                                                    "Foreign keys", "Rows"), strict=True):
                        with TabPane(label, id=tab_id):
                            if tab_id == "rows":
                                yield Static("", id="rows-info")
                                yield RowGrid(id="rows-grid")
                            else:
                                yield RowTable(id=f"{tab_id}-table", zebra_stripes=True)
        yield SteadyFooter()

    def on_mount(self) -> None:
        if self.app_closing:
            return
        # Opened after an action: mark what it changed against the app's copy from before.
        if self.state.last_result is not None:
            self._baseline = self.state.schema_before
        self.show_state(None, self.state)
        for listing in self.query("#table-list").results(OptionList):  # (none: closing)
            listing.focus()

    # -- reading the schema ----------------------------------------------------

    @property
    def holds_structure(self) -> bool:
        """Whether every table's structure is read (what an action's marks compare)."""
        return self.schema is not None and self.schema.complete

    def show_state(self, old: AppState | None, new: AppState) -> None:
        if old is not None and new.busy and not old.busy:
            # A write starts: what we hold is "before"; reads finishing during it are not.
            self._token += 1
            self.workers.cancel_group(self, "tables-structure")
        if old is not None and new.last_result is not old.last_result:
            # An action ran: what we held is "before" (or what the app read before it,
            # when we did not hold every table's structure yet); the marks restart.
            fresh = new.schema_before is not old.schema_before
            self._baseline = new.schema_before if fresh else self.schema
            self.changes = NO_CHANGES
        if self.snapshot_changed(old, new):
            self.show_status()
            before = None if old is None or old.snapshot is None else old.snapshot.database
            # (The same database read with Alembic's verified graph: nothing to re-read.)
            if new.snapshot is not None and new.snapshot.database is not before:
                if new.snapshot.database.state is not DatabaseState.UNREACHABLE:
                    self.reload()
                else:  # (env.py failed, or ended its process: not run here again for it)
                    self._token += 1
                    self.query_one("#table-title", Static).update(safe(
                        "✗ The database could not be read (the status line says why; "
                        "r: retry)", "bold red"))

    def reload(self) -> None:
        """Read the tables again (in a worker)."""
        self._token += 1
        if self.schema is None:  # (built in the background: maybe as the app closes)
            for title in self.query("#table-title").results(Static):
                title.update(Text("Reading the database…"))
        self.read_schema(self._token)

    def on_inspector_screen_schema_read(self, message: InspectorScreen.SchemaRead) -> None:
        if message.token != self._token or self.app_closing:
            return
        title = self.query_one("#table-title", Static)
        if message.schema is None:
            self._error = message.error
            title.update(safe(f"✗ {message.error}  (e: details, r: retry)", "bold red"))
            return
        self._error = None
        self.schema = message.schema
        if self._baseline is not None:
            self.changes = compare(self._baseline, message.schema)
        self._fill_list(keep=self.selected)
        if message.schema.missing:
            title.update(safe(message.schema.missing, "dim"))
        self._rows_for = None
        self._show_selected()
        # The structure, a few tables at a time: the one selected first. Hidden, the
        # first few only (the rest once shown: no work in the background meanwhile).
        self.read_structure(self._token, message.schema.tables, whole=self.is_current)

    def on_screen_resume(self) -> None:
        # Once the list is on screen, the structure of the tables not read yet.
        self.call_after_refresh(self._read_the_rest)

    def on_screen_suspend(self) -> None:
        self.workers.cancel_group(self, "tables-structure")  # (between two batches)

    def _read_the_rest(self) -> None:
        if (self.schema is not None and not self.schema.complete and self.is_current
                and not self.state.busy):  # (during a write: read once it is done)
            self.read_structure(self._token, self.schema.tables)

    def on_inspector_screen_structure_read(self, message: InspectorScreen.StructureRead
                                           ) -> None:
        if message.token != self._token or self.schema is None or self.app_closing:
            return
        if message.error is not None:
            self._error = message.error
            self.query_one("#table-title", Static).update(
                safe(f"✗ {message.error}  (e: details, r: retry)", "bold red"))
            return
        self.schema = self.schema.with_structure(message.tables)
        dropped = self.changes.dropped_tables
        if self._baseline is not None:
            self.changes = compare(self._baseline, self.schema)
        if self.changes.dropped_tables != dropped:  # (a table found renamed, now read)
            self._fill_list(keep=self.selected)
        else:
            self._update_entries(message.tables)
        if any(t.ref == self.selected for t in message.tables):
            self._show_selected()

    def _all_tables(self) -> list[TableInfo]:
        if self.schema is None:
            return []
        tables = [*self.schema.tables, *self.changes.dropped_tables]
        return sorted(tables, key=lambda t: (t.ref.schema is not None, t.ref.schema or "",
                                             t.ref.name.lower(), t.ref.name))

    def _fill_list(self, keep: TableRef | None) -> None:
        needle = self.query_one("#tables-filter", Input).value.strip().lower()
        listing = self.query_one("#table-list", OptionList)
        every = self._all_tables()
        columns = list_columns(every, [self.changes.table_mark(t.ref) for t in every])
        tables = [t for t in every if needle in t.ref.label.lower()]
        self._refs = [t.ref for t in tables]
        width = self._size_side(columns.width)  # the names decide the list's width
        self._shape = (columns, width)
        listing.clear_options()
        listing.add_options([
            Option(list_entry(t, self.changes.table_mark(t.ref), width, columns), id=str(i))
            for i, t in enumerate(tables)])
        if not tables:
            self.selected = None
            return
        index = self._refs.index(keep) if keep in self._refs else 0
        self.selected = self._refs[index]
        listing.highlighted = index

    def _update_entries(self, tables: tuple[TableInfo, ...]) -> None:
        """Redraw the entries of these tables (their structure and count just read): the
        whole list only when its columns must widen (thousands of entries cost)."""
        every = self._all_tables()
        columns = list_columns(every, [self.changes.table_mark(t.ref) for t in every])
        if self._shape is None or columns != self._shape[0]:
            self._fill_list(keep=self.selected)
            return
        listing = self.query_one("#table-list", OptionList)
        index = {ref: i for i, ref in enumerate(self._refs)}
        for table in tables:
            if table.ref in index:
                listing.replace_option_prompt_at_index(index[table.ref], list_entry(
                    table, self.changes.table_mark(table.ref), self._shape[1], columns))

    def _size_side(self, entry_width: int) -> int:
        """Size the table list to its entries, up to SIDE_SHARE of the screen (at least
        SIDE_MIN cells); returns the cells each entry gets. Computed here, not left to
        the layout: the entries are made before the layout has the new width."""
        side = self.query_one("#tables-side", Vertical)
        listing = self.query_one("#table-list", OptionList)
        inner = listing.scrollable_content_region.width
        # Border, padding and the scrollbar's gutter: the same at every width.
        frame = side.outer_size.width - inner if inner else 5
        most = max(SIDE_MIN, int(self.size.width * SIDE_SHARE))
        width = max(SIDE_MIN, min(entry_width + 1 + frame, most))
        side.styles.width = width
        return width - frame

    def on_resize(self) -> None:
        if self.schema is not None:
            self._fill_list(keep=self.selected)

    def table(self, ref: TableRef | None) -> TableInfo | None:
        """The table with this name, as read now (or, if dropped, as it was)."""
        if ref is None or self.schema is None:
            return None
        found = self.schema.get(ref)
        if found is None:
            found = next((t for t in self.changes.dropped_tables if t.ref == ref), None)
        return found

    # -- the selected table ----------------------------------------------------

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        index = int(event.option.id or 0)
        if 0 <= index < len(self._refs) and self._refs[index] != self.selected:
            self.selected = self._refs[index]
            self._show_selected()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        active = self.query_one(TabbedContent).active
        target = self.grid if active == "rows" else self.query_one(f"#{active}-table")
        target.focus()

    def _show_selected(self) -> None:
        table = self.table(self.selected)
        title = self.query_one("#table-title", Static)
        if table is None:
            if self.schema is not None and not self.schema.missing:
                filtered = self.query_one("#tables-filter", Input).value
                title.update(Text("No tables match the filter" if filtered else "No tables",
                                  style="dim"))
            for tab_id in TABS[:-1]:
                self.query_one(f"#{tab_id}-table", DataTable).clear(columns=True)
            self.grid.reset(())
            self._show_rows_line()
            return
        mark = self.changes.table_mark(table.ref)
        line = title_line(table, mark, self.changes.renamed.get(table.ref))
        if not table.reflected:  # its structure comes next (StructureRead)
            title.update(line.append("  reading its structure…", style="dim"))
            self.want_structure(table.ref)
            for tab_id in TABS[:-1]:
                self.query_one(f"#{tab_id}-table", DataTable).clear(columns=True)
            self._fk_targets = []
            return
        title.update(line)
        fill_columns(self.query_one("#columns-table", DataTable), table, self.changes)
        fill_indexes(self.query_one("#indexes-table", DataTable), table)
        fill_constraints(self.query_one("#constraints-table", DataTable), table)
        self._fk_targets = fill_foreign_keys(
            self.query_one("#foreign-keys-table", DataTable), table)
        if self.query_one(TabbedContent).active == "rows":
            self._load_rows()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id != "foreign-keys-table":
            return
        index = event.cursor_row
        if 0 <= index < len(self._fk_targets):
            self.jump_to(self._fk_targets[index])

    def jump_to(self, ref: TableRef) -> None:
        """Select a table (clearing the filter if it hides it) and show its columns."""
        if ref not in self._refs:
            self.query_one("#tables-filter", Input).value = ""
            self._fill_list(keep=ref)
        if ref not in self._refs:
            self.notify(f"{ref.label} is not in this database", severity="warning")
            return
        self.selected = ref
        self.query_one("#table-list", OptionList).highlighted = self._refs.index(ref)
        self.query_one(TabbedContent).active = "columns"
        self._show_selected()
        self.query_one("#columns-table", DataTable).focus()

    # -- keys --------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one("#tables-filter", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "tables-filter" and self.schema is not None:
            self._fill_list(keep=self.selected)
            self._show_selected()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "tables-filter":
            self.query_one("#table-list", OptionList).focus()

    def key_escape(self) -> None:
        box = self.query_one("#tables-filter", Input)
        if box.has_focus or box.value:
            box.value = ""
            self.query_one("#table-list", OptionList).focus()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_error_details(self) -> None:
        if self._error is not None:
            self.app.push_screen(TextScreen(self._error.message,
                                            Text(self._error.details or "(no details)")))
        else:
            self.show_last_error()
