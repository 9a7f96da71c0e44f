"""The trust rules as a user meets them in the app (DESIGN.md, Trust).

A file edited between the dialog and `y` is not run: the dialog comes back with the new
plan and says why. A migration waiting on a lock says on what and who holds it; `c`
cancels it and nothing is applied, also after the lock is released.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import column_names, table_names
from projects import ENV_HOLDS, LINEAR, applied, sqlite_url, write_project
from textual.pilot import Pilot
from textual.widgets import Static
from trust_helpers import ADD_EXTRA, R1, R2, project_at_r1
from ui_helpers import make_app, settle, wait_for, widget_text

from migtui.screens.confirm import ConfirmScreen
from migtui.screens.dialogs import QuestionScreen
from migtui.tui.app import MigtuiApp


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "trust.db")
    value: str = request.getfixturevalue("pg_url")
    return value


def dialog_text(app: MigtuiApp) -> str:
    screen = app.screen
    assert isinstance(screen, ConfirmScreen)
    return "\n".join(widget_text(w) for w in screen.query("Static"))


async def upgrade_dialog(pilot: Pilot[None], folder: Path) -> Path:
    """u on the project at r1: the dialog shows r2's add_column; r2's file."""
    await settle(pilot)
    await pilot.press("u")
    await settle(pilot)
    assert "add_column('t1', 'extra'" in dialog_text(pilot.app)  # type: ignore[arg-type]
    return folder / "migrations/versions" / f"{R2}_add_extra.py"


async def test_a_file_edited_after_the_dialog_brings_the_dialog_back(
    tmp_path: Path, url: str
) -> None:
    folder = project_at_r1(tmp_path, url)
    app = make_app(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        path = await upgrade_dialog(pilot, folder)
        path.write_text(ADD_EXTRA.replace('op.add_column("t1", sa.Column("extra", '
                                          'sa.Integer()))', 'op.drop_table("t1")'))
        await pilot.press("y")
        await settle(pilot)
        text = dialog_text(app)  # the dialog again, with the plan as the file is now
        assert f"{R2}'s file changed since you confirmed: nothing ran" in text
        assert "drop_table('t1')" in text
        await pilot.press("n")
        await settle(pilot)
    assert applied(url) == {R1}
    assert "t1" in table_names(url) and "extra" not in column_names(url, "t1")


async def test_a_file_broken_after_the_dialog_is_refused_and_not_offered_again(
        tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "trust.db")
    folder = project_at_r1(tmp_path, url)
    app = make_app(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        path = await upgrade_dialog(pilot, folder)
        path.write_text(path.read_text().replace(f"down_revision = {R1!r}",
                                                 f"down_revision = ({R1!r}"))
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)  # nothing to apply is offered
        said = " ".join(n.message for n in app._notifications)
        assert "Since you confirmed, the revision files changed and nothing ran" in said
        assert f"{R2}_add_extra.py" in said and "Fix the revision files" in said
    assert applied(url) == {R1}
    assert "extra" not in column_names(url, "t1")


async def test_a_lock_wait_is_named_and_c_cancels_it(tmp_path: Path, pg_url: str) -> None:
    folder = project_at_r1(tmp_path, pg_url)
    holder = sa.create_engine(pg_url)
    app = make_app(folder)
    with holder.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        conn.execute(sa.text("LOCK TABLE t1 IN ACCESS EXCLUSIVE MODE"))
        async with app.run_test(size=(160, 40)) as pilot:
            await settle(pilot)
            await pilot.press("u")
            await settle(pilot)
            await pilot.press("y")
            await wait_for(pilot, lambda: "for a lock on t1" in app.state.progress)
            progress = app.state.progress
            assert f"for a lock on t1 held by pid {pid}" in progress and "waiting" in progress
            assert "c cancels" in progress
            await pilot.press("c")
            await wait_for(pilot, lambda: not app.state.busy)
            await settle(pilot)
            assert app.state.last_error is not None
            assert app.state.last_error[0].startswith("Cancelled as you asked")
            assert applied(pg_url) == {R1}
        conn.rollback()  # the lock is released: nothing may commit now
    holder.dispose()
    time.sleep(1)
    assert applied(pg_url) == {R1}
    assert "extra" not in column_names(pg_url, "t1")


async def test_a_metadata_lock_wait_on_mariadb_is_named_and_c_cancels_it(
        tmp_path: Path, mariadb_url: str) -> None:
    folder = project_at_r1(tmp_path, mariadb_url)
    holder = sa.create_engine(mariadb_url)
    app = make_app(folder)
    with holder.connect() as conn:
        connection_id = conn.execute(sa.text("SELECT CONNECTION_ID()")).scalar()
        conn.execute(sa.text("SELECT * FROM t1"))  # an open transaction: ALTER t1 waits
        async with app.run_test(size=(200, 40)) as pilot:
            await settle(pilot)
            await pilot.press("u")
            await settle(pilot)
            await pilot.press("y")
            await wait_for(pilot, lambda: "metadata lock" in app.state.progress)
            progress = app.state.progress
            assert f"held by connection {connection_id}" in progress, progress
            assert "waiting" in progress and "ALTER TABLE t1" in progress
            await pilot.press("c")
            await wait_for(pilot, lambda: not app.state.busy)
            await settle(pilot)
            assert app.state.last_error is not None
            assert app.state.last_error[0].startswith("Cancelled as you asked")
        conn.rollback()  # released: nothing may run now
    holder.dispose()
    assert applied(mariadb_url) == {R1}
    assert "extra" not in column_names(mariadb_url, "t1")


@pytest.mark.parametrize("answer", ["y", "ctrl+c"])
async def test_quitting_during_a_lock_wait_cancels_the_migration(
    tmp_path: Path, pg_url: str, answer: str
) -> None:
    folder = project_at_r1(tmp_path, pg_url)
    holder = sa.create_engine(pg_url)
    app = make_app(folder)
    with holder.connect() as conn:
        conn.execute(sa.text("LOCK TABLE t1 IN ACCESS EXCLUSIVE MODE"))
        async with app.run_test(size=(160, 40)) as pilot:
            await settle(pilot)
            await pilot.press("u")
            await settle(pilot)
            await pilot.press("y")
            await wait_for(pilot, lambda: "for a lock on t1" in app.state.progress)
            await pilot.press("q")
            await pilot.pause()
            assert sum(isinstance(s, QuestionScreen) for s in app.screen_stack) == 1
            # "A migration is running. Cancel it and quit?": yes, or quitting again
            await pilot.press(answer)
            deadline = time.monotonic() + 30  # a guard against a hang
            while app.is_running and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert not app.is_running, "the app did not quit"
        conn.rollback()  # released after the quit: the migration must not commit now
    holder.dispose()
    time.sleep(1)
    assert applied(pg_url) == {R1}
    assert "extra" not in column_names(pg_url, "t1")


async def test_r_while_env_py_hangs_says_it_is_reading_until_env_py_returns(
        tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "hang.db")
    folder = write_project(tmp_path / "proj", env_py=ENV_HOLDS, url=url, revisions=LINEAR)
    app = make_app(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        progress = app.screen.query_one("#progress", Static)
        assert not progress.display
        (folder / "hold").touch()
        (folder / "entered").unlink()
        await pilot.press("r")
        await wait_for(pilot, lambda: (folder / "entered").exists())
        await wait_for(pilot, lambda: progress.display)
        assert "Reading the revision files and the database…" in widget_text(progress)
        (folder / "hold").unlink()
        await wait_for(pilot, lambda: not progress.display)
        assert app.state.snapshot is not None and app.state.snapshot.database.reachable
