"""Nothing of alembic, sqlalchemy or sqlmodel is imported before the first paint (issue 15),
with the header cache warm, and on a first start of a plain project (an .ini naming its
script folder).

A fresh Python process (nothing imported by the test run) opens a project whose header
cache is warm, runs the real app with ``run_test`` and notes ``sys.modules`` the moment
the graph first draws a revision row (the graph drawn from the cached headers); then,
once the database has been read, that alembic is imported by then.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from projects import LINEAR, sqlite_url, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project

PROBE = r'''
import asyncio, json, os, sys
from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.environments.reading import FirstRead
from migtui.tui.app import MigtuiApp
from migtui.tui.loading import LoadingApp
from migtui.widgets.revision_graph import RevisionGraphView

HEAVY = ("alembic", "sqlalchemy", "sqlmodel")
seen = {}
draw = RevisionGraphView.render_line


def render_line(self, y):
    # The first time a revision row is drawn: what was imported by then.
    if self.rows and "heavy" not in seen:
        seen["rows"] = len(self.rows)
        seen["heavy"] = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
    return draw(self, y)


RevisionGraphView.render_line = render_line
APART = "--apart" in sys.argv  # as `migtui` starts: the first read begun apart
arrived = LoadingApp.snapshot_arrived


def snapshot_arrived(self, message):
    # The database as first read: what was imported by then.
    if message.snapshot.database.reachable and "at_read" not in seen:
        seen["at_read"] = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)[:3]
    return arrived(self, message)


LoadingApp.snapshot_arrived = snapshot_arrived


async def main() -> None:
    project = Project.open(ProjectOptions())
    app = MigtuiApp(project, first_read=FirstRead(project.options) if APART else None)
    async with app.run_test(size=(140, 40)) as pilot:
        for _ in range(10000):
            if "heavy" in seen and app.state.snapshot is not None and (
                    app.state.snapshot.database.reachable):
                break
            await pilot.pause()
        await app.workers.wait_for_complete()
        # The database was read after the first paint: by now alembic is imported.
        seen["later"] = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)[:3]
        # (to the real stdout: Textual redirects sys.stdout while it runs)
        os.write(1, ("JSON " + json.dumps(seen) + "\n").encode())


asyncio.run(main())
'''

WARM = r'''
from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
project = Project.open(ProjectOptions())
project.graph()
project.verify()
'''


def _run(code: str, folder: Path, cache: Path, *args: str) -> str:
    env = {**os.environ, "MIGTUI_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=folder, env=env,
                          capture_output=True, text=True, check=True)
    return done.stdout


def test_no_alembic_or_sqlalchemy_before_the_first_paint(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "proj", url=sqlite_url(tmp_path / "probe.db"),
                           revisions=LINEAR)
    cache = tmp_path / "cache"
    _run(WARM, folder, cache)  # a first session filled the header cache
    assert list(cache.glob("revisions-*.json")), "the header cache is warm"
    out = _run(PROBE, folder, cache)
    seen = json.loads(next(line for line in out.splitlines() if line.startswith("JSON "))[5:])
    assert seen["rows"] == len(LINEAR), "the graph was painted"
    assert seen["heavy"] == [], f"imported before the first paint: {seen['heavy'][:5]}"
    assert seen["later"], "the database was read (with alembic) after the first paint"


def test_a_first_start_of_a_plain_project_paints_before_importing_them_too(
        tmp_path: Path) -> None:
    folder = write_project(tmp_path / "proj", url=sqlite_url(tmp_path / "probe.db"),
                           revisions=LINEAR)
    cache = tmp_path / "cache"  # empty: nothing remembered, no headers cached
    out = _run(PROBE, folder, cache)
    seen = json.loads(next(line for line in out.splitlines() if line.startswith("JSON "))[5:])
    assert seen["rows"] == len(LINEAR), "the graph was painted"
    assert seen["heavy"] == [], f"imported before the first paint: {seen['heavy'][:5]}"
    assert seen["later"], "the database was read (with alembic) after the first paint"
    assert list(cache.glob("project-*.json")), "what Alembic found is kept for the next start"


def test_the_first_read_apart_shows_the_database_before_importing_them(
        tmp_path: Path) -> None:
    """As `migtui` starts: the first read is begun in a process apart; the app's own
    process shows what it read without having imported alembic or SQLAlchemy, and
    imports them afterwards (core/libraries.py: one thread at a time)."""
    folder = write_project(tmp_path / "proj", url=sqlite_url(tmp_path / "probe.db"),
                           revisions=LINEAR)
    Project.open(ProjectOptions(cwd=str(folder))).upgrade(LINEAR[0].revision)
    cache = tmp_path / "cache"
    _run(WARM, folder, cache)
    out = _run(PROBE, folder, cache, "--apart")
    seen = json.loads(next(line for line in out.splitlines() if line.startswith("JSON "))[5:])
    assert seen["heavy"] == [], f"imported before the first paint: {seen['heavy'][:5]}"
    assert seen["at_read"] == [], f"imported before the database showed: {seen['at_read']}"
    assert seen["later"], "imported once the database was shown"
