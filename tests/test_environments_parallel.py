"""A database host that does not answer, or a version table locked by another session,
holds no other environment back.

The host is a real TCP server that accepts and then says nothing (as a firewalled or
overloaded database host does) until the test releases it; the others are real SQLite,
PostgreSQL and MariaDB databases.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from environments_helpers import (
    R1,
    R2,
    R3,
    SilentServer,
    build_fleet,
    pg_databases,
    put_first,
    silent_server,
)
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from ui_helpers import make_app, widget_text

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.env import looking
from migtui.core.environments.fleet import EnvironmentRead, Fleet
from migtui.tui.app import MigtuiApp

PASSWORD = "Remote-s3cret-pw"
FEW = ("t01", "t02")  # t01 at R2, t02 at R1


@pytest.fixture
def hanging(tmp_path: Path, pg_server_url: str, mariadb_url: str,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, SilentServer]]:
    """The fleet (dev, staging, prod, qa on MariaDB, two tenants) with ``remote``, on a
    host that does not answer, configured first."""
    with pg_databases(pg_server_url, 3) as urls, silent_server() as server:
        monkeypatch.setenv("MIGTUI_TEST_PROD_URL", urls[1])
        project = build_fleet(tmp_path / "fleet", urls, FEW, qa=mariadb_url)
        put_first(project, "remote", server.url(PASSWORD))
        monkeypatch.chdir(project)
        yield project, server


def test_the_others_are_read_while_one_host_hangs(
        hanging: tuple[Path, SilentServer]) -> None:
    project, server = hanging
    fleet = Fleet(Project.open(ProjectOptions(cwd=str(project))))
    remote = fleet.config.find("remote")
    assert remote is not None
    got: list[EnvironmentRead] = []
    waiting = threading.Thread(target=lambda: got.append(fleet.read(remote)))
    waiting.start()
    server.accepted.wait()  # remote's read is now waiting for the host's answer
    reads = {e.name: fleet.read(e) for e in fleet.environments if e.name != "remote"}
    # Every other environment was read while remote's read still waited.
    assert waiting.is_alive() and not got
    assert [reads[n].status.current_heads for n in ("dev", "staging", "prod", "qa")] == [
        (R3,), (R2,), (R1,), (R2,)]
    assert reads["qa"].status.dialect == "mariadb"
    assert reads["tenants:t01"].status.current_heads == (R2,)
    server.release()
    waiting.join()
    status = got[0].status
    assert not status.reachable and status.cause == "connection"
    assert "The database cannot be reached" in status.error
    assert PASSWORD not in status.error + status.url + status.error_details


def test_the_others_are_read_while_a_tenant_version_table_is_locked(
        hanging: tuple[Path, SilentServer], monkeypatch: pytest.MonkeyPatch) -> None:
    project, _server = hanging
    # The lock and statement timeouts of the trust rules, long enough that only the test
    # ends the wait.
    monkeypatch.setattr(looking, "LOCK_TIMEOUT_S", 600)
    monkeypatch.setattr(looking, "STATEMENT_TIMEOUT_S", 600)
    fleet = Fleet(Project.open(ProjectOptions(cwd=str(project))))
    t01 = fleet.config.find("tenants:t01")
    assert t01 is not None and t01.url is not None
    holder = sa.create_engine(t01.url)
    with holder.connect() as locker:
        locker.execute(sa.text("LOCK TABLE t01.alembic_version IN ACCESS EXCLUSIVE MODE"))
        got: list[EnvironmentRead] = []
        waiting = threading.Thread(target=lambda: got.append(fleet.read(t01)))
        waiting.start()
        while not _waits_for_lock(holder):  # t01's read now waits for the lock
            time.sleep(0.05)
        others = ("dev", "staging", "prod", "qa", "tenants:t02")
        reads = {n: fleet.read(e) for n in others if (e := fleet.config.find(n))}
        assert waiting.is_alive() and not got
        assert [reads[n].status.current_heads for n in others] == [
            (R3,), (R2,), (R1,), (R2,), (R1,)]
        locker.rollback()  # the lock is released: t01 is read as it is
    waiting.join()
    holder.dispose()
    assert got[0].status.reachable and got[0].status.current_heads == (R2,)


def _waits_for_lock(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE '%alembic_version%'")).scalar())


def cells(app: MigtuiApp) -> dict[str, list[str]]:
    table = app.screen.query_one("#environments", DataTable)
    return {str(key.value): [str(getattr(c, "plain", c)) for c in table.get_row(key)]
            for key in table.rows}


async def wait_for(pilot: Pilot[None], app: MigtuiApp, names: tuple[str, ...]) -> None:
    """Until the rows of ``names`` show a revision (the app keeps running meanwhile)."""
    while True:
        await pilot.pause(0.05)
        shown = cells(app) if app.screen.query("#environments") else {}
        if all(shown.get(n, ["", "", "…"])[2] not in ("…", "") for n in names):
            return


async def test_the_screen_shows_the_others_first(hanging: tuple[Path, SilentServer]) -> None:
    project, server = hanging
    app = make_app(project)
    async with app.run_test(size=(180, 40)) as pilot:
        await pilot.press("w")
        others = ("dev", "staging", "prod", "qa", "tenants:t01", "tenants:t02")
        await wait_for(pilot, app, others)
        shown = cells(app)
        assert shown["remote"][4] == "reading…" and not server.released
        assert [shown[n][2] for n in others] == [R3, R2, R1, R2, R2, R1], shown
        assert shown["qa"][1] == "mariadb"
        server.release()
        await wait_for(pilot, app, ("remote",))
        await app.workers.wait_for_complete()
        await pilot.pause()
        remote = cells(app)["remote"]
        assert remote[2] == "?" and remote[4].startswith("✗ ") and len(remote[4]) <= 46
        assert PASSWORD not in app.export_screenshot()
        await pilot.press("home", "e")  # remote is the first row: its whole error
        await pilot.pause()
        body = widget_text(app.screen.query_one("#text-content", Static))
        assert "The database cannot be reached" in body and PASSWORD not in body
