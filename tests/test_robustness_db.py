"""Issue 6, database side: unreachable, unknown revision, failing migration, stale state,
a dropped connection, the password, small terminals and long unicode text."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import SCRIPTS, copy_sample, database_url, table_names
from projects import applied, data_engine
from textual.screen import ModalScreen
from textual.widgets import Static
from ui_helpers import graph_lines, make_app, row_of, settle, status_text, widget_text

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.screens.confirm import ConfirmScreen
from migtui.screens.dialogs import QuestionScreen, TextScreen
from projectkit.genproject import generate_project

USER, EVOLVE, POST = "3f1a2c9d0b11", "8c2e47d1a5f0", "c5d9e0f3b7a2"
SECRET = "Zq9-very-secret-pw"

FAILING = '''"""create a table, then fail

Revision ID: fa11fa11fa11
Revises: {parent}
Create Date: 2026-01-01 00:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "fa11fa11fa11"
down_revision = "{parent}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("INSERT INTO no_such_table VALUES (1)")


def downgrade() -> None:
    op.drop_table("half_done")
'''


def failing_project(folder: Path, url: str | None = None) -> tuple[Path, str]:
    """A two-revision project plus a third revision that fails halfway."""
    ids = generate_project(folder, 2, branch_every=0, url=url)
    (folder / "migrations" / "versions" / "fa11fa11fa11_fail.py").write_text(
        FAILING.format(parent=ids[-1]))
    return folder, ids[-1]


def everything_shown(app) -> str:  # type: ignore[no-untyped-def]
    """Every text the user could see or open: the screen, the log, the error details."""
    parts = [app.export_screenshot(), "\n".join(app.state.log_lines)]
    if app.state.last_error:
        parts.extend(app.state.last_error)
    return "\n".join(parts)


async def test_unreachable_database_at_start(sample_sqlite: Path, pg_server_url: str) -> None:
    bad = sa.make_url(pg_server_url).set(password=SECRET, port=1, host="127.0.0.1")
    url = bad.render_as_string(hide_password=False)
    app = make_app(sample_sqlite, url=url)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert len(graph_lines(app)) == 3, "the revisions load from the files"
        status = status_text(app)
        assert "unreachable" in status and "***" in status
        await pilot.press("u")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen), "writes wait for a reachable database"
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, TextScreen)
        assert SECRET not in everything_shown(app)


async def test_wrong_password_never_shown(sample_pg: Path, pg_url: str) -> None:
    # A server that trusts everyone accepts any password: use one that cannot connect.
    bad = sa.make_url(pg_url).set(password=SECRET, database="no_such_db_here")
    app = make_app(sample_pg, url=bad.render_as_string(hide_password=False))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert "unreachable" in status_text(app)
        assert "no_such_db_here" in status_text(app)
        await pilot.press("e")
        await settle(pilot)
        assert SECRET not in everything_shown(app)


async def test_missing_sqlite_folder_then_refresh(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project = copy_sample(tmp_path / "p", f"sqlite:///{tmp_path / 'p' / 'data' / 'app.db'}")
    monkeypatch.chdir(project)
    app = make_app(project)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert "unreachable" in status_text(app) and "folder" in status_text(app)
        assert not (project / "data").exists()
        (project / "data").mkdir()
        await pilot.press("r")
        await settle(pilot)
        assert "unreachable" not in status_text(app)
        await pilot.press("u")
        await settle(pilot)  # y applies once the checks are shown
        await pilot.press("y")
        await settle(pilot)
        assert "(current)" in row_of(app, USER)


def on_unknown_revision(project: Path) -> str:
    """Upgrade the project's database, then set it on a revision no file defines; its URL."""
    url = database_url(project)
    Project.open(ProjectOptions(cwd=str(project))).upgrade("heads")
    engine = data_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'deadbeef0000'"))
    engine.dispose()
    return url


async def test_database_on_unknown_revision_offers_stamp(sample_sqlite: Path) -> None:
    url = on_unknown_revision(sample_sqlite)
    app = make_app(sample_sqlite)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        status = status_text(app)
        assert "deadbeef0000" in status and "no file defines" in status
        assert "? pending" in status  # not counted as if the database were at base
        # No next revision from it: u says why at once (it asks no "which branch").
        await pilot.press("u")
        await settle(pilot)
        assert not isinstance(app.screen, ModalScreen)
        said = [n.message for n in app._notifications]
        assert said and "deadbeef0000, which no revision file defines" in said[-1]
        for key in ("d", "U"):  # no plan from it: Alembic cannot walk from there
            await pilot.press(key)
            await settle(pilot)
            refusal = app.screen.query_one("#confirm-refusal", Static)
            assert "deadbeef0000, which no revision file defines" in widget_text(refusal)
            await pilot.press("y")
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
        assert applied(url) == {"deadbeef0000"}
        await pilot.press("s")  # stamp the newest revision
        await settle(pilot)  # y applies once the checks are shown
        await pilot.press("y")
        await settle(pilot)
        assert "(current)" in row_of(app, POST)
        assert "deadbeef0000" not in status_text(app)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mariadb"])
async def test_migration_failing_halfway(
    dialect: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    fixture = {"postgresql": "pg_url", "mariadb": "mariadb_url"}.get(dialect)
    url = request.getfixturevalue(fixture) if fixture else None
    project, second = failing_project(tmp_path / "p", url)
    monkeypatch.chdir(project)
    db_url = url or f"sqlite:///{project / 'bench.db'}"
    assert Project.open(ProjectOptions(cwd=str(project))).upgrade(second).ok
    app = make_app(project)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("U")  # the top row: the failing revision
        await settle(pilot)  # y applies once the checks are shown
        await pilot.press("y")
        await settle(pilot)
        assert app.state.last_error is not None
        message, details = app.state.last_error
        assert "fa11fa11fa11" in message and "no_such_table" in message
        assert "INSERT INTO no_such_table" in details
        assert "(current)" in row_of(app, second), "the screen shows what is really applied"
        if dialect in ("sqlite", "mariadb"):  # DDL commits as it runs (test_mariadb_partial)
            assert {"sqlite": "SQLite", "mariadb": "MariaDB"}[dialect] + " could not roll back" \
                in message
            assert "half_done" in table_names(db_url)
            assert f"partially applied {'fa11fa11fa11'}" in status_text(app)
            await pilot.press("U")  # again: the dialog says first what stayed
            await settle(pilot)
            notice = widget_text(app.screen.query_one("#confirm-notice", Static))
            assert "fa11fa11fa11 stopped halfway before" in notice
            assert "may fail on what is already there" in notice
            await pilot.press("escape")
            await settle(pilot)
        else:
            assert "half_done" not in table_names(db_url)


async def test_database_moved_by_another_process(sample_project: Path) -> None:
    app = make_app(sample_project)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        # Meanwhile, someone runs `alembic upgrade head` elsewhere.
        subprocess.run(["alembic", "upgrade", "head"], cwd=sample_project, check=True,
                       capture_output=True, env={**os.environ, "PATH": os.path.dirname(
                           os.sys.executable) + os.pathsep + os.environ["PATH"]})
        await pilot.press("y")
        await settle(pilot)
        assert app.state.last_error is not None and "moved" in app.state.last_error[0]
        assert "(current)" in row_of(app, POST), "the graph was re-read"


async def test_connection_drops_and_recovers(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    out = subprocess.run(["bash", str(SCRIPTS / "pg-start.sh")], check=True,
                         capture_output=True, text=True).stdout
    env = dict(line.split("=", 1) for line in out.split())
    data = env["MIGTUI_PG_DIR"] + "/data"
    as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    pg_ctl = next(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    try:
        project = copy_sample(tmp_path / "p", env["MIGTUI_TEST_PG_URL"])
        monkeypatch.chdir(project)
        app = make_app(project)
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            assert "unreachable" not in status_text(app)
            subprocess.run([*as_pg, str(pg_ctl), "-D", data, "-m", "fast", "-w", "stop"],
                           check=True, capture_output=True, timeout=60)
            await pilot.press("r")
            await settle(pilot)
            assert "unreachable" in status_text(app)
            subprocess.run([*as_pg, str(pg_ctl), "-D", data, "-l", f"{data}/../restart.log",
                            "-w", "start"], check=True, capture_output=True, timeout=60)
            await pilot.press("r")
            await settle(pilot)
            assert "unreachable" not in status_text(app)
            await pilot.press("u")
            await settle(pilot)  # y applies once the checks are shown
            await pilot.press("y")
            await settle(pilot)
            assert "(current)" in row_of(app, USER)
    finally:
        subprocess.run(["bash", str(SCRIPTS / "pg-stop.sh"), env["MIGTUI_PG_DIR"]], check=False)


async def test_quit_while_busy_asks(sample_sqlite: Path) -> None:
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.state = replace(app.state, busy=True)  # as while a worker runs a migration
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, QuestionScreen) and not app._quitting
        await pilot.press("q", "q")  # quitting again says yes, as the question says
        await pilot.pause()
        assert not isinstance(app.screen, QuestionScreen)
        assert app._quitting  # cancelling, then quitting
        app.state = replace(app.state, busy=False)


async def test_small_terminal_and_resize(sample_sqlite: Path) -> None:
    app = make_app(sample_sqlite)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        assert len(graph_lines(app)) == 3
        assert all(len(line) <= 60 for line in graph_lines(app))
        await pilot.press("u")
        await settle(pilot)
        await pilot.resize_terminal(100, 30)
        await pilot.press("y")
        await settle(pilot)
        await pilot.resize_terminal(40, 12)
        await settle(pilot)
        assert "(current)" in row_of(app, USER) or app.screen.query(Static)


async def test_unicode_and_very_long_messages(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ids = generate_project(tmp_path, 3, branch_every=0)
    head = next((tmp_path / "migrations" / "versions").glob(f"{ids[-1]}_*.py"))
    text = head.read_text()
    first_line = text.splitlines()[0]
    long = "Ünïcödé 表 テーブル 🚀 " * 30
    head.write_text(text.replace(first_line, f'"""{long}', 1))
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        top = graph_lines(app)[0]
        assert "Ünïcödé" in top and "(head)" in top
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)


async def test_a_revision_calling_sys_exit_leaves_the_app_up(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ids = generate_project(tmp_path, 1, branch_every=0)
    (tmp_path / "migrations" / "versions" / "e1e1_exit.py").write_text(
        FAILING.format(parent=ids[-1]).replace("fa11fa11fa11", "e1e1e1e1e1e1").replace(
            'op.execute("INSERT INTO no_such_table VALUES (1)")', "raise SystemExit(3)"))
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("U")
        await settle(pilot)  # y applies once the checks are shown
        await pilot.press("y")
        await settle(pilot)
        assert not app.state.busy, "the app is ready for the next action"
        assert app.state.last_error is not None and "e1e1e1e1e1e1" in app.state.last_error[0]
        assert "(current)" in row_of(app, ids[-1])


def test_an_environment_on_an_unknown_revision_is_not_counted_as_pending(
        sample_sqlite: Path) -> None:
    """The environments screen's row says so, as the graph's status line does."""
    from migtui.core.environments.config import Environment
    from migtui.core.environments.fleet import EnvironmentRead
    from migtui.screens.environments_rows import env_row

    on_unknown_revision(sample_sqlite)
    snapshot = Project.open(ProjectOptions(cwd=str(sample_sqlite))).snapshot()
    read = EnvironmentRead(Environment("prod", "pyproject.toml"), snapshot, 0.0, 0.1)
    row = " | ".join(cell.plain for cell in env_row(read.environment, read, None).cells)
    assert "deadbeef0000" in row and "? pending: unknown revision" in row
    assert "3 pending" not in row


async def test_a_role_that_may_not_read_alembic_version_is_not_called_unreachable(
        sample_pg: Path, pg_url: str) -> None:
    """Connected, then refused by a permission: said as such, the password masked."""
    import uuid

    Project.open(ProjectOptions(cwd=str(sample_pg))).upgrade("heads")
    role = f"r_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'"))
        conn.execute(sa.text(f"REVOKE ALL ON alembic_version FROM {role}"))
    limited = sa.make_url(pg_url).set(username=role, password=SECRET)
    try:
        app = make_app(sample_pg, url=limited.render_as_string(hide_password=False))
        async with app.run_test(size=(160, 30)) as pilot:
            await settle(pilot)
            status = status_text(app)
            assert "cannot read alembic_version" in status and "unreachable" not in status
            assert "permission denied" in status
            await pilot.press("e")
            await settle(pilot)
            assert SECRET not in everything_shown(app)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP OWNED BY {role}"))
            conn.execute(sa.text(f"DROP ROLE {role}"))
        admin.dispose()


async def test_a_refused_login_is_said_as_such_on_mariadb(
        sample_mariadb: Path, mariadb_url: str) -> None:
    """A wrong password: "login refused", not "unreachable"; MySQL's "(using password:
    YES)" is left as the server said it, and the password is shown nowhere."""
    import uuid

    user = f"u_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(mariadb_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'the-right-one'"))
    wrong = sa.make_url(mariadb_url).set(username=user, password=SECRET)
    try:
        app = make_app(sample_mariadb, url=wrong.render_as_string(hide_password=False))
        async with app.run_test(size=(160, 30)) as pilot:
            await settle(pilot)
            status = " ".join(status_text(app).split())
            assert "login refused" in status and "unreachable" not in status
            assert f"Access denied for user '{user}'" in status
            assert "(using password: YES)" in status
            await pilot.press("u")
            await settle(pilot)
            assert not isinstance(app.screen, ConfirmScreen)
            said = " ".join(n.message for n in app._notifications)
            assert "The database refused the login: " in said
            await pilot.press("e")
            await settle(pilot)
            assert SECRET not in everything_shown(app)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP USER '{user}'@'%'"))
        admin.dispose()


def test_an_unknown_role_on_postgresql_is_a_refused_login(
        sample_pg: Path, pg_url: str) -> None:
    nobody = sa.make_url(pg_url).set(username="no_such_role_here", password=SECRET)
    status = Project.open(ProjectOptions(
        cwd=str(sample_pg), url=nobody.render_as_string(hide_password=False))).status()
    assert status.cause == "login"
    assert status.error.startswith("The database refused the login: ")
    assert 'role "no_such_role_here" does not exist' in status.error
    assert SECRET not in status.error + status.error_details + status.url


async def test_a_long_url_at_80_columns_keeps_its_host_and_database(
        sample_sqlite: Path) -> None:
    """The status line is short of room: the URL gives up its query string, its user and
    its driver before the host and database name that say which database it is."""
    from projects import closed_port

    url = (f"postgresql+psycopg://bob:{SECRET}@127.0.0.1:{closed_port()}/orders_db"
           "?sslmode=disable&password=qsecret-value")
    app = make_app(sample_sqlite, url=url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        from ui_helpers import screen_lines

        status = " ".join(screen_lines(app)[:2])
        assert "postgresql://127.0.0.1:" in status and "/orders_db?…" in status, status
        assert SECRET not in status and "qsecret" not in status
