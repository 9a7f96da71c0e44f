"""The tables screen is built once and kept, lists names at once, reads structure lazily.

Real SQLite, PostgreSQL and MariaDB, the real app driven with Pilot.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import database_url
from projects import Rev
from test_tables_screen import (
    SIZE,
    columns_shown,
    data_rows,
    listed,
    make_app,
    run_action,
    screen,
    select,
    settle,
    title,
)
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from migtui.core.env.capture import ENV_LOCK
from migtui.core.schema.model import TableRef
from migtui.screens.tables import TablesScreen
from migtui.tui import loading
from migtui.tui.app import MigtuiApp
from projectkit.gentables import make_tables


async def until(pilot: Pilot[None], done: object) -> None:
    """Let the app run until ``done()`` holds (a generous bound, not a time limit)."""
    for _ in range(600):
        if done():  # type: ignore[operator]
            return
        await pilot.pause(0.05)
    raise AssertionError("the app never got there")


def kept_tables(app: MigtuiApp) -> TablesScreen | None:
    """The tables screen the app keeps, shown or not."""
    found = app._screens.get("tables")
    return found if isinstance(found, TablesScreen) else None


async def test_a_kept_screen_shows_what_a_step_created(sample_project: Path) -> None:
    app = make_app(sample_project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await settle(pilot)
        kept = screen(app)
        assert listed(app) == {}

        await run_action(pilot, "u")  # g, u, y, then t again
        assert screen(app) is kept
        assert listed(app) == {"alembic_version": "1 new", "user": "0 new"}
        await select(pilot, "user")
        assert columns_shown(app) == {"id": "new", "name": "new", "email": "new"}

        # Steps run while the screen is hidden: it re-reads by itself, and t shows it.
        await pilot.press("g")
        for _ in range(2):
            await pilot.press("u")
            await settle(pilot)
            await pilot.press("y")
            await settle(pilot)
        assert kept.schema is not None and kept.schema.get(TableRef("post")) is not None
        await pilot.press("t")
        assert screen(app) is kept
        await settle(pilot)
        assert listed(app) == {"alembic_version": "1", "post": "0 new", "user": "0"}
        await select(pilot, "post", "foreign-keys")
        assert data_rows(app, "foreign-keys")[0][1:3] == ["user_id", "user(id)"]


async def test_the_screen_is_built_before_t(sample_sqlite: Path) -> None:
    app = make_app(sample_sqlite)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("U")  # to head, from the graph
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await until(pilot, lambda: kept_tables(app) is not None)
        kept = kept_tables(app)
        assert kept is not None
        await until(pilot, lambda: kept.holds_structure)
        assert not isinstance(app.screen, TablesScreen)  # built, not shown
        await pilot.press("t")
        assert screen(app) is kept
        # Shown as it was read (marked against the empty database): no reading after t.
        assert listed(app) == {"alembic_version": "1 new", "post": "0 new", "user": "0 new"}


@pytest.fixture
def no_prebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tables screen is built by t alone (its reads start then)."""
    monkeypatch.setattr(loading, "PREBUILD_AFTER", 3600.0)


@pytest.mark.parametrize("ticks", [1, 2, 3, 5])
async def test_quitting_while_the_screen_is_built_in_the_background(
        sample_sqlite: Path, no_prebuild: None, ticks: int) -> None:
    """q a moment after the background build began: Textual mounts the screen without
    its widgets then, and nothing of it may raise (a failed CI run, once)."""
    app = make_app(sample_sqlite)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        async def build_then_quit() -> None:
            building = asyncio.ensure_future(app._prebuild_tables())
            for _ in range(ticks):
                await asyncio.sleep(0)
            app.exit()
            await building

        app.call_next(build_then_quit)
        await pilot.pause()
    assert app.return_code == 0  # (an error in any handler would leave 1, and raise)


async def test_300_tables_list_at_once_and_a_table_not_read_yet_shows_its_columns(
        sample_project: Path, no_prebuild: None) -> None:
    make_tables(database_url(sample_project), 300)
    app = make_app(sample_project)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # t's action (pilot.press would wait for the app to be idle: every read done).
        await app.run_action("switch_mode('tables')")
        tables = screen(app)
        while tables.schema is None:
            await asyncio.sleep(0.001)
        # Hold the structure reads where they are (a batch at most has been read).
        ENV_LOCK.acquire()
        try:
            await pilot.pause()
            shown = listed(app)
            assert len(shown) == 300 and "t0299" in shown
            last = tables.table(TableRef("t0299"))
            assert last is not None and not last.reflected
            assert not tables.holds_structure
            # Picked by its name: its structure is read next.
            await pilot.press("slash")
            tables.query_one("#tables-filter", Input).value = "t0299"
            await pilot.press("enter")
            await pilot.pause()
            assert tables.selected == TableRef("t0299")
            assert "reading its structure" in title(app)
            assert columns_shown(app) == {}
        finally:
            ENV_LOCK.release()
        await settle(pilot)
        assert columns_shown(app) == {"id": "", "name": "", "note": "", "prev_id": ""}
        assert title(app).startswith("t0299  table") and "0 rows" in title(app)
        await pilot.press("4")
        await settle(pilot)
        assert data_rows(app, "foreign-keys")[0][1:3] == ["prev_id", "t0298(id)"]
        # Every table is read in the background meanwhile, counts in the list.
        tables.query_one("#tables-filter", Input).value = ""
        await settle(pilot)
        assert tables.holds_structure
        assert set(listed(app).values()) == {"0"}
        assert tables.query_one("#table-list", OptionList).option_count == 300


RENAME_POST = Rev("d1d1d1d1d1d1", "c5d9e0f3b7a2", "rename post to article",
                  upgrade='op.rename_table("post", "article")',
                  downgrade='op.rename_table("article", "post")').source()


async def test_a_renamed_table_is_listed_once_as_renamed(sample_project: Path) -> None:
    """The review's case: the old name stayed listed as dropped until a resize."""
    (sample_project / "migrations" / "versions" / "d1d1d1d1d1d1_rename.py").write_text(
        RENAME_POST)
    app = make_app(sample_project)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(3):  # to the sample's head, c5d9e0f3b7a2
            await pilot.press("u")
            await settle(pilot)
            await pilot.press("y")
            await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await run_action(pilot, "u")  # the rename
        await until(pilot, lambda: "article" in listed(app))
        await settle(pilot)
        assert listed(app)["article"] == "0 renamed" and "post" not in listed(app), listed(app)
        await select(pilot, "article")
        assert "renamed from post by the last action" in title(app)
