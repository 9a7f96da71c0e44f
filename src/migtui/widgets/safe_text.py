"""The one way untrusted text reaches the screen: as rich ``Text``, control characters shown.

Revision messages, branch labels, file paths and sources, table and column names, cell
values and error messages come from files and databases. They are data: never parsed
as markup (``[/]`` or ``[link=…]`` stay literal) and never sent to the terminal with
control characters (``ESC ] 0 ; … BEL`` would retitle the terminal, ``ESC [ 31 m`` would
colour the rest of the screen). :func:`clean` replaces every control character with a
visible escape (``\\x1b``, ``\\r``, ``\\u2028``); :func:`safe` wraps the result in ``Text``.
Newlines and tabs are kept in text shown on several lines and escaped in one-line text
(identifiers, list entries, grid headers).
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.text import Span, Text

# C0 controls, DEL, C1 controls, the Unicode line and paragraph separators, and the
# bidirectional overrides that can make text read differently from what it is.
_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029,
             *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF]
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def _escape(code: int) -> str:
    if code in _NAMED:
        return _NAMED[code]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_ONE_LINE: dict[int, str] = {code: _escape(code) for code in _CONTROLS}
_MANY_LINES: dict[int, str] = {
    code: text for code, text in _ONE_LINE.items() if code not in (0x09, 0x0A)}


def clean(text: object, *, one_line: bool = False) -> str:
    """``text`` as a string with every control character shown as a visible escape.

    ``one_line`` escapes newlines and tabs too (a name, a list entry, a header)."""
    value = text if isinstance(text, str) else str(text)
    if value.isprintable():  # False for every character replaced: one scan, usually
        return value
    return value.translate(_ONE_LINE if one_line else _MANY_LINES)


def safe(text: object, style: str = "", *, one_line: bool = False) -> Text:
    """Untrusted text as a ``Text`` (never markup), control characters made visible."""
    return Text(clean(text, one_line=one_line), style=style)


def safe_line(text: object, style: str = "") -> Text:
    """Untrusted text on one line: newlines and tabs escaped too."""
    return safe(text, style, one_line=True)


def scrub(text: Text) -> Text:
    """A ``Text`` built elsewhere with its control characters made visible, styles kept."""
    plain = text.plain
    if clean(plain) == plain:
        return text
    starts: list[int] = []
    parts: list[str] = []
    at = 0
    for char in plain:
        starts.append(at)
        shown = _MANY_LINES.get(ord(char), char)
        parts.append(shown)
        at += len(shown)
    starts.append(at)
    made = Text("".join(parts), style=text.style, justify=text.justify,
                overflow=text.overflow, no_wrap=text.no_wrap, end=text.end)
    made.spans = [Span(starts[min(s.start, len(plain))], starts[min(s.end, len(plain))],
                       s.style) for s in text.spans]
    return made


def middle_cut(name: str, width: int) -> str:
    """``name`` in at most ``width`` cells, cut in the middle (``organization_…_invitations``)
    so that long names with a common start, or a long path, keep their ends."""
    if cell_len(name) <= width:
        return name
    if width < 3:
        return set_cell_size(name, width)
    head_width = width // 2
    tail_width = width - 1 - head_width
    tail = ""
    for char in reversed(name):
        if cell_len(char + tail) > tail_width:
            break
        tail = char + tail
    return set_cell_size(name, head_width).rstrip() + "…" + tail
