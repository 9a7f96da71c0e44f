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
from ui_helpers import make_app, settle

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.screens import environments_rows

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
