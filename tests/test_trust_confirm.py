"""What `y` may confirm (DESIGN.md, Trust): only a plan the user could read.

`y` applies nothing until the dialog's checks and SQL are on screen; a plan offered
again after a refused `y` takes a moment before `y` applies it (a key typed in the wake
of the first must not); one step down is never planned again from where another
process moved the database; and a plan runs only on the database it was made for, also
when env.py picks its URL as it runs.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import table_names
from projects import Rev, alembic_cli, applied, sqlite_url, write_project
from trust_helpers import R1, R2, project_at_r1
from ui_helpers import make_app, settle, wait_for

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.plan import plan_step_down
from migtui.core.actions.project import Project
from migtui.screens import confirm
from migtui.screens.confirm import ConfirmScreen
from migtui.tui.app import MigtuiApp
from projectkit.templates import ENV_STOCK

R3 = "r00000000003"
CHAIN = (
    Rev(R1, None, "create t1", "t1", date="2026-01-01 10:00:00.000000"),
    Rev(R2, R1, "create t2", "t2", date="2026-01-02 10:00:00.000000"),
    Rev(R3, R2, "create t3", "t3", date="2026-01-03 10:00:00.000000"),
)
# env.py that reads its URL from db_url.txt beside alembic.ini each time it runs.
ENV_URL_FROM_FILE = ENV_STOCK.replace(
    'url = config.get_main_option("sqlalchemy.url")',
    'import pathlib\n'
    'url = (pathlib.Path(config.config_file_name).parent / "db_url.txt").read_text().strip()')
assert ENV_URL_FROM_FILE != ENV_STOCK


def said(app: MigtuiApp) -> str:
    return "\n".join(n.message for n in app._notifications)


async def open_dialog(pilot: object, app: MigtuiApp, key: str) -> ConfirmScreen:
    await pilot.press(key)  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))  # type: ignore[arg-type]
    assert isinstance(app.screen, ConfirmScreen)
    return app.screen


async def test_y_before_the_checks_are_on_screen_applies_nothing(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "trust.db")
    folder = project_at_r1(tmp_path, url)
    app = make_app(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # A second connection holds the database: the dialog's checks wait for it.
        holder = sqlite3.connect(tmp_path / "trust.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        dialog = await open_dialog(pilot, app, "u")
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is dialog  # still asking
        assert "Still checking the plan" in said(app) and "Nothing ran" in said(app)
        holder.rollback()
        holder.close()
        await settle(pilot)
        assert applied(url) == {R1}
        await pilot.press("y")  # the checks are on screen now: y applies
        await settle(pilot)
    assert applied(url) == {R2}


async def test_one_step_down_is_not_planned_again_from_where_the_database_moved(
        tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "trust.db")
    folder = write_project(tmp_path / "proj", url=url, revisions=CHAIN)
    assert Project.open(ProjectOptions(cwd=str(folder))).upgrade(R2).ok
    app = make_app(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_dialog(pilot, app, "d")  # "Downgrade one step from r2": drops t2
        await settle(pilot)
        alembic_cli(folder, "downgrade", "-1")  # another process: now at r1
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("y")  # typed ahead: there is no dialog it could confirm
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert "moved from r00000000002 to r00000000001" in said(app)
        assert "Plan again on the graph" in said(app)
    assert applied(url) == {R1}
    assert "t1" in table_names(url)  # -1 from r1 (drop t1) was never offered nor run


async def test_a_plan_offered_again_is_read_before_y_applies_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = sqlite_url(tmp_path / "trust.db")
    folder = write_project(tmp_path / "proj", url=url, revisions=CHAIN)
    assert Project.open(ProjectOptions(cwd=str(folder))).upgrade(R1).ok
    monkeypatch.setattr(confirm, "REOFFER_PAUSE", 600.0)  # the moment, made long
    app = make_app(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_dialog(pilot, app, "u")  # upgrade to r2
        await settle(pilot)
        alembic_cli(folder, "downgrade", "base")  # another process: now at base
        await pilot.press("y")
        await settle(pilot)
        again = app.screen
        assert isinstance(again, ConfirmScreen) and again.reoffered
        assert [s.revision for s in again.plan.steps] == [R1, R2]
        await pilot.press("y")  # in the wake of the first y: refused
        await settle(pilot)
        assert app.screen is again
        assert "The plan changed: read it, then press y again" in said(app)
        assert not table_names(url) - {"alembic_version"}
        monkeypatch.setattr(confirm, "REOFFER_PAUSE", 0.0)  # read now
        await pilot.press("y")
        await settle(pilot)
    assert applied(url) == {R2}


def write_two_databases(tmp_path: Path) -> tuple[Path, str, str]:
    """A project whose env.py reads its URL from db_url.txt, and two databases at r2."""
    first, second = sqlite_url(tmp_path / "a.db"), sqlite_url(tmp_path / "b.db")
    folder = write_project(tmp_path / "proj", ENV_URL_FROM_FILE, revisions=CHAIN)
    for url in (second, first):
        (folder / "db_url.txt").write_text(url)
        assert Project.open(ProjectOptions(cwd=str(folder))).upgrade(R2).ok
    return folder, first, second


def test_a_plan_runs_only_on_the_database_it_was_made_for(tmp_path: Path) -> None:
    folder, first, second = write_two_databases(tmp_path)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    plan = plan_step_down(project.snapshot(), R2)  # made on a.db
    (folder / "db_url.txt").write_text(second)  # env.py now picks b.db, also at r2

    result = project.run_plan(plan)

    assert not result.ok and result.plan_changed
    assert "env.py now connects to" in result.error and "b.db" in result.error
    assert applied(first) == applied(second) == {R2}
    assert "t2" in table_names(first) and "t2" in table_names(second)


async def test_a_database_switched_under_the_dialog_is_not_written(tmp_path: Path) -> None:
    folder, first, second = write_two_databases(tmp_path)
    app = make_app(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_dialog(pilot, app, "d")
        await settle(pilot)
        (folder / "db_url.txt").write_text(second)
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)  # not offered for b.db either
        assert "env.py now connects to" in said(app) and "nothing ran" in said(app)
    assert applied(first) == applied(second) == {R2}
    assert "t2" in table_names(first) and "t2" in table_names(second)


def test_the_other_database_is_not_touched_not_even_its_version_table(
        tmp_path: Path) -> None:
    """Alembic creates alembic_version on a database with none before any step runs: the
    switch is caught before that, so the other database is left exactly as it was."""
    folder, first, _ = write_two_databases(tmp_path)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    project = Project.open(ProjectOptions(cwd=str(folder)))
    plan = plan_step_down(project.snapshot(), R2)
    (folder / "db_url.txt").write_text(sqlite_url(other))

    result = project.run_plan(plan)

    assert not result.ok and result.plan_changed
    with sqlite3.connect(other) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert names == {"notes"}
    assert applied(first) == {R2}


async def test_keys_typed_in_a_burst_open_one_dialog(tmp_path: Path) -> None:
    """`u d` reaches the graph before the first dialog is up: the second is not planned
    (two dialogs stacked, the lower one planned from a state the upper one changes)."""
    url = sqlite_url(tmp_path / "burst.db")
    folder = project_at_r1(tmp_path, url)
    app = make_app(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key in "ud":  # both queued before either is handled, as a terminal sends them
            app.simulate_key(key)
        await settle(pilot)
        dialogs = [s for s in app.screen_stack if isinstance(s, ConfirmScreen)]
        assert len(dialogs) == 1 and dialogs[0].plan.action == "upgrade"
        assert "A dialog is open: answer it first" in said(app)
        await pilot.press("n")
        await settle(pilot)
    assert applied(url) == {R1}
