"""Helpers for driving the real app in tests."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static, Tabs
from textual.widgets._tabs import Underline
from textual.worker import WorkerCancelled

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.tui.app import MigtuiApp
from migtui.widgets.revision_graph import RevisionGraphView
from migtui.widgets.status_line import StatusLine


def make_app(project: Path, *, read_only: bool = False, url: str | None = None) -> MigtuiApp:
    """The real app on a project folder, as `migtui` run in that folder would open it."""
    options = ProjectOptions(cwd=str(project), read_only=read_only, url=url)
    return MigtuiApp(Project.open(options))


async def settle(pilot: Pilot[None]) -> None:
    """Wait until every worker is done and the screen has caught up.

    Done means two rounds in a row with no worker left to finish: a message handled in
    the first round (a screen asking the app for a dialog, say) may start new workers."""
    app = pilot.app
    quiet = 0
    for _ in range(8):
        # A worker replaced by a newer one (exclusive groups) ends cancelled: not an error.
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()
        quiet = 0 if any(not w.is_finished for w in app.workers) else quiet + 1
        if quiet == 2:
            break


async def wait_for(pilot: Pilot[None], check: Callable[[], object],
                   seconds: float = 30) -> None:
    """Let the app run until ``check()`` holds (a guard against hangs, not a speed test)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"timed out waiting for {check}")


def _underlined(bar: Underline) -> bool:
    return bar.show_highlight and bar.highlight_end > bar.highlight_start


async def tabs_underlined(pilot: Pilot[None]) -> None:
    """Wait until every shown row of tabs draws the bar under its active tab (placed a
    frame or more after the tab is laid out: late under load, which a snapshot sees;
    now and then never, until the tabs are resized: then placed as a resize places it)."""
    for round_ in range(400):
        late = [t for t in pilot.app.screen.query(Tabs)
                if t.display and not _underlined(t.query_one(Underline))]
        if not late:
            return
        if round_ and round_ % 50 == 0:
            for t in late:
                t._highlight_active(animate=False)  # (what Tabs does on a resize)
        await pilot.pause(0.01)
    raise AssertionError("a tab underline was never placed")


def graph_lines(app: MigtuiApp) -> list[str]:
    """The text of every graph row as drawn on screen (visible rows only)."""
    view = app.screen.query_one(RevisionGraphView)
    height = view.scrollable_content_region.height
    return [view.render_line(y).text.rstrip() for y in range(min(height, len(view.rows)))]


def row_of(app: MigtuiApp, revision: str) -> str:
    """The drawn row of one revision."""
    for line in graph_lines(app):
        if revision[:12] in line:
            return line
    raise AssertionError(f"{revision} not shown")


def widget_text(widget: Static) -> str:
    """The plain text a Static shows (Text, Syntax, Group...), rendered wide."""
    console = Console(width=200, record=True, file=io.StringIO(), color_system=None)
    console.print(widget.content)
    return console.export_text()


def status_text(app: MigtuiApp) -> str:
    """What the status line says."""
    return widget_text(app.screen.query_one(StatusLine))


def screen_lines(app: MigtuiApp) -> list[str]:
    """The current screen as the terminal shows it, line by line: every widget where
    the layout put it, cut where it is cut (toasts too, with run_test(notifications=True))."""
    update = app.screen._compositor.render_full_update()
    return ["".join(segment.text for segment in strip).rstrip() for strip in update.strips]
