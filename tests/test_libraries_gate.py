"""Alembic and SQLAlchemy are imported by one thread at a time (core/libraries.py).

With the first database read done in a process apart, the app's own process imports
neither until after the database is shown, and then several workers may need them at
once: the load worker, a dialog opened by a key typed at the first paint, a screen.
Two threads importing SQLAlchemy together can find it half initialised, so until they
are loaded, every import of theirs happens under the one lock.

A fresh interpreter runs the real app as `migtui` starts it (its first read begun
apart), presses a key as soon as the database is shown, and notes every module of
alembic, sqlalchemy or sqlmodel imported, before they were all loaded, by a thread that
did not hold the lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from projects import LINEAR, sqlite_url, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project

PROBE = r'''
import asyncio, json, os, sys, threading
from migtui.core import libraries

HEAVY = ("alembic", "sqlalchemy", "sqlmodel")
outside = []


class Watcher:
    """First in sys.meta_path: hears every import of a module not imported yet."""

    def find_spec(self, name, path=None, target=None):
        importing = sys._getframe(2).f_code.co_name == "_find_and_load_unlocked"
        if (importing and name.split(".")[0] in HEAVY and name not in sys.modules
                and not libraries.loaded() and not libraries.held_here()):
            outside.append([name, threading.current_thread().name])
        return None


sys.meta_path.insert(0, Watcher())

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.environments.reading import FirstRead
from migtui.tui.app import MigtuiApp


async def main() -> None:
    project = Project.open(ProjectOptions())
    app = MigtuiApp(project, first_read=FirstRead(project.options))
    async with app.run_test(size=(140, 40)) as pilot:
        for _ in range(100000):
            if app.state.snapshot is not None and app.state.snapshot.database.reachable:
                break
            await pilot.pause()
        await pilot.press(*sys.argv[1].split(","))
        for _ in range(200):
            await pilot.pause(0.02)
        await app.workers.wait_for_complete()
        seen = {"outside": outside[:10], "loaded": libraries.loaded(),
                "screen": type(app.screen).__name__, "environment": app.state.environment}
        # (to the real stdout: Textual redirects sys.stdout while it runs)
        os.write(1, ("JSON " + json.dumps(seen) + "\n").encode())


asyncio.run(main())
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("gate")
    folder = write_project(tmp / "proj", url=sqlite_url(tmp / "gate.db"), revisions=LINEAR)
    Project.open(ProjectOptions(cwd=str(folder))).upgrade(LINEAR[0].revision)
    (folder / "migtui.toml").write_text(  # for E: the project's own database, another
        f'[environments.dev]\n[environments.other]\nurl = "{sqlite_url(tmp / "o.db")}"\n')
    return folder


@pytest.mark.parametrize(("keys", "screen"), [
    ("u", "ConfirmScreen"),  # its SQL, checks and rehearsal workers
    ("enter", "RevisionDetailsScreen"),  # its operations and SQL workers
    ("t", "TablesScreen"),  # its schema workers
    ("a", "PendingScreen"),  # the comparison
    ("E,down,enter", "GraphScreen"),  # another environment: its config read
])
def test_no_thread_imports_them_beside_another(project: Path, keys: str, screen: str) -> None:
    env = {**os.environ, "MIGTUI_CACHE_DIR": str(project.parent / "cache")}
    done = subprocess.run([sys.executable, "-c", PROBE, keys], cwd=project, env=env,
                          capture_output=True, text=True, check=True, timeout=300)
    seen = json.loads(next(line for line in done.stdout.splitlines()
                           if line.startswith("JSON "))[5:])
    assert seen["screen"] == screen, "the key was answered"
    assert seen["environment"] == ("other" if keys.startswith("E") else ""), seen
    assert seen["loaded"], "the libraries were loaded by then"
    assert seen["outside"] == [], f"imported outside the lock: {seen['outside']}"
