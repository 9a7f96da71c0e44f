"""A grid of table rows that holds a window of pages and asks for more as the cursor moves.

The grid never holds the whole table: it keeps at most ``MAX_HELD`` rows around the
cursor, drops rows far behind it, and posts ``NeedRows`` when the cursor (or the view)
comes within ``PREFETCH`` rows of either end of what it holds. Only visible lines are
rendered (Line API).
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from migtui.core.schema.model import Cell, CellKind, RowPage, grid_text
from migtui.widgets.safe_text import clean

MAX_HELD = 1_000
PREFETCH = 60
MAX_WIDTH = 40
_SEP = " │ "


class RowGrid(ScrollView, can_focus=True):
    """Rows of one table, a window of pages, with a cell cursor."""

    BINDINGS = [
        Binding("up,k", "move(-1, 0)", "Up", show=False, id="rows.up"),
        Binding("down,j", "move(1, 0)", "Down", show=False, id="rows.down"),
        Binding("left,h", "move(0, -1)", "Left", show=False, id="rows.left"),
        Binding("right,l", "move(0, 1)", "Right", show=False, id="rows.right"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="rows.pageup"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="rows.pagedown"),
        Binding("home", "first", "First row held", show=False, id="rows.home"),
        Binding("ctrl+home", "from_start", "First row", show=False, id="rows.start"),
        Binding("end", "last", "Last row held", show=False, id="rows.end"),
        Binding("enter", "show_value", "Whole value", id="rows.value"),
    ]

    DEFAULT_CSS = """
    RowGrid { height: 1fr; }
    RowGrid > .rows--header { text-style: bold; color: $primary; }
    RowGrid > .rows--cursor-row { background: $accent 20%; }
    RowGrid > .rows--cursor-cell { background: $accent 60%; }
    RowGrid > .rows--null { color: $text-muted; text-style: italic; }
    RowGrid > .rows--binary { color: $secondary; }
    RowGrid > .rows--number { color: $success; }
    RowGrid > .rows--separator { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "rows--header", "rows--cursor-row", "rows--cursor-cell", "rows--null", "rows--binary",
        "rows--number", "rows--separator",
    }

    class NeedRows(Message):
        """The cursor is near the end of the rows held: fetch the next page that way."""

        def __init__(self, grid: RowGrid, forward: bool) -> None:
            super().__init__()
            self.grid = grid
            self.forward = forward

    class Moved(Message):
        """The cursor moved or the rows held changed (for a "rows a-b of N" line)."""

        def __init__(self, grid: RowGrid) -> None:
            super().__init__()
            self.grid = grid

    class FromStart(Message):
        """Show the table again from its first row (the rows held start further on)."""

        def __init__(self, grid: RowGrid) -> None:
            super().__init__()
            self.grid = grid

    class ValueWanted(Message):
        """Enter on a cell: show its whole value."""

        def __init__(self, row: int, column: str, cell: Cell, key: tuple[Any, ...] | None
                     ) -> None:
            super().__init__()
            self.row = row
            self.column = column
            self.cell = cell
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns: tuple[str, ...] = ()
        self._headers: list[str] = []
        self._widths: list[int] = []
        self._rows: list[tuple[Cell, ...]] = []
        self._keys: list[tuple[Any, ...]] = []
        self._base = 0  # number (from 0) in the table of the first row held
        self.more_after = False
        self.more_before = False
        self._asked: set[bool] = set()  # directions with a fetch under way
        self.cursor_row = 0  # number in the table
        self.cursor_col = 0
        self._wanted: int | None = None  # where the cursor goes once those rows arrive
        self._styles: dict[str, Style] = {}

    # -- what the grid holds ---------------------------------------------------

    @property
    def held(self) -> int:
        """How many rows the grid holds right now."""
        return len(self._rows)

    @property
    def waiting(self) -> bool:
        """A page asked for with NeedRows has not arrived yet."""
        return bool(self._asked)

    @property
    def first_held(self) -> int:
        """Number (from 0) of the first row held."""
        return self._base

    def row(self, number: int) -> tuple[Cell, ...] | None:
        """The cells of the row with this number, if it is held."""
        index = number - self._base
        return self._rows[index] if 0 <= index < len(self._rows) else None

    def edge(self, forward: bool) -> tuple[tuple[Any, ...] | None, int]:
        """(key, offset) to ask for the page after (or before) the rows held."""
        if forward:
            return (self._keys[-1] if self._keys else None), self._base + len(self._rows)
        return (self._keys[0] if self._keys else None), self._base

    def reset(self, columns: tuple[str, ...]) -> None:
        """Forget every row; show these columns (the first page comes with add_page)."""
        self.columns = columns
        # Column names are data: a newline or ESC in one is shown escaped in the header.
        self._headers = [clean(c, one_line=True) for c in columns]
        self._widths = [min(max(cell_len(c), 4), MAX_WIDTH) for c in self._headers]
        self._rows, self._keys, self._base = [], [], 0
        self.more_after = self.more_before = False
        self._asked.clear()
        self.cursor_row = self.cursor_col = 0
        self._wanted = None
        self._resize()
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def add_page(self, page: RowPage) -> None:
        """Take a page: appended, prepended, or (anywhere else) replacing what is held."""
        forward = not page.request.backwards
        self._asked.discard(forward)
        rows, keys = list(page.rows), list(page.keys)
        follow = False  # scroll to the cursor (not when the view was moved by the mouse)
        self._fit_widths(rows)  # columns only ever widen, so nothing jumps back
        if self._rows and forward and page.offset == self._base + len(self._rows):
            self._rows += rows
            self._keys += keys
            self.more_after = page.more_after
            if self._wanted is not None and self._wanted > self.cursor_row:
                self.cursor_row, self._wanted, follow = self._wanted, None, True
            self._resize()
            self._trim_front()
        elif self._rows and not forward and page.offset + len(rows) == self._base:
            self._rows[:0] = rows
            self._keys[:0] = keys
            self._base = page.offset
            self.more_before = page.more_before
            if self._wanted is not None and self._wanted < self.cursor_row:
                self.cursor_row, self._wanted, follow = self._wanted, None, True
            self._resize()
            self.scroll_to(y=self.scroll_y + len(rows), animate=False)
            self._trim_back()
        else:
            self._rows, self._keys, self._base = rows, keys, page.offset
            self.more_after, self.more_before = page.more_after, page.more_before
            self.cursor_row, follow = page.offset, True
        self._resize()
        self.refresh()
        self._after_move(follow)

    def _fit_widths(self, rows: list[tuple[Cell, ...]]) -> None:
        for row in rows:
            for i, cell in enumerate(row[: len(self._widths)]):
                width = cell_len(grid_text(cell, MAX_WIDTH))
                if width > self._widths[i]:
                    self._widths[i] = min(width, MAX_WIDTH)

    def _trim_front(self) -> None:
        """Let go of rows well above the view (keeping MAX_HELD rows)."""
        top = int(self.scroll_y)
        drop = min(len(self._rows) - MAX_HELD, top - PREFETCH * 2)
        if drop <= 0:
            return
        del self._rows[:drop]
        del self._keys[:drop]
        self._base += drop
        self.more_before = True
        self._resize()
        self.scroll_to(y=top - drop, animate=False)
        if self.cursor_row < self._base:  # the view was scrolled away from the cursor
            self.cursor_row = self._base + top - drop

    def _trim_back(self) -> None:
        """Let go of rows well below the view (keeping MAX_HELD rows)."""
        bottom = int(self.scroll_y) + self._page_rows()
        drop = min(len(self._rows) - MAX_HELD, len(self._rows) - bottom - PREFETCH * 2)
        if drop <= 0:
            return
        del self._rows[-drop:]
        del self._keys[-drop:]
        self.more_after = True
        if self.cursor_row >= self._base + len(self._rows):
            self.cursor_row = self._base + min(bottom, len(self._rows)) - 1

    def _resize(self) -> None:
        width = sum(self._widths) + len(_SEP) * max(len(self._widths) - 1, 0) + 1
        self.virtual_size = Size(width, len(self._rows) + 1)

    # -- cursor ----------------------------------------------------------------

    def _page_rows(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def _after_move(self, follow: bool = True) -> None:
        if self._rows:
            last = self._base + len(self._rows) - 1
            self.cursor_row = max(self._base, min(self.cursor_row, last))
        self.cursor_col = max(0, min(self.cursor_col, len(self.columns) - 1))
        if follow:
            self._scroll_to_cursor()
        self._check_prefetch()
        self.refresh()
        self.post_message(self.Moved(self))

    def _scroll_to_cursor(self) -> None:
        index, top, rows = self.cursor_row - self._base, int(self.scroll_y), self._page_rows()
        if index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + rows:
            self.scroll_to(y=index - rows + 1, animate=False)
        left = sum(self._widths[: self.cursor_col]) + len(_SEP) * self.cursor_col
        right = left + (self._widths[self.cursor_col] if self._widths else 0)
        view = self.scrollable_content_region.width
        if left < self.scroll_x:
            self.scroll_to(x=left, animate=False)
        elif right > self.scroll_x + view:
            self.scroll_to(x=max(right - view, 0), animate=False)

    def _check_prefetch(self) -> None:
        if not self._rows:
            return
        # The view is what counts: keys keep the cursor in it, the mouse may leave it behind.
        top = int(self.scroll_y)
        bottom = top + self._page_rows()
        if self.more_after and True not in self._asked and len(self._rows) - bottom <= PREFETCH:
            self._asked.add(True)
            self.post_message(self.NeedRows(self, True))
        if self.more_before and False not in self._asked and top <= PREFETCH:
            self._asked.add(False)
            self.post_message(self.NeedRows(self, False))

    def fetch_failed(self, forward: bool) -> None:
        """A fetch asked for with NeedRows did not arrive; allow asking again."""
        self._asked.discard(forward)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._check_prefetch()

    def action_move(self, rows: int, columns: int) -> None:
        wanted = self.cursor_row + rows
        last = self._base + len(self._rows) - 1
        beyond = (wanted > last and self.more_after) or (wanted < self._base and self.more_before)
        self._wanted = max(wanted, 0) if beyond else None
        self.cursor_row = wanted
        self.cursor_col += columns
        self._after_move()

    def action_page(self, direction: int) -> None:
        self.action_move(direction * self._page_rows(), 0)

    def action_first(self) -> None:
        self.cursor_row = self._base
        self._after_move()

    def action_from_start(self) -> None:
        if self._base == 0:
            self.cursor_row = 0
            self._after_move()
        else:
            self.post_message(self.FromStart(self))

    def action_last(self) -> None:
        self.cursor_row = self._base + len(self._rows) - 1
        self._after_move()

    def action_show_value(self) -> None:
        row = self.row(self.cursor_row)
        if row is None or not self.columns:
            return
        index = self.cursor_row - self._base
        key = self._keys[index] if index < len(self._keys) else None
        self.post_message(self.ValueWanted(
            self.cursor_row, self.columns[self.cursor_col], row[self.cursor_col], key))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        index = int(self.scroll_y) + event.y - 1
        if not 0 <= index < len(self._rows):
            return
        x, col = int(self.scroll_x) + event.x, 0
        for i, width in enumerate(self._widths):
            if x < width + len(_SEP):
                col = i
                break
            x -= width + len(_SEP)
        self.cursor_row, self.cursor_col = self._base + index, col
        self._after_move()
        if event.chain >= 2:
            self.action_show_value()

    def on_resize(self) -> None:
        self._resize()

    # -- drawing ---------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def _style(self, name: str) -> Style:
        """The widget's own style ("") or a component's, worked out once per style change."""
        found = self._styles.get(name)
        if found is None:
            found = self.rich_style if not name else self.get_component_rich_style(
                name, partial=True)
            self._styles[name] = found
        return found

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        style = self._style
        base = style("")

        sep_style = base + style("rows--separator")
        segments: list[Segment] = []
        if y == 0:
            head = base + style("rows--header")
            for i, (name, w) in enumerate(zip(self._headers, self._widths, strict=True)):
                if i:
                    segments.append(Segment(_SEP, sep_style))
                segments.append(Segment(set_cell_size(name, w), head))
            return self._finish(segments, width, base)
        index = int(self.scroll_y) + y - 1
        if not 0 <= index < len(self._rows):
            return Strip.blank(width, base)
        on_cursor = index == self.cursor_row - self._base
        row_style = base + style("rows--cursor-row") if on_cursor else base
        for i, (cell, w) in enumerate(zip(self._rows[index], self._widths, strict=False)):
            if i:
                segments.append(Segment(_SEP, sep_style + row_style))
            cell_style = row_style
            if cell.kind is CellKind.NULL:
                cell_style += style("rows--null")
            elif cell.kind is CellKind.BINARY:
                cell_style += style("rows--binary")
            elif cell.kind is CellKind.NUMBER:
                cell_style += style("rows--number")
            if on_cursor and i == self.cursor_col:
                cell_style += style("rows--cursor-cell")
            text = set_cell_size(grid_text(cell, w), w)
            if cell.kind is CellKind.NUMBER:
                text = set_cell_size(grid_text(cell, w).rjust(w), w)
            segments.append(Segment(text, cell_style))
        return self._finish(segments, width, row_style)

    def _finish(self, segments: list[Segment], width: int, fill: Style) -> Strip:
        left = int(self.scroll_x)
        total = sum(self._widths) + len(_SEP) * max(len(self._widths) - 1, 0) + 1
        return Strip(segments).crop_extend(left, left + width, fill) if total else Strip.blank(
            width, fill)
