"""The graph names the environments on each revision; E chooses the one it works on.

Real databases: dev on a SQLite file, staging and prod on PostgreSQL, qa on MariaDB,
tenant schemas in a third PostgreSQL database. What `u` / `d` did is read back from
each database with a query of the test's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from environments_helpers import (
    R1,
    R2,
    R3,
    build_fleet,
    pg_databases,
    psql_version,
    sqlite_version,
)
from projects import applied
from textual.pilot import Pilot
from textual.widgets import OptionList, Static
from ui_helpers import make_app, row_of, settle, status_text, widget_text

from migtui.screens.confirm import ConfirmScreen
from migtui.screens.graph import GraphScreen
from migtui.screens.protected_confirm import ProtectedConfirmScreen
from migtui.tui.app import MigtuiApp

SECRET = "Graph-s3cret-pw"
FEW = ("t01", "t02", "t03", "t04")  # t01, t02 at R2; t03, t04 at R1
ORDER = ["dev", "staging", "prod", "qa", *(f"tenants:{s}" for s in FEW)]


@pytest.fixture
def mixed(tmp_path: Path, pg_server_url: str, mariadb_url: str,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, list[str], str]]:
    with pg_databases(pg_server_url, 3, password=SECRET) as urls:
        monkeypatch.setenv("MIGTUI_TEST_PROD_URL", urls[1])
        project = build_fleet(tmp_path / "fleet", urls, FEW, qa=mariadb_url)
        monkeypatch.chdir(project)
        yield project, urls, mariadb_url


async def choose(pilot: Pilot[None], app: MigtuiApp, name: str) -> list[str]:
    """Press E and pick ``name``; the chooser's lines as shown."""
    await pilot.press("E")
    await settle(pilot)
    options = app.screen.query_one(OptionList)
    lines = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
    # The cursor starts on the environment the graph refers to now (else the first).
    now = [i for i, line in enumerate(lines) if line.endswith("◀ now")]
    assert options.highlighted == (now[0] if now else 0)
    steps = ORDER.index(name) - (options.highlighted or 0)
    await pilot.press(*["down" if steps > 0 else "up"] * abs(steps), "enter")
    await settle(pilot)
    return lines


async def test_rows_name_the_environments_on_them(mixed: tuple[Path, list[str], str]) -> None:
    project, _, _ = mixed
    app = make_app(project)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert "create gizmo (head) (current) @dev" in row_of(app, R3)
        assert "create gadget @staging @qa @tenants×2" in row_of(app, R2)
        assert "create widget @prod @tenants×2" in row_of(app, R1)
        assert "env " not in status_text(app)  # the project's own database: no name
        assert SECRET not in app.export_screenshot()


async def test_E_chooses_the_environment_that_u_and_d_act_on(
        mixed: tuple[Path, list[str], str]) -> None:
    project, (staging, prod, tenants), qa = mixed
    app = make_app(project)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        lines = await choose(pilot, app, "staging")
        assert lines[:4] == ["dev  at c3c3c3c3c3c3", "staging  at b2b2b2b2b2b2",
                             "prod  at a1a1a1a1a1a1  (protected)", "qa  at b2b2b2b2b2b2"]
        status = status_text(app)
        assert "env staging" in status and "current: b2b2b2b2b2b2" in status
        assert "postgresql://postgres:***@" in status and SECRET not in status
        assert "create gadget (current) @staging @qa @tenants×2" in row_of(app, R2)
        assert "(current)" not in row_of(app, R3)
        assert "@dev" in row_of(app, R3)

        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        title = widget_text(app.screen.query_one("#confirm-title", Static))
        assert "c3c3c3c3c3c3" in title
        await pilot.press("y")
        await settle(pilot)
        assert psql_version(staging) == {R3}
        assert "(head) (current) @dev @staging" in row_of(app, R3)

        # qa, on MariaDB: d steps it down from R2 to R1.
        await choose(pilot, app, "qa")
        assert "env qa" in status_text(app) and "(mariadb)" in status_text(app)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert applied(qa) == {R1}
        assert "create widget (current) @prod @qa @tenants×2" in row_of(app, R1)

        # prod is protected: u asks for its name, and nothing runs without it.
        await choose(pilot, app, "prod")
        assert "env prod (protected)" in status_text(app)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ProtectedConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, GraphScreen)
    assert psql_version(prod) == {R1}
    assert sqlite_version(project / "dev.db") == {R3}
    assert psql_version(tenants, "t01") == {R2} and psql_version(tenants, "t03") == {R1}


async def test_an_environment_that_cannot_be_used_leaves_the_graph_where_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """E on an environment whose URL variable is not set: it says why, names the
    database the graph still works on, and u then plans for that database only."""
    from projects import LINEAR, sqlite_url, write_project

    monkeypatch.delenv("MIGTUI_TEST_UNSET_URL", raising=False)
    own = tmp_path / "own.db"
    project = write_project(tmp_path / "p", url=sqlite_url(own), revisions=LINEAR)
    (project / "migtui.toml").write_text(
        '[environments.staging]\nurl_env = "MIGTUI_TEST_UNSET_URL"\n')
    monkeypatch.chdir(project)
    app = make_app(project)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        await pilot.press("enter")  # the one environment: staging
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert any(m.startswith("staging cannot be used: ") and "MIGTUI_TEST_UNSET_URL is "
                   "not set" in m and m.endswith("Still on the project's own database.")
                   for m in said), said
        assert "env " not in status_text(app) and "own.db" in status_text(app)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
    assert sqlite_version(own) == {R1}
