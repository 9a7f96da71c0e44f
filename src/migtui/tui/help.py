"""The help text, generated from the bindings in force (never a hand-kept copy)."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.binding import ActiveBinding
from textual.screen import Screen

_KEY_NAMES = {"question_mark": "?", "slash": "/", "escape": "esc", "enter": "enter"}


def key_label(key: str) -> str:
    """A key as the user types it."""
    return _KEY_NAMES.get(key, key)


def help_text(screen: Screen[object], bindings: Mapping[str, ActiveBinding]) -> Text:
    """Every key of the current screen with its description, plus the screen's HELP."""
    text = Text()
    paragraph = getattr(screen, "HELP", "")
    if paragraph:
        text.append(paragraph.strip() + "\n\n")
    # migtui's own keys (they carry a binding id) first, Textual's generic ones after.
    ours: dict[str, list[str]] = {}
    generic: dict[str, list[str]] = {}
    for key, active in bindings.items():
        binding = active.binding
        group = ours if binding.id else generic
        group.setdefault(binding.description or binding.action, []).append(key_label(key))
    for title, grouped in (("", ours), ("Also (Textual)\n", generic)):
        if title and grouped:
            text.append("\n" + title, style="dim")
        for description, keys in grouped.items():
            text.append(f"{' / '.join(keys):>18}  ", style="bold")
            text.append(f"{description}\n")
    return text
