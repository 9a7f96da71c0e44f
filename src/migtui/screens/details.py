"""Details of one revision: its header, the source of upgrade()/downgrade(), and its SQL."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static, TabbedContent, TabPane

from migtui.core.errors import MigtuiError, from_exception
from migtui.core.libraries import needs_libraries
from migtui.core.models import Revision
from migtui.core.revisions.source import parse_error, read_function
from migtui.screens.preflight_text import describe_functions
from migtui.widgets.safe_text import clean, safe

if TYPE_CHECKING:  # the checks import SQLAlchemy: not before the first paint
    from migtui.core.checks.preflight import FunctionOperations

SqlLoader = Callable[[], str]
OperationsLoader = Callable[[], tuple["FunctionOperations", ...]]


def header(rev: Revision) -> Text:
    """The revision's message, id, parents, children, labels, file and date."""
    text = Text()
    text.append(f"{clean(rev.message or '(no message)')}\n\n", style="bold")
    rows = [
        ("Revision", rev.revision),
        ("Parents", ", ".join(rev.down_revisions) or "base"),
        ("Children", ", ".join(rev.children) or "none (head)"),
        ("Branch labels", ", ".join(rev.branch_labels)),
        ("Depends on", ", ".join(rev.dependencies)),
        ("Date", rev.date or ""),
        ("File", rev.path or ""),
    ]
    for label, value in rows:
        if value:
            text.append(f"{label:>14}  ", style="dim")
            text.append(f"{clean(value, one_line=True)}\n")
    return text


def _source(rev: Revision) -> Group:
    parts: list[Text | Syntax] = []
    broken = parse_error(rev.path)
    if broken is not None:  # the whole file, and why Python cannot read it
        parts.append(safe(f"⚠ This file cannot be read as Python: {broken}", "bold red"))
        with contextlib.suppress(OSError):
            source = Path(str(rev.path)).read_text(encoding="utf-8", errors="replace")
            parts.append(Syntax(clean(source), "python", theme="ansi_dark", word_wrap=True,
                                line_numbers=True))
        return Group(*parts)
    for name in ("upgrade", "downgrade"):
        info = read_function(rev.path, name)
        if info is None:
            parts.append(Text(f"{name}(): not found in the file", style="dim"))
            continue
        parts.append(Syntax(clean(info.source), "python", theme="ansi_dark", word_wrap=True))
        for warning in info.warnings:
            parts.append(safe(f"⚠ {warning}", "bold"))
        parts.append(Text(""))
    return Group(*parts)


def _static_operations(rev: Revision) -> Text:
    """The op.* calls the source shows, when they could not be recorded."""
    text = Text()
    for name in ("upgrade", "downgrade"):
        info = read_function(rev.path, name)
        text.append(f"{name}()\n", style="bold")
        for op in (info.operations if info else ()) or ("(no operations)",):
            text.append(f"   {clean(op, one_line=True)}\n", style="dim")
        text.append("\n")
    return text


class RevisionDetailsScreen(ModalScreen[None]):
    """Everything about one revision; escape closes it."""

    # What the dialog's workers post.

    class SqlRendered(Message, bubble=False):
        """The offline SQL of one direction ("up" or "down"), or why there is none."""

        def __init__(self, key: str, sql: str, error: str = "") -> None:
            super().__init__()
            self.key = key
            self.sql = sql
            self.error = error

    class OperationsRecorded(Message, bubble=False):
        """The recorded operations of the revision's upgrade() and downgrade()."""

        def __init__(self, functions: tuple[FunctionOperations, ...], error: str = "") -> None:
            super().__init__()
            self.functions = functions
            self.error = error

    BINDINGS = [Binding("escape,q", "close", "Close", id="details.close")]

    def __init__(self, revision: Revision, up_sql: SqlLoader, down_sql: SqlLoader,
                 operations: OperationsLoader | None = None) -> None:
        super().__init__()
        self.revision = revision
        self._loaders = {"up": up_sql, "down": down_sql}
        self._operations = operations

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Static(header(self.revision), id="details-header")
            with TabbedContent():
                with TabPane("Source", id="tab-source"), VerticalScroll():
                    yield Static(_source(self.revision), id="details-source")
                with TabPane("Operations", id="tab-ops"), VerticalScroll():
                    yield Static("Recording the operations…", id="details-ops")
                with TabPane("Upgrade SQL", id="tab-up"), VerticalScroll():
                    yield Static("Rendering…", id="sql-up")
                with TabPane("Downgrade SQL", id="tab-down"), VerticalScroll():
                    yield Static("Rendering…", id="sql-down")
            yield Static(Text("escape closes · SQL is rendered offline for the database's dialect",
                              style="dim"))

    def on_mount(self) -> None:
        self._render_sql("up")
        self._render_sql("down")
        if self._operations is not None:
            self._record_operations()
        else:
            self.query_one("#details-ops", Static).update(_static_operations(self.revision))

    @work(description="_record_operations", thread=True, exit_on_error=False, group="operations")
    @needs_libraries
    def _record_operations(self) -> None:
        assert self._operations is not None
        try:
            self.post_message(self.OperationsRecorded(self._operations()))
        except Exception as exc:  # show the source reading instead
            self.post_message(self.OperationsRecorded((), from_exception(exc).message))

    def on_revision_details_screen_operations_recorded(
            self, message: RevisionDetailsScreen.OperationsRecorded) -> None:
        target = self.query_one("#details-ops", Static)
        if message.error or not message.functions:
            target.update(Group(_static_operations(self.revision),
                                safe(f"(not recorded: {message.error})", "dim")))
        else:
            target.update(describe_functions(message.functions))

    @work(description="_render_sql", thread=True, exit_on_error=False)
    @needs_libraries
    def _render_sql(self, key: str) -> None:
        try:
            self.post_message(self.SqlRendered(key, self._loaders[key]()))
        except MigtuiError as exc:
            self.post_message(self.SqlRendered(key, "", exc.message))

    def on_revision_details_screen_sql_rendered(
            self, message: RevisionDetailsScreen.SqlRendered) -> None:
        target = self.query_one(f"#sql-{message.key}", Static)
        if message.error:
            target.update(safe(f"SQL preview unavailable: {message.error}", "dim"))
        else:
            target.update(Syntax(clean(message.sql.strip()) or "-- no SQL", "sql",
                                 theme="ansi_dark",
                                 word_wrap=True))

    def action_close(self) -> None:
        self.dismiss(None)
