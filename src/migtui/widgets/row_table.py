"""A DataTable of rows whose Home and End go to the first and last row."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable


class RowTable(DataTable[Any]):
    """Textual's DataTable with a row cursor, where Home and End move it to the first
    and last row (in DataTable they scroll sideways, which a row cursor never needs),
    as in migtui's other lists."""

    BINDINGS = [
        Binding("home", "scroll_top", "First row", show=False),
        Binding("end", "scroll_bottom", "Last row", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", **kwargs)
