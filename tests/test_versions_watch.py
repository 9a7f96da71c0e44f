"""The graph follows the versions folder by itself: a revision file added (a git pull,
another editor) shows up without r."""

from __future__ import annotations

import time
from pathlib import Path

from projects import LINEAR, Rev, sqlite_url, write_project
from ui_helpers import graph_lines, make_app, settle


async def test_a_revision_file_added_appears_without_a_key(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "proj", url=sqlite_url(tmp_path / "w.db"),
                           revisions=LINEAR)
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert not any("c3c3c3c3c3c3" in line for line in graph_lines(app))
        new = Rev("c3c3c3c3c3c3", LINEAR[-1].revision, "create gizmo", "gizmo",
                  date="2026-01-03 10:00:00.000000")
        (folder / "migrations/versions" / "c3c3c3c3c3c3_create_gizmo.py").write_text(
            new.source())
        deadline = time.monotonic() + 30  # a guard against a hang, not a speed test
        while time.monotonic() < deadline:
            await pilot.pause(0.2)
            if any("c3c3c3c3c3c3" in line for line in graph_lines(app)):
                break
        lines = graph_lines(app)
        assert any("c3c3c3c3c3c3 create gizmo (head)" in line for line in lines), lines
