"""A module of the project that env.py imports, changed while migtui runs (issue: trust).

Python imports a module once per process: after ``settings.py`` (where env.py reads its
URL) is edited, migtui's env.py runs still use the copy imported first, where `alembic`
would use the new one. migtui says so in the confirmation, and refuses a step when such
a file changed after its confirmation was shown: nothing runs against a database, or
with code, that the dialog did not say.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from projects import ENV_STOCK, LINEAR, applied, sqlite_url, write_project
from textual.widgets import Static
from ui_helpers import make_app, settle, widget_text

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.plan import plan_upgrade
from migtui.core.actions.project import Project
from migtui.core.env.imported import changed_since_imported
from migtui.screens import confirm
from migtui.screens.confirm import ConfirmScreen


def _project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, str]:
    """env.py takes its URL from a settings module of the project (a name of its own:
    the test process imports many projects); the project folder is the working one."""
    name = f"settings_{uuid.uuid4().hex[:8]}"
    env_py = ENV_STOCK.replace(
        'url = config.get_main_option("sqlalchemy.url")',
        f"import {name} as settings\nurl = settings.DATABASE_URL")
    folder = write_project(tmp_path / "proj", env_py=env_py, revisions=LINEAR)
    settings = folder / f"{name}.py"
    settings.write_text(f'DATABASE_URL = "{sqlite_url(tmp_path / "first.db")}"\n')
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))
    return folder, settings, sqlite_url(tmp_path / "second.db")


def test_a_step_is_refused_when_a_module_changed_after_its_confirmation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, settings, second = _project(tmp_path, monkeypatch)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    snapshot = project.snapshot()
    assert "first.db" in snapshot.database.url
    plan = plan_upgrade(snapshot, LINEAR[0].revision)
    shown = changed_since_imported()
    assert str(settings.resolve()) not in shown

    settings.write_text(f'DATABASE_URL = "{second}"\n')  # edited while the dialog is open
    assert str(settings.resolve()) in changed_since_imported()
    result = project.run_plan(replace(plan, stale_modules=shown))
    assert not result.ok and result.plan_changed
    assert f"{settings.name} changed since you confirmed, and migtui runs the copy it " \
        "imported first: nothing ran" in result.error
    assert not (tmp_path / "first.db").exists() and not (tmp_path / "second.db").exists()


async def test_y_after_a_module_changed_runs_nothing_and_the_dialog_says_why(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, settings, second = _project(tmp_path, monkeypatch)
    app = make_app(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("r")  # (read here: env.py imports the settings in this process)
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        settings.write_text(f'DATABASE_URL = "{second}"\n')  # while the dialog is open
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen), "offered again, nothing ran"
        notice = " ".join(widget_text(app.screen.query_one("#confirm-notice", Static)).split())
        assert f"{settings.name} changed since you confirmed, and migtui runs the copy it " \
            "imported first: nothing ran" in notice
        # (Other tests of this process may have left changed modules of their own.)
        assert settings.name in notice.split(" changed on disk after migtui imported ")[0]
        assert ": env.py and the revisions run with the copy imported first" in notice
        assert "then quit and start migtui again" in notice
        assert not (tmp_path / "first.db").exists() and not (tmp_path / "second.db").exists()
        said = " ".join(n.message for n in app._notifications)
        assert f"{settings.name} changed after migtui imported it" in said

        monkeypatch.setattr(confirm, "REOFFER_PAUSE", 0.0)  # (read now)
        await pilot.press("y")  # confirmed as the dialog says it: with the first copy
        await settle(pilot)
    assert applied(sqlite_url(tmp_path / "first.db")) == {LINEAR[0].revision}
    assert not (tmp_path / "second.db").exists()


def test_a_database_file_not_there_yet_is_pinned_by_its_url(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dialog was made from a read in another process (the first read at launch):
    first.db did not exist yet. settings.py then names second.db, which holds data, and
    this process imports it only now: the step is refused, second.db left as it was."""
    import sqlite3

    from migtui.core.environments.reading import FirstRead

    folder, settings, second = _project(tmp_path, monkeypatch)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    status = FirstRead(project.options).status()
    assert status is not None and "does not exist yet" in status.error
    assert status.identity.endswith("first.db")
    other = sqlite3.connect(tmp_path / "second.db")
    other.execute("CREATE TABLE precious (id INTEGER)")
    other.execute("INSERT INTO precious VALUES (1)")
    other.commit()
    other.close()
    settings.write_text(f'DATABASE_URL = "{second}"\n')
    plan = plan_upgrade(project.snapshot(status=status), LINEAR[0].revision)
    result = project.run_plan(plan)
    assert not result.ok and result.plan_changed
    assert "second.db" in result.error and "as when you confirmed: nothing ran" in result.error
    db = sqlite3.connect(tmp_path / "second.db")
    try:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("precious",)]
    finally:
        db.close()
    assert not (tmp_path / "first.db").exists()


def test_a_relative_sqlite_path_is_the_same_database_before_and_after_its_file_exists(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sqlite:///app.db, relative: the file that does not exist yet and the file the
    first upgrade creates are one database; the step runs."""
    folder = write_project(tmp_path / "proj", url="sqlite:///app.db", revisions=LINEAR)
    monkeypatch.chdir(folder)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    snapshot = project.snapshot()
    assert snapshot.database.identity == f"sqlite:///{folder / 'app.db'}"
    assert project.run_plan(plan_upgrade(snapshot, LINEAR[0].revision)).ok
    assert applied("sqlite:///" + str(folder / "app.db")) == {LINEAR[0].revision}
    again = project.snapshot()
    assert again.database.identity.startswith(f"sqlite:///{folder / 'app.db'} (")
    assert project.run_plan(plan_upgrade(again, LINEAR[1].revision)).ok


async def test_the_changed_module_notice_waits_off_the_pending_screen(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the pending screen, where autogenerate imports the project afresh, a read does
    not toast that steps run the old copy; back on the graph, the next read does."""
    folder, settings, second = _project(tmp_path, monkeypatch)
    app = make_app(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("r")  # (read here: env.py imports the settings in this process)
        await settle(pilot)
        settings.write_text(f'DATABASE_URL = "{second}"\n')
        await pilot.press("a")
        await settle(pilot)
        assert app.current_mode == "pending"
        await pilot.press("r")
        await settle(pilot)
        notice = f"{settings.name} changed after migtui imported it"
        assert notice not in " ".join(n.message for n in app._notifications)
        await pilot.press("g", "r")
        await settle(pilot)
        assert notice in " ".join(n.message for n in app._notifications)
