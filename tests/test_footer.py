"""The footer's keys are styled once (issue 15: the first paint).

Textual's key widget starts compact and is told the footer's ``compact`` once mounted:
its class changes twice and each change restyles it, every key, before the first frame.
The main screens' footer makes its keys with the value already set: the same keys,
drawn the same (the snapshot tests), with no restyle of their own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from projects import LINEAR, sqlite_url, write_project
from textual.dom import DOMNode
from textual.strip import Strip
from textual.widgets._footer import FooterKey
from ui_helpers import settle

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.tui.app import MigtuiApp
from migtui.widgets.revision_graph import RevisionGraphView


@pytest.mark.parametrize("mode", ["graph", "pending", "environments", "tables"])
async def test_footer_keys_are_not_restyled_as_they_mount(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    folder = write_project(tmp_path / "proj", url=sqlite_url(tmp_path / "f.db"),
                           revisions=LINEAR)
    restyled: list[str] = []
    update = DOMNode.update_node_styles

    def counted(self: DOMNode, animate: bool = True) -> None:
        # (the palette's key is not bound to the footer: compact, as Textual makes it)
        if isinstance(self, FooterKey) and not self.has_class("-command-palette"):
            restyled.append(self.key)
        update(self, animate)

    monkeypatch.setattr(DOMNode, "update_node_styles", counted)
    app = MigtuiApp(Project.open(ProjectOptions(cwd=str(folder))))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await app.switch_mode(mode)
        await settle(pilot)
        keys = list(app.screen.query(FooterKey))
        assert keys, "the footer shows keys"
        assert all(not k.compact for k in keys if not k.has_class("-command-palette"))
    assert restyled == []


async def test_the_graph_is_drawn_before_the_footer_keys(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At launch the graph's rows come first; the footer's keys are mounted after them
    (once, with the keys the first snapshot enables), not before the first frame."""
    folder = write_project(tmp_path / "proj", url=sqlite_url(tmp_path / "f.db"),
                           revisions=LINEAR)
    keys_when_drawn: list[int] = []
    draw = RevisionGraphView.render_line

    def render_line(self: RevisionGraphView, y: int) -> Strip:
        if self.rows and not keys_when_drawn:
            keys_when_drawn.append(len(self.screen.query(FooterKey)))
        return draw(self, y)

    monkeypatch.setattr(RevisionGraphView, "render_line", render_line)
    app = MigtuiApp(Project.open(ProjectOptions(cwd=str(folder))))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert keys_when_drawn == [0], "no key was mounted before the rows were drawn"
        shown = {key.key for key in app.screen.query(FooterKey)}
        assert {"q", "u", "d"} <= shown, shown
