"""The whole value of one cell, a page at a time: a 10 MB value opens and closes at once.

Text is shown in pages of ``PAGE_CHARS`` characters, binary as a hex dump of
``PAGE_BYTES`` bytes a page; ``n``/``]`` and ``p``/``[`` turn the pages. A text value
that is not valid UTF-8 is shown with replacement characters, followed by its bytes.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from migtui.core.schema.model import Cell, CellKind
from migtui.widgets.safe_text import safe

PAGE_CHARS = 64 * 1024
PAGE_BYTES = 4 * 1024


def size_words(count: int) -> str:
    """A size in binary units: "512 B", "64 KiB", "10 MiB"."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" or value >= 10 else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"  # pragma: no cover


def hex_dump(data: bytes, start: int = 0) -> str:
    """Offset, hex and ASCII columns, 16 bytes a line."""
    lines = []
    for at in range(0, len(data), 16):
        chunk = data[at:at + 16]
        hexpart = " ".join(f"{b:02x}" for b in chunk)
        ascii_part = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{start + at:08x}  {hexpart:<47}  {ascii_part}")
    return "\n".join(lines)


class ValueScreen(ModalScreen[None]):
    """One cell's value, paged; escape or q closes it."""

    BINDINGS = [
        Binding("n,right_square_bracket", "page(1)", "Next page", id="value.next"),
        Binding("p,left_square_bracket", "page(-1)", "Previous page", id="value.previous"),
        Binding("escape,q", "close", "Close", id="value.close"),
    ]

    def __init__(self, title: str, cell: Cell) -> None:
        super().__init__()
        self._title = title
        self.cell = cell
        self._binary = cell.kind is CellKind.BINARY
        self._data = bytes.fromhex(cell.text) if self._binary else b""
        self._length = len(self._data) if self._binary else len(cell.text)
        self._page_size = PAGE_BYTES if self._binary else PAGE_CHARS
        self.page = 0

    @property
    def pages(self) -> int:
        return max(1, -(-self._length // self._page_size))

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Static(safe(self._title, "bold"), id="text-title")
            yield Static("", id="value-range")
            with VerticalScroll(id="text-body"):
                yield Static("", id="text-content")
            yield Static(Text("n / ]: next page · p / [: previous page · escape closes",
                              style="dim"), id="value-keys")

    def on_mount(self) -> None:
        self._show()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page":
            return self.pages > 1
        return True

    def action_page(self, delta: int) -> None:
        page = max(0, min(self.pages - 1, self.page + delta))
        if page != self.page:
            self.page = page
            self._show()
            self.query_one("#text-body", VerticalScroll).scroll_home(animate=False)

    def action_close(self) -> None:
        self.dismiss(None)

    def range_line(self) -> Text:
        """Which part of the value is shown: "showing 64 KiB of 10 MiB (page 1 of 160)"."""
        cell = self.cell
        start = self.page * self._page_size
        end = min(start + self._page_size, self._length)
        unit = "bytes" if self._binary else "characters"
        if self.pages == 1 and not cell.truncated:
            return Text(f"{self._length:,} {unit}", style="dim")
        text = Text(f"showing {size_words(end - start)} of {size_words(cell.size)}",
                    style="bold")
        text.append(f"  ({unit} {start + 1:,}\u2013{end:,} of {cell.size:,}; page "
                    f"{self.page + 1:,} of {self.pages:,})", style="dim")
        if cell.truncated:
            text.append(f"  only the first {self._length:,} {unit} were read", style="dim")
        return text

    def _show(self) -> None:
        start = self.page * self._page_size
        end = start + self._page_size
        body: RenderableType
        if self._binary:
            shown = "" if not self.cell.truncated else f" (the first {self._length:,} read)"
            body = Text(f"{self.cell.size:,} bytes{shown}\n"
                        + hex_dump(self._data[start:end], start))
        else:
            body = safe(self.cell.text[start:end])
            if self.cell.raw and self.page == self.pages - 1:
                raw = bytes.fromhex(self.cell.raw)
                note = (f"\nNot valid UTF-8: shown with replacement characters (\ufffd). "
                        f"Its bytes as stored ({len(raw):,} shown):")
                body = Group(body, Text(note, style="bold yellow"), Text(hex_dump(raw)))
        line = self.query_one("#value-range", Static)
        line.update(self.range_line())
        line.display = self.pages > 1 or self.cell.truncated
        self.query_one("#text-content", Static).update(body)
