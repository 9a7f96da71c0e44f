"""An SVG snapshot of the environments screen (the README's screenshot).

Every database is a SQLite file named through /proc/self/cwd, and the unreachable one
a PostgreSQL socket that does not exist, so that the screen reads the same in every
run; only the Read column's clock is pinned.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import stable_sqlite_url
from environments_helpers import R1, R2, R3, write_fleet_project
from textual.pilot import Pilot
from textual.widgets import Static
from ui_helpers import make_app, screen_lines, settle, widget_text

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.screens import environments_rows
from migtui.screens.dialogs import TextScreen

CONFIG = '''\
    [tool.migtui.environments.dev]

    [tool.migtui.environments.staging]
    url = "{staging}"

    [tool.migtui.environments.qa]
    url = "{qa}"

    [tool.migtui.environments.prod]
    url = "{prod}"
    protected = true

    [tool.migtui.environments.reporting]
    url = "postgresql://report:Snap-s3cret@/reporting?host=/nonexistent-migtui"
    '''


@pytest.fixture
def four(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    urls = {name: stable_sqlite_url(f"{name}.db") for name in ("staging", "qa", "prod")}
    project = write_fleet_project(tmp_path / "shop", stable_sqlite_url("dev.db"),
                                  CONFIG.format(**urls))
    monkeypatch.chdir(project)
    for url, target in ((None, R3), (urls["staging"], R2), (urls["qa"], R2),
                        (urls["prod"], R1)):
        result = Project.open(ProjectOptions(cwd=str(project), url=url)).upgrade(target)
        assert result.ok, result.error
    monkeypatch.setattr(environments_rows, "clock", lambda _timestamp: "10:42:07")
    return project


def test_snapshot_environments(snap_compare, four: Path) -> None:  # type: ignore[no-untyped-def]
    async def open_environments(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)

    assert snap_compare(make_app(four), terminal_size=(176, 14), run_before=open_environments)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_the_columns_fit_the_screen(four: Path, size: tuple[int, int]) -> None:
    """Narrow: fewer and narrower columns, never one half off the edge; wide: every
    column whole. The reason a database was not read is a word in its cell, all of it
    behind e."""
    app = make_app(four)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        lines = screen_lines(app)
        header = next(line for line in lines if line.split()[:1] == ["Environment"])
        reporting = next(line for line in lines if line.lstrip().startswith("reporting"))
        assert all(len(line) <= size[0] for line in lines)
        assert "✗ unreachable" in reporting
        if size[0] == 80:
            assert header.split() == ["Environment", "Revision", "Pending", "Reachable",
                                      "Drift"]
        else:
            assert header.split() == ["Environment", "Dialect", "Revision", "Pending",
                                      "Reachable", "Drift", "Read", "URL"]
            assert reporting.endswith(
                "postgresql://report:***@/reporting?host=%2Fnonexistent-migtui")
            assert "sqlite:////proc/self/cwd/staging.db" in "\n".join(lines)
        await pilot.press("down", "down", "down", "down", "e")  # reporting: its whole error
        await settle(pilot)
        assert isinstance(app.screen, TextScreen)
        body = widget_text(app.screen.query_one("#text-content", Static))
        assert "The database cannot be reached" in body and "Snap-s3cret" not in body
        # Not read is not at base: the revision is not known.
        assert "revision: not known (the database was not read)" in body
        assert "revision: base" not in body
