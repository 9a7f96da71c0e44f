"""The tables screen driven through the real app with Pilot, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import database_url, snapshot_sample, table_names
from projects import data_engine
from rich.text import Text
from tables_helpers import WEIRD, execute, make_big_table, make_weird_table, open_project
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList, Static, TabbedContent
from textual.worker import WorkerCancelled
from ui_helpers import tabs_underlined

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.screens.tables import TablesScreen
from migtui.screens.value import ValueScreen
from migtui.tui.app import MigtuiApp
from migtui.widgets.row_grid import MAX_HELD, RowGrid

SIZE = (120, 40)
DASH = "\u2013"  # "rows 1-200 of N" is written with an en dash


def make_app(project: Path) -> MigtuiApp:
    """The real app on a project folder, as `migtui` run there opens it."""
    return MigtuiApp(Project.open(ProjectOptions(cwd=str(project))))


async def settle(pilot: Pilot[None]) -> None:
    """Wait until no worker runs, no page is awaited, and the screen has caught up."""
    for _ in range(50):
        with contextlib.suppress(WorkerCancelled):  # replaced by a newer one
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        grids = pilot.app.screen.query(RowGrid)
        if not any(w.is_running for w in pilot.app.workers) and not any(
                g.waiting for g in grids):
            break


def _plain(value: object) -> str:
    return value.plain if isinstance(value, Text) else str(value)


def screen(app: MigtuiApp) -> TablesScreen:
    assert isinstance(app.screen, TablesScreen), app.screen
    return app.screen


def listed(app: MigtuiApp) -> dict[str, str]:
    """Table list as shown: name -> the rest of its line (row count, change mark)."""
    listing = screen(app).query_one("#table-list", OptionList)
    lines = {}
    for i in range(listing.option_count):
        text = _plain(listing.get_option_at_index(i).prompt)
        ref = screen(app)._refs[i]
        # name (cut in the middle when long), row count or "view", change mark
        words = text.split()
        rest = [words.pop()] if words and words[-1] in ("new", "changed", "dropped",
                                                        "renamed") else []
        if words and len(words) > 1 and re.fullmatch(r"~?[\d,.]+\w?|view", words[-1]):
            rest.insert(0, words.pop())
        head, _, tail = " ".join(words).partition("…")
        assert ref.label.startswith(head) and ref.label.endswith(tail), (ref.label, text)
        lines[ref.label] = " ".join(rest)
    return lines


def data_rows(app: MigtuiApp, tab: str) -> list[list[str]]:
    """The rows of one structure tab, as text."""
    table = screen(app).query_one(f"#{tab}-table", DataTable)
    return [[_plain(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def columns_shown(app: MigtuiApp) -> dict[str, str]:
    """Columns tab: column name -> its change mark."""
    return {row[1]: row[0] for row in data_rows(app, "columns")}


def title(app: MigtuiApp) -> str:
    return _plain(screen(app).query_one("#table-title", Static).content)


def rows_info(app: MigtuiApp) -> str:
    return _plain(screen(app).query_one("#rows-info", Static).content)


def grid_lines(app: MigtuiApp) -> list[str]:
    grid = screen(app).query_one(RowGrid)
    return [grid.render_line(y).text.rstrip()
            for y in range(grid.scrollable_content_region.height)]


async def select(pilot: Pilot[None], label: str, tab: str = "columns") -> None:
    """Pick a table in the list and a tab, as a user would (through the filter)."""
    tables = screen(pilot.app)  # type: ignore[arg-type]
    await pilot.press("slash")
    tables.query_one("#tables-filter").value = label  # type: ignore[attr-defined]
    await pilot.press("enter")
    await settle(pilot)
    assert tables.selected is not None and tables.selected.label == label, tables.selected
    tables.query_one("#tables-filter").value = ""  # type: ignore[attr-defined]
    await pilot.press(str(("columns", "indexes", "constraints", "foreign-keys", "rows")
                          .index(tab) + 1))
    await settle(pilot)


async def run_action(pilot: Pilot[None], key: str) -> None:
    """On the graph screen: u or d, confirm, and come back to the tables."""
    await pilot.press("g")
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)
    await pilot.press("y")
    await settle(pilot)
    await pilot.press("t")
    await settle(pilot)


async def test_step_by_step_shows_tables_and_marks(sample_project: Path) -> None:
    app = make_app(sample_project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await settle(pilot)
        assert listed(app) == {}
        if "sqlite" in database_url(sample_project):
            assert "does not exist yet" in title(app)

        await run_action(pilot, "u")
        assert listed(app) == {"alembic_version": "1 new", "user": "0 new"}
        await select(pilot, "alembic_version")
        assert "current: 3f1a2c9d0b11" in title(app)
        await select(pilot, "user")
        assert columns_shown(app) == {"id": "new", "name": "new", "email": "new"}
        engine = " (InnoDB)" if "mysql" in database_url(sample_project) else ""
        assert f"user  table{engine}  0 rows  new" in title(app)

        await run_action(pilot, "u")
        assert listed(app) == {"alembic_version": "1", "user": "0 changed"}
        assert columns_shown(app) == {"id": "", "name": "", "email": "", "ssn": "new",
                                      "created_at": "new"}

        await run_action(pilot, "u")
        assert listed(app) == {"alembic_version": "1", "post": "0 new", "user": "0"}
        await select(pilot, "post", "foreign-keys")
        assert data_rows(app, "foreign-keys")[0][1:3] == ["user_id", "user(id)"]
        # Enter on the foreign key jumps to the referenced table.
        screen(app).query_one("#foreign-keys-table").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert screen(app).selected is not None and screen(app).selected.label == "user"
        assert screen(app).query_one(TabbedContent).active == "columns"

        await run_action(pilot, "d")
        assert listed(app) == {"alembic_version": "1", "post": "0 dropped", "user": "0"}
        await run_action(pilot, "d")
        assert listed(app) == {"alembic_version": "1", "user": "0 changed"}
        await select(pilot, "user")
        assert columns_shown(app) == {"id": "", "name": "", "email": "", "ssn": "dropped",
                                      "created_at": "dropped"}


async def test_inserted_rows_appear_and_refresh(sample_project: Path) -> None:
    url = database_url(sample_project)
    assert open_project(sample_project).upgrade("heads").ok
    execute(url, "INSERT INTO \"user\" (id, name, email) VALUES (1, 'Ada', 'ada@example.com')")
    app = make_app(sample_project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await settle(pilot)
        await select(pilot, "user", "rows")
        lines = grid_lines(app)
        assert lines[0].split() == ["id", "│", "name", "│", "email", "│", "ssn", "│",
                                    "created_at"]
        assert "Ada" in lines[1] and "ada@example.com" in lines[1] and "NULL" in lines[1]
        assert rows_info(app).startswith(f"rows 1{DASH}1 of 1")
        execute(url, "INSERT INTO \"user\" (id, name, email) VALUES (2, 'Bob', 'bob@example.com')")
        await pilot.press("r")
        await settle(pilot)
        assert "Bob" in grid_lines(app)[2]
        assert listed(app)["user"] == "2"
        # Enter on a cell shows its whole value.
        screen(app).query_one(RowGrid).focus()
        await pilot.press("down", "right", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ValueScreen)
        assert _plain(app.screen.query_one("#text-content", Static).content) == "Bob"


async def test_paging_a_100000_row_table(sample_project: Path) -> None:
    url = database_url(sample_project)
    make_big_table(url, "numbers", 100_000)
    app = make_app(sample_project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await settle(pilot)
        assert listed(app)["numbers"] == "100,000"  # counting stops at 100,001
        await select(pilot, "numbers", "rows")
        grid = screen(app).query_one(RowGrid)
        assert grid.held == 200 and grid.more_after
        assert rows_info(app).startswith(f"rows 1{DASH}200 of ")
        grid.focus()
        # Each "end" goes to the last row held; the grid asks for the next page.
        for page in range(2, 31):
            await pilot.press("end")
            await settle(pilot)
            assert grid.first_held + grid.held == page * 200  # one page more, not the table
            assert grid.held <= MAX_HELD + 200  # rows far behind are let go
        assert grid.first_held > 0 and grid.more_before
        assert grid.cursor_row == 5_799  # the last row held before the last page came
        assert grid_lines(app)[-1].split()[:4] == ["5800", "│", "row", "5800"]
        assert rows_info(app).startswith(f"rows {grid.first_held + 1:,}{DASH}6,000 of ")
        # Back up: earlier pages come back, a page at a time.
        first = grid.first_held
        await pilot.press("home")
        await settle(pilot)
        assert grid.first_held == first - 200 and grid.held <= MAX_HELD + 200
        row = grid.row(grid.first_held)
        assert row is not None and row[0].text == str(grid.first_held + 1)
        # ctrl+home starts again from the first row of the table.
        await pilot.press("ctrl+home")
        await settle(pilot)
        assert (grid.first_held, grid.held, grid.cursor_row) == (0, 200, 0)
        # Scrolling the view (mouse wheel) fetches pages too, and lets old ones go.
        for _ in range(10):
            grid.scroll_to(y=grid.max_scroll_y, animate=False)
            await settle(pilot)
            assert grid.held <= MAX_HELD + 200
            assert grid.first_held <= grid.cursor_row < grid.first_held + grid.held
        assert grid.first_held + grid.held == 2_200 and grid.first_held > 0


async def test_weird_table_lists_and_pages(sample_project: Path) -> None:
    url = database_url(sample_project)
    assert open_project(sample_project).upgrade("heads").ok
    make_weird_table(url, rows=450)
    app = make_app(sample_project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await settle(pilot)
        assert listed(app)[WEIRD] == "450"
        await select(pilot, WEIRD)
        assert list(columns_shown(app)) == ["id", "select", 'a "quoted" col', "semi;colon",
                                            "with space"]
        await pilot.press("5")
        await settle(pilot)
        grid = screen(app).query_one(RowGrid)
        grid.focus()
        while grid.more_after:
            await pilot.press("end")
            await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        assert grid.first_held + grid.held == 450 and grid.cursor_row == 449
        last = grid.row(449)
        assert last is not None and last[1].text == "row 450"
        # The binary column renders as size + hex.
        assert "<12 bytes> c100ffc100ffc100ffc100ff" in grid_lines(app)[-2]  # row 449
        assert "<0 bytes>" in grid_lines(app)[-1]  # row 450
    assert "user" in table_names(url)


async def test_blob_column_renders(sample_project: Path) -> None:
    url = database_url(sample_project)
    binary = "BYTEA" if url.startswith("postgresql") else "BLOB"
    execute(url, f"CREATE TABLE files (id INTEGER PRIMARY KEY, name TEXT, data {binary})")
    engine = data_engine(url)
    files = sa.table("files", sa.column("id"), sa.column("name"),
                     sa.column("data", sa.LargeBinary))
    with engine.begin() as conn:
        conn.execute(files.insert(), [{"id": 1, "name": "logo.png",
                                       "data": b"\x89PNG\r\n\x1a\n" + bytes(100)}])
    engine.dispose()
    app = make_app(sample_project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await settle(pilot)
        await select(pilot, "files", "rows")
        assert "<108 bytes> 89504e470d0a1a0a" in grid_lines(app)[1]
        screen(app).query_one(RowGrid).focus()
        await pilot.press("right", "right", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ValueScreen)
        dump = _plain(app.screen.query_one("#text-content", Static).content)
        assert dump.splitlines()[:2] == [
            "108 bytes",
            "00000000  89 50 4e 47 0d 0a 1a 0a 00 00 00 00 00 00 00 00  .PNG............",
        ]


# -- snapshot ------------------------------------------------------------------

@pytest.fixture
def sample_with_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample at head (a URL that reads the same in every run), with a few rows."""
    project = snapshot_sample(tmp_path / "tables-sample", monkeypatch)
    assert open_project(project).upgrade("heads").ok
    url = database_url(project)
    names = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov"]
    execute(url, *[
        f"INSERT INTO \"user\" (id, name, email, ssn, created_at) VALUES ({i}, '{n}', "
        f"'{n.split()[0].lower()}@example.com', {'NULL' if i % 2 else repr('123-45-6789')}, "
        f"'2026-11-0{i} 09:30:00')" for i, n in enumerate(names, start=1)
    ], "INSERT INTO post (id, title, body, user_id) VALUES (1, 'Notes', 'On the engine', 1)")
    return project


def test_snapshot_tables_with_rows(snap_compare, sample_with_rows: Path) -> None:  # type: ignore[no-untyped-def]
    async def open_rows(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await select(pilot, "user", "rows")
        await pilot.press("escape")
        screen(pilot.app).query_one(RowGrid).focus()  # type: ignore[arg-type]
        await pilot.press("down")
        await settle(pilot)
        await tabs_underlined(pilot)

    assert snap_compare(make_app(sample_with_rows), terminal_size=SIZE, run_before=open_rows)


async def test_marks_when_tables_open_after_the_action(sample_project: Path) -> None:
    app = make_app(sample_project)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert listed(app) == {"alembic_version": "1 new", "user": "0 new"}


async def test_palette_opens_a_table(sample_sqlite: Path) -> None:
    from textual.command import CommandPalette

    app = make_app(sample_sqlite)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("U")
        await settle(pilot)  # y applies once the checks are shown
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"open table post")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.selected is not None and app.screen.selected.name == "post"
