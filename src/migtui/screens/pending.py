"""Placeholder: replaced by the pending screen's own implementation."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static

from migtui.widgets.status_line import StatusLine


class PendingScreen(Screen[None]):
    """Not built yet."""

    HELP = "Not built yet."

    def compose(self) -> ComposeResult:
        yield StatusLine("", id="status")
        yield Static("Not built yet.")
        yield Footer()
