"""A URL given to migtui (an environment's ``url``, ``--url``) that env.py does not use.

Many env.py files take their URL from a variable of their own before
``sqlalchemy.url``. With that variable set, every environment configured by ``url``
reads (and would write to) the one database env.py picks, under each environment's name.
migtui says so wherever that database is shown, and writes nothing to it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from environments_helpers import R1, THREE, sqlite_version
from projects import sqlite_url, write_project
from textual.widgets import Static
from ui_helpers import screen_lines, settle, status_text, wait_for, widget_text

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.env.urls import same_database
from migtui.core.environments.fleet import Fleet
from migtui.core.errors import MigtuiError
from migtui.screens.confirm import ConfirmScreen
from migtui.tui.app import MigtuiApp
from projectkit.templates import ENV_STOCK

# env.py prefers a variable of its own to sqlalchemy.url.
ENV_OWN_VARIABLE = ENV_STOCK.replace(
    'url = config.get_main_option("sqlalchemy.url")',
    'import os\nurl = os.environ.get("APP_DB_URL") or config.get_main_option("sqlalchemy.url")')
assert "APP_DB_URL" in ENV_OWN_VARIABLE


def _project(tmp_path: Path) -> Path:
    folder = write_project(tmp_path / "p", ENV_OWN_VARIABLE, sqlite_url(tmp_path / "dev.db"),
                           THREE)
    (folder / "pyproject.toml").write_text(textwrap.dedent(f'''\
        [tool.migtui.environments.dev]

        [tool.migtui.environments.staging]
        url = "{sqlite_url(tmp_path / 'staging.db')}"
        '''))
    return folder


def _staging(folder: Path) -> Project:
    fleet = Fleet(Project.open(ProjectOptions(cwd=str(folder))))
    return fleet.project_for(fleet.select("staging"))


def _staging_app(folder: Path) -> MigtuiApp:
    """The app as `migtui --env staging` opens it."""
    fleet = Fleet(Project.open(ProjectOptions(cwd=str(folder))))
    return MigtuiApp(fleet.project_for(fleet.select("staging")), fleet, "staging")


def test_an_environment_url_env_py_ignores_is_said_and_nothing_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _project(tmp_path)
    shadow = tmp_path / "shadow.db"
    monkeypatch.setenv("APP_DB_URL", sqlite_url(shadow))
    project = _staging(folder)

    status = project.status()

    assert status.unused_url == sqlite_url(tmp_path / "staging.db")
    assert status.url == sqlite_url(shadow)  # where env.py really connects
    assert "env.py does not use the URL it was given" in status.write_refusal
    with pytest.raises(MigtuiError, match="does not use the URL it was given"):
        project.upgrade(R1)
    assert not shadow.exists() and not (tmp_path / "staging.db").exists()


def test_a_url_env_py_uses_is_not_flagged(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _project(tmp_path)
    monkeypatch.delenv("APP_DB_URL", raising=False)
    project = _staging(folder)
    assert project.status().unused_url == ""
    assert project.upgrade(R1).ok
    assert sqlite_version(tmp_path / "staging.db") == {R1}


def test_the_same_database_whatever_the_driver_user_or_relative_path(tmp_path: Path) -> None:
    assert same_database("postgresql://u@h:5432/app", "postgresql+psycopg://v:***@h:5432/app",
                         str(tmp_path))
    assert same_database("sqlite:///app.db", f"sqlite:///{tmp_path}/app.db", str(tmp_path))
    assert not same_database("postgresql://h/app", "postgresql://h/app_test", str(tmp_path))
    assert not same_database("postgresql://h:5432/app", "postgresql://h:5433/app", "/")
    assert not same_database("sqlite:///a.db", "sqlite:///b.db", str(tmp_path))
    assert not same_database("mysql://h/app", "postgresql://h/app", "/")


async def test_the_app_says_it_and_refuses_u(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _project(tmp_path)
    shadow = tmp_path / "shadow.db"
    monkeypatch.setenv("APP_DB_URL", sqlite_url(shadow))
    monkeypatch.chdir(folder)
    own = Project.open(ProjectOptions(cwd=str(folder)))  # (no url given: env.py's own)
    assert own.upgrade(R1).ok and sqlite_version(shadow) == {R1}
    app = _staging_app(folder)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert "⚠ env.py does not use the URL given: no writes" in status_text(app)
        # Not put on the graph at the revision of the database env.py picks instead.
        await wait_for(pilot, lambda: app.state.environments
                       and all(m.read for m in app.state.environments))
        graph = "\n".join(screen_lines(app))
        assert "@dev" in graph and "@staging" not in graph, graph
        await pilot.press("u")
        await settle(pilot)
        said = " ".join(n.message for n in app._notifications)
        assert "env.py does not use the URL it was given" in said
        assert app.screen.__class__.__name__ == "GraphScreen"  # no dialog
        await pilot.press("w")  # the environments side by side
        await wait_for(pilot, lambda: "⚠ url not used" in "\n".join(screen_lines(app)))
        row = next(line for line in screen_lines(app) if "⚠ url not used" in line)
        assert row.split()[0] == "staging", row
    assert sqlite_version(shadow) == {R1} and not (tmp_path / "staging.db").exists()


async def test_a_step_dialog_names_the_environment_and_its_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _project(tmp_path)
    monkeypatch.delenv("APP_DB_URL", raising=False)
    monkeypatch.chdir(folder)
    app = _staging_app(folder)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        where = widget_text(app.screen.query_one("#confirm-where", Static))
        where = where.strip()  # (a long URL cut in the middle: its file's name stays)
        assert where.startswith("on staging: sqlite:///") and where.endswith("/staging.db")
