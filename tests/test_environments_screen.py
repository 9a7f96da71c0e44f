"""The environments screen (`w`), driven as a user would, on real databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from environments_helpers import (
    R1,
    R2,
    R3,
    SCHEMAS,
    build_fleet,
    pg_databases,
    psql_version,
    sqlite_version,
)
from textual.widgets import DataTable, Input, OptionList, Static
from ui_helpers import make_app, settle, widget_text

from migtui.screens.dialogs import TextScreen
from migtui.screens.environments import EnvironmentsScreen
from migtui.screens.protected_confirm import ProtectedConfirmScreen
from migtui.tui.app import MigtuiApp
from migtui.tui.cli import main

SECRET = "Screen-s3cret-pw"
FEW = ("t01", "t02", "t03", "t04")


@pytest.fixture
def fleet(tmp_path: Path, pg_server_url: str,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, list[str]]]:
    with pg_databases(pg_server_url, 3, password=SECRET) as urls:
        monkeypatch.setenv("MIGTUI_TEST_PROD_URL", urls[1])
        project = build_fleet(tmp_path / "fleet", urls, FEW)
        monkeypatch.chdir(project)
        yield project, urls


def rows(app: MigtuiApp) -> dict[str, list[str]]:
    """The table's cells as text, by environment (a tenant by its schema, a group by its
    name)."""
    table = app.screen.query_one("#environments", DataTable)
    return {str(key.value).split(":")[-1]: [str(getattr(c, "plain", c))
                                            for c in table.get_row(key)]
            for key in table.rows}


@pytest.fixture
def fleet20(tmp_path: Path, pg_server_url: str,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, list[str]]]:
    """The fleet with all 20 tenant schemas (t01-t10 at R2, t11-t20 at R1)."""
    with pg_databases(pg_server_url, 3, password=SECRET) as urls:
        monkeypatch.setenv("MIGTUI_TEST_PROD_URL", urls[1])
        project = build_fleet(tmp_path / "fleet", urls, SCHEMAS)
        monkeypatch.chdir(project)
        yield project, urls


async def test_the_screen_shows_every_environment_as_its_database_holds_it(
        fleet20: tuple[Path, list[str]]) -> None:
    project, (staging, prod, tenants) = fleet20
    app = make_app(project)
    async with app.run_test(size=(180, 40)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, EnvironmentsScreen)
        shown = rows(app)
        # Each revision exactly as alembic_version holds it (sqlite3 and psql say).
        assert {shown["dev"][2]} == sqlite_version(project / "dev.db") == {R3}
        assert {shown["staging"][2]} == psql_version(staging) == {R2}
        assert {shown["prod"][2]} == psql_version(prod) == {R1}
        for schema in SCHEMAS:
            assert {shown[schema][2]} == psql_version(tenants, schema)
        assert shown["t01"][2] == R2 and shown["t20"][2] == R1
        assert shown["dev"][3] == "up to date" and shown["staging"][3] == "1 pending"
        assert "(protected)" in shown["prod"][0]
        assert "20 tenants" in shown["tenants"][0]
        assert shown["tenants"][2] == f"{R1} x10, {R2} x10"
        assert shown["dev"][5] == "✓ matches the models"
        assert all(row[4].startswith("✓") for row in shown.values())
        assert SECRET not in app.export_screenshot()
        assert "postgresql://postgres:***@" in shown["staging"][7]


async def test_bring_staging_to_dev_from_the_screen(fleet: tuple[Path, list[str]],
                                                    isolated_settings: Path) -> None:
    project, (staging, prod, tenants) = fleet
    app = make_app(project)
    async with app.run_test(size=(180, 40)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("down", "down", "end")
        assert app.screen.table.cursor_row == app.screen.table.row_count - 1
        await pilot.press("home")  # the first row, as in every list of the app
        assert app.screen.table.cursor_row == 0
        await pilot.press("down", "b")  # staging
        await settle(pilot)
        choices = app.screen.query_one(OptionList)
        assert "dev  at c3c3c3c3c3c3" in str(choices.get_option_at_index(1).prompt)
        await pilot.press("down", "enter")
        await settle(pilot)
        title = widget_text(app.screen.query_one("#confirm-title", Static))
        assert "Bring staging to dev's revision c3c3c3c3c3c3 (upgrade, 1 step)?" in title
        await pilot.press("y")
        await settle(pilot)
        assert rows(app)["staging"][2] == R3
        assert "staging ✓ done" in rows(app)["staging"][0]
        said = " ".join(n.message for n in app._notifications)
        assert f"Upgraded 1 revision: now at {R3[:12]}" in said
        assert rows(app)["staging"][5] == "✓ matches the models"  # at head now
        assert psql_version(staging) == {R3}
        assert psql_version(prod) == {R1}
        assert sqlite_version(project / "dev.db") == {R3}
        assert [psql_version(tenants, t) for t in FEW] == [{R2}, {R2}, {R1}, {R1}]

        # A column added to staging by hand: r, and its drift says so.
        with sa.create_engine(staging).begin() as conn:
            conn.execute(sa.text("ALTER TABLE gadget ADD COLUMN by_hand integer"))
        await pilot.press("r")
        await settle(pilot)
        drift = rows(app)["staging"][5]
        assert drift.startswith("⚠ differs from the models:") and "gadget.by_hand" in drift
        assert rows(app)["dev"][5] == "✓ matches the models"
    # No file migtui wrote holds a password (pyproject.toml is the user's own).
    written = [p for root in (project, isolated_settings) for p in root.rglob("*")
               if p.is_file() and p.name != "pyproject.toml"]
    assert written and not [p for p in written if SECRET.encode() in p.read_bytes()]


async def test_protected_refuses_without_the_typed_name(
        fleet: tuple[Path, list[str]]) -> None:
    project, (_staging, prod, _tenants) = fleet
    app = make_app(project)
    async with app.run_test(size=(180, 40)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("down", "down", "b", "down", "enter")  # prod to dev
        await settle(pilot)
        assert isinstance(app.screen, ProtectedConfirmScreen)
        prompt = widget_text(app.screen.query_one("#protected-prompt", Static))
        assert "prod is protected: type its name and press enter" in prompt
        await pilot.press("y", "enter")  # "y" is typed into the name field
        await settle(pilot)
        assert isinstance(app.screen, ProtectedConfirmScreen)
        assert "Type prod to apply: nothing ran" in [n.message for n in app._notifications]
        assert psql_version(prod) == {R1}
        await pilot.press("escape")
        await settle(pilot)
        assert psql_version(prod) == {R1}
        await pilot.press("b", "down", "enter")
        await settle(pilot)
        app.screen.query_one("#protected-name", Input).value = ""
        await pilot.press(*"prod", "enter")
        await settle(pilot)
        assert isinstance(app.screen, EnvironmentsScreen)
    assert psql_version(prod) == {R3}


def test_env_flag_opens_one_environment_or_says_why_not(
        fleet: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--env", "nope"]) == 2
    err = capsys.readouterr().err
    assert "No environment 'nope' in pyproject.toml (known: dev, staging, prod, tenants:…)" \
        in err
    assert main(["--env", "tenants"]) == 2
    assert "tenants stands for 4 tenants: name one, e.g. --env tenants:t01" in \
        capsys.readouterr().err


async def test_chosen_tenants_run_in_order_stop_at_the_failure_and_e_shows_it(
        fleet: tuple[Path, list[str]]) -> None:
    project, (staging, _prod, tenants) = fleet
    with sa.create_engine(tenants).begin() as conn:  # gizmo already there: t03 fails
        conn.execute(sa.text("CREATE TABLE t03.gizmo (id integer primary key)"))
    app = make_app(project)
    async with app.run_test(size=(180, 40)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        # dev, staging, prod, the group, t01..t04: choose t01, t03 and t04 (not t02).
        await pilot.press("down", "down", "down", "down", "space", "down", "space", "space")
        shown = rows(app)
        assert [shown[t][0] for t in FEW] == ["  [x] t01", "  [ ] t02", "  [x] t03",
                                              "  [x] t04"]
        assert "(4 tenants, 3 chosen)" in shown["tenants"][0]
        await pilot.press("up", "up", "up", "up", "b")  # on the group's line
        await settle(pilot)
        await pilot.press("enter")  # (head)
        await settle(pilot)
        title = widget_text(app.screen.query_one("#confirm-title", Static))
        assert "Bring 3 of tenants to the head, c3c3c3c3c3c3" in title
        notice = " ".join(widget_text(app.screen.query_one("#confirm-notice", Static)).split())
        assert ("Each runs its own plan, in this order: tenants:t01: 1 step from "
                "b2b2b2b2b2b2; tenants:t03, tenants:t04: 2 steps from a1a1a1a1a1a1. "
                "Shown: tenants:t03's, the longest") in notice
        await pilot.press("y")
        await settle(pilot)
        summary = " ".join(widget_text(app.screen.query_one("#environments-summary", Static)
                                       ).split())  # (wrapped where the error's length says)
        assert summary.startswith("✗ 1 at c3c3c3c3c3c3 (t01); tenants:t03 failed (")
        assert "and is at a1a1a1a1a1a1; 1 not run, still at a1a1a1a1a1a1 (t04)" in summary
        shown = rows(app)
        assert "t01 ✓ done" in shown["t01"][0] and "t03 ✗ failed" in shown["t03"][0]
        assert "t04 · not run" in shown["t04"][0] and "done" not in shown["t02"][0]
        assert [shown[t][2] for t in FEW] == [R3, R2, R1, R1]

        await pilot.press("e")  # on the group's line: the failed tenant's own error
        await settle(pilot)
        assert isinstance(app.screen, TextScreen)
        assert widget_text(app.screen.query_one("#text-title", Static)).strip() == \
            "tenants:t03 failed"
        body = widget_text(app.screen.query_one("#text-content", Static))
        assert 'relation "gizmo" already exists' in body
        assert "now at: a1a1a1a1a1a1 (read back from the database)" in body
        assert SECRET not in body
    assert [psql_version(tenants, t) for t in FEW] == [{R3}, {R2}, {R1}, {R1}]
    assert psql_version(staging) == {R2}


async def test_all_tenants_stop_at_a_failure_in_the_middle(
        fleet: tuple[Path, list[str]]) -> None:
    """No tenant chosen: ``b`` on the group brings every tenant, in order."""
    project, (staging, prod, tenants) = fleet
    with sa.create_engine(tenants).begin() as conn:  # gizmo already there: t02 fails
        conn.execute(sa.text("CREATE TABLE t02.gizmo (id integer primary key)"))
    app = make_app(project)
    async with app.run_test(size=(180, 40)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("down", "down", "down", "b")  # dev, staging, prod, the group
        await settle(pilot)
        await pilot.press("enter")  # (head)
        await settle(pilot)
        title = widget_text(app.screen.query_one("#confirm-title", Static))
        assert ("Bring 4 of tenants to the head, c3c3c3c3c3c3, one after another"
                in title)
        await pilot.press("y")
        await settle(pilot)
        summary = " ".join(widget_text(app.screen.query_one("#environments-summary", Static)
                                       ).split())
        assert summary.startswith("✗ 1 at c3c3c3c3c3c3 (t01); tenants:t02 failed (")
        assert "and is at b2b2b2b2b2b2; 2 not run, still at a1a1a1a1a1a1 (t03, t04)" \
            in summary
        shown = rows(app)
        assert [shown[t][0] for t in FEW] == ["  t01 ✓ done", "  t02 ✗ failed",
                                              "  t03 · not run", "  t04 · not run"]
        assert [shown[t][2] for t in FEW] == [R3, R2, R1, R1]
        assert SECRET not in app.export_screenshot()
    # Each schema's alembic_version, read by psql over a connection of its own.
    assert [psql_version(tenants, t) for t in FEW] == [{R3}, {R2}, {R1}, {R1}]
    assert psql_version(staging) == {R2} and psql_version(prod) == {R1}
    assert sqlite_version(project / "dev.db") == {R3}
