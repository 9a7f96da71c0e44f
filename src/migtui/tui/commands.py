"""Command palette entries: every binding of the current screen, and revision commands."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.app import SystemCommand
from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content
from textual.screen import Screen

from migtui.core.actions.halfway import FORGET_COMMAND
from migtui.core.libraries import needs_libraries
from migtui.tui.help import key_label
from migtui.widgets.safe_text import clean

if TYPE_CHECKING:
    from migtui.tui.app import MigtuiApp

_REVISION_VERBS = (
    ("Go to", "goto"),
    ("Upgrade to", "upgrade_to"),
    ("Downgrade to", "downgrade_to"),
    ("Stamp", "stamp"),
)
_MAX_REVISION_HITS = 60


def binding_commands(app: MigtuiApp, screen: Screen[object]) -> Iterable[SystemCommand]:
    """One palette command per binding in force on the screen, showing its key."""
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or binding.action in seen or binding.system:
            continue
        seen.add(binding.action)
        keys = [key_label(k) for k, a in screen.active_bindings.items()
                if a.binding.action == binding.action]
        yield SystemCommand(
            f"{binding.description} ({' / '.join(keys)})",
            binding.tooltip or f"Key: {' / '.join(keys)}",
            partial(app.run_action, binding.action, active.node),
        )


def partial_commands(app: MigtuiApp) -> Iterable[SystemCommand]:
    """While the database is marked "partially applied": the command that clears it."""
    snapshot = app.state.snapshot
    if snapshot is not None and snapshot.partial is not None:
        yield SystemCommand(
            FORGET_COMMAND, f"After repairing by hand what stayed of "
            f"{snapshot.partial.revision[:12]}'s step", partial(_forget_partial, app))


def _forget_partial(app: MigtuiApp) -> None:
    """Drop the mark (a file write: in a worker), then read the database again."""
    def forget() -> None:
        app.project.forget_partial()
        app.call_from_thread(app.load)

    app.run_worker(needs_libraries(forget), thread=True, group="forget", exit_on_error=False)


def highlight(matcher: Matcher, text: str) -> Content:
    """``matcher.highlight`` for data: the text is never read as markup (a message
    ``[WIP] fix`` keeps its brackets, ``revert [/] hotfix`` does not crash the palette)."""
    content = Content(text)
    score, offsets = matcher.fuzzy_search.match(matcher.query, text)
    if score:
        for offset in offsets:
            if not text[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class RevisionCommands(Provider):
    """Go to, upgrade to, downgrade to or stamp any revision by id or message."""

    @property
    def migtui(self) -> MigtuiApp:
        return cast("MigtuiApp", self.app)

    async def discover(self) -> Hits:
        for label, _ in _REVISION_VERBS:
            yield DiscoveryHit(f"{label} revision…", self._hint(label),
                               help="type a revision id or words of its message")

    def _hint(self, label: str):  # type: ignore[no-untyped-def]
        return partial(self.migtui.notify, f"Type '{label.lower()}' and a revision id or "
                                           "message in the palette")

    async def search(self, query: str) -> Hits:
        snapshot = self.migtui.state.snapshot
        words = query.strip().lower()
        if snapshot is None or len(words) < 2:
            return
        matcher = self.matcher(query)
        found = 0
        for rev in snapshot.graph:
            haystack = f"{rev.revision} {rev.message}".lower()
            for label, verb in _REVISION_VERBS:
                first = rev.message.splitlines()[0] if rev.message else ""
                text = clean(f"{label} {rev.short} {first}", one_line=True)
                if not any(w in haystack or w in label.lower() for w in words.split()):
                    continue
                score = matcher.match(text)
                if score > 0:
                    found += 1
                    yield Hit(score, highlight(matcher, text),
                              partial(self.migtui.revision_command, verb, rev.revision),
                              text=text)
            if found >= _MAX_REVISION_HITS:
                return


class TableCommands(Provider):
    """On the tables screen: open any table or view by name."""

    async def search(self, query: str) -> Hits:
        screen = self.screen
        schema = getattr(screen, "schema", None)
        jump = getattr(screen, "jump_to", None)
        if schema is None or jump is None:
            return
        matcher = self.matcher(query)
        for table in schema.tables:
            text = clean(f"Open table {table.ref.label}", one_line=True)
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, highlight(matcher, text), partial(jump, table.ref), text=text)
