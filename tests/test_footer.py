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
from textual.widgets._footer import FooterKey
from ui_helpers import settle

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.tui.app import MigtuiApp


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
