"""A database host that does not answer, or a version table locked by another session,
holds no other environment back: environments with a URL (asked first, outside env.py's
lock) and environments named by ``-x`` only, whose URL only env.py knows (read in
processes of their own).

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
    build_picked,
    pg_databases,
    psql_version,
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
        assert remote[2] == "?" and remote[4] == "✗ unreachable"  # why: behind e
        assert PASSWORD not in app.export_screenshot()
        await pilot.press("home", "e")  # remote is the first row: its whole error
        await pilot.pause()
        body = widget_text(app.screen.query_one("#text-content", Static))
        assert "The database cannot be reached" in body and PASSWORD not in body


# -- environments named by -x only ---------------------------------------------------

TENANTS = ("t01", "t02", "t03", "t04", "t05", "t06")  # t01, t03, t05 at R1; the others at R2
PICKED = f'''\
    [tool.migtui.environments.remote]
    x = ["db=REMOTE"]

    [tool.migtui.environments.locked]
    x = ["tenant=t00", "wait=long"]

    [tool.migtui.environments.tenants]
    schemas = [{", ".join(f'"{t}"' for t in TENANTS)}]
    x_each = "tenant={{schema}}"
    '''


@pytest.fixture
def picked(tmp_path: Path, pg_url: str,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str, SilentServer]]:
    """A project whose environments are all named by -x: ``remote`` (env.py takes its
    URL, to a host that does not answer, from MIGTUI_TEST_URL_REMOTE), ``locked`` (schema
    t00, waits for a lock however long) and six tenants, all in ``pg_url``."""
    with silent_server() as server:
        monkeypatch.setenv("MIGTUI_TEST_URL_REMOTE", server.url(PASSWORD))
        project = build_picked(tmp_path / "picked", pg_url, PICKED, ("t00", *TENANTS))
        monkeypatch.chdir(project)
        yield project, pg_url, server


def _read_each_in_background(fleet: Fleet, names: tuple[str, ...]
                             ) -> tuple[threading.Thread, dict[str, EnvironmentRead]]:
    """``fleet.read_each`` of ``names`` on a thread; the reads by name, as they arrive."""
    reads: dict[str, EnvironmentRead] = {}
    envs = [e for e in fleet.environments if e.name in names]
    thread = threading.Thread(target=fleet.read_each,
                              args=(envs, lambda r: reads.update({r.environment.name: r})))
    thread.start()
    return thread, reads


def _until_read(thread: threading.Thread, reads: dict[str, EnvironmentRead],
                names: list[str]) -> None:
    while not set(names) <= set(reads):
        assert thread.is_alive(), sorted(reads)
        time.sleep(0.05)


def test_x_only_environments_are_read_while_env_py_waits_on_a_silent_host(
        picked: tuple[Path, str, SilentServer], capfd: pytest.CaptureFixture[str]) -> None:
    project, url, server = picked
    fleet = Fleet(Project.open(ProjectOptions(cwd=str(project))))
    tenants = [f"tenants:{t}" for t in TENANTS]
    # remote first: the process that reads it was to read the first tenants next.
    thread, reads = _read_each_in_background(fleet, ("remote", *tenants))
    _until_read(thread, reads, tenants)
    server.accepted.wait()
    assert "remote" not in reads and not server.released  # env.py still waits for it
    assert [reads[t].status.current_heads for t in tenants] == [(R1,), (R2,)] * 3
    assert all(set(reads[f"tenants:{t}"].status.current_heads) == psql_version(url, t)
               for t in TENANTS)
    server.release()
    thread.join()
    status = reads["remote"].status
    assert not status.reachable and status.cause == "connection"
    assert "The database cannot be reached" in status.error
    assert PASSWORD not in status.error + status.url + status.error_details
    out, err = capfd.readouterr()
    assert "env.py talks" not in out + err  # what env.py printed stayed in its process


def test_x_only_environment_waiting_for_a_lock_holds_no_other_read_back(
        picked: tuple[Path, str, SilentServer]) -> None:
    project, url, _server = picked
    fleet = Fleet(Project.open(ProjectOptions(cwd=str(project))))
    tenants = [f"tenants:{t}" for t in TENANTS]
    holder = sa.create_engine(url)
    with holder.connect() as locker:  # a second session holds t00's version table
        locker.execute(sa.text("LOCK TABLE t00.alembic_version IN ACCESS EXCLUSIVE MODE"))
        thread, reads = _read_each_in_background(fleet, ("locked", *tenants))
        while not _waits_for_lock(holder):  # locked's env.py now waits for the lock
            assert thread.is_alive()
            time.sleep(0.05)
        _until_read(thread, reads, tenants)
        assert "locked" not in reads and _waits_for_lock(holder)
        locker.rollback()  # the lock is released: locked is read as it is
    thread.join()
    holder.dispose()
    assert reads["locked"].status.current_heads == (R2,) == tuple(psql_version(url, "t00"))
    assert [reads[t].status.current_heads for t in tenants] == [(R1,), (R2,)] * 3


async def test_the_screen_fills_the_x_only_rows_while_one_hangs_and_one_waits(
        picked: tuple[Path, str, SilentServer]) -> None:
    project, url, server = picked
    holder = sa.create_engine(url)
    app = make_app(project)
    tenants = tuple(f"tenants:{t}" for t in TENANTS)
    with holder.connect() as locker:
        locker.execute(sa.text("LOCK TABLE t00.alembic_version IN ACCESS EXCLUSIVE MODE"))
        async with app.run_test(size=(180, 40)) as pilot:
            await pilot.press("w")
            await wait_for(pilot, app, tenants)
            shown = cells(app)
            assert [shown[t][2] for t in tenants] == [R1, R2] * 3
            assert shown["remote"][2] == shown["locked"][2] == "…"
            assert shown["remote"][4] == shown["locked"][4] == "reading…"
            assert not server.released and _waits_for_lock(holder)
            locker.rollback()
            await wait_for(pilot, app, ("locked",))
            assert cells(app)["locked"][2] == R2 and cells(app)["remote"][4] == "reading…"
            server.release()
            await wait_for(pilot, app, ("remote",))
            remote = cells(app)["remote"]
            assert remote[2] == "?" and remote[4] == "✗ unreachable"
            assert PASSWORD not in app.export_screenshot()
    holder.dispose()
