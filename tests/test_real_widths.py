"""Issue #20, case 8: the layout at the widths real terminals have (80x24, 160x50).

Every assertion reads the screen as the terminal shows it (screen_lines: each widget
where the layout put it, cut where it is cut), not the text a widget was handed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from projects import TWO_HEADS, Rev, async_sqlite_url, sqlite_url, write_project
from rich.console import Console
from rich.text import Text
from textual.geometry import Region
from textual.widgets import Button, Static
from ui_helpers import make_app, screen_lines, settle, status_text, widget_text

from migtui.core.env.capture import captured
from migtui.screens.confirm import ConfirmScreen
from migtui.screens.dialogs import TextScreen
from migtui.tui.app import MigtuiApp
from migtui.widgets.status_line import fit
from projectkit.genproject import generate_project
from projectkit.templates import ENV_ASYNC

NAMES = ("organization_membership_invitations", "organization_membership_requests",
         "organization_member_roles", "organization_invitation_tokens",
         "evaluation_dataset_records", "evaluation_dataset_versions", "users")


def _upgrade(folder: Path, target: str = "head") -> None:
    with captured():
        command.upgrade(Config(str(folder / "alembic.ini")), target)


def _many_tables(tmp_path: Path) -> Path:
    create = "\n".join(f'op.create_table("{n}", sa.Column("id", sa.Integer(), '
                       'primary_key=True))' for n in NAMES)
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"), revisions=[
        Rev("a1a1a1a1a1a1", None, "tables", upgrade=create)])
    _upgrade(folder)
    return folder


def _region_lines(app: MigtuiApp, selector: str) -> list[str]:
    """The lines of one widget as the terminal shows them."""
    region = app.screen.query_one(selector).region
    lines = screen_lines(app)
    return [lines[y][region.x:region.right].rstrip() for y in range(region.y, region.bottom)]


def _footer(app: MigtuiApp) -> str:
    return screen_lines(app)[-1]


async def test_table_names_whole_at_160_columns(tmp_path: Path) -> None:
    app = make_app(_many_tables(tmp_path))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        shown = "\n".join(_region_lines(app, "#table-list"))
        for name in NAMES:
            assert f" {name} " in f" {shown} ", shown
        assert "…" not in shown
        side = app.screen.query_one("#tables-side").region.width
        assert len(NAMES[0]) < side <= 160 * 0.4  # sized to the names, not a fixed 38


async def test_table_names_cut_in_the_middle_at_80_columns(tmp_path: Path) -> None:
    app = make_app(_many_tables(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        shown = [line.split()[0] for line in _region_lines(app, "#table-list") if line.strip()]
        assert "organization…_invitations" in shown, shown
        assert "organization…hip_requests" in shown, shown
        assert "users" in shown and "organization_member_roles" in shown
        assert len(set(shown)) == len(shown)  # no two names read the same
        assert app.screen.query_one("#tables-side").region.width <= 32  # 40% of 80


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_every_footer_keeps_quit_and_help(tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(_many_tables(tmp_path))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for key in ("g", "a", "t", "w"):
            await pilot.press(key)
            await settle(pilot)
            footer = _footer(app)
            assert "q Quit" in footer and "? Help" in footer, (key, footer)
            assert footer.index("q Quit") < footer.index("▏^p palette"), footer


async def test_error_toast_does_not_cover_its_details(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"), revisions=[
        Rev("a1a1a1a1a1a1", None, "users", "users"),
        Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "broken step",
            upgrade='op.execute("INSERT INTO no_such_table VALUES (1)")')])
    _upgrade(folder, "a1a1a1a1a1a1")
    app = make_app(folder)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert any("(e: details)" in line for line in screen_lines(app)), "the toast shows"
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, TextScreen)
        shown = "\n".join(screen_lines(app))
        assert "(e: details)" not in shown and "Failed" not in shown  # no toast over it
        assert "Upgrade failed in upgrade a1a1a1a1a1a1 -> b2b2b2b2b2b2:" in shown


LONG = " ".join(["this offline render cannot go on because the helper needs a live"
                 " connection"] * 6)


async def test_sql_preview_explanation_wraps_on_words(tmp_path: Path) -> None:
    raises = f'if op.get_context().as_sql:\n    raise RuntimeError("{LONG}")'
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"), revisions=[
        Rev("a1a1a1a1a1a1", None, "users", "users"),
        Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "needs a connection", upgrade=raises)])
    _upgrade(folder, "a1a1a1a1a1a1")
    app = make_app(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        # All of its lines, as scrolling the dialog shows them (at 80x24 the dialog's
        # body is shorter than the explanation).
        sql = app.screen.query_one("#confirm-sql", Static)
        strips = sql.render_lines(Region(0, 0, sql.size.width, sql.size.height))
        lines = ["".join(segment.text for segment in strip).strip() for strip in strips]
        assert sql.size.width < 80
        text = " ".join(line for line in lines if line)
        assert text.startswith("SQL preview unavailable: "), lines
        words = set(f"Cannot render the SQL: RuntimeError: {LONG}".split())
        shown = text.removeprefix("SQL preview unavailable: ").split()
        assert shown[-1].endswith("…") and len(shown) > 20  # cut, at the end of a word
        for word in shown:
            assert word.removesuffix("…") in words, (word, lines)  # no word cut or split


def _long_note_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Run in the project's folder, as migtui is. Two heads and a SQLite file that does not
    # exist yet: the warning and the note ("… does not exist yet: the first upgrade
    # creates it") do not fit in 160 columns.
    folder = write_project(tmp_path / "p", url=f"sqlite:///{'a_long_database_name_' * 3}.db",
                           revisions=TWO_HEADS)
    monkeypatch.chdir(folder)
    return folder


async def test_status_line_keeps_to_one_line_at_160_columns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(_long_note_project(tmp_path, monkeypatch))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        full = " ".join(status_text(app).split())
        assert "the first upgrade creates it" in full and len(full) > 160
        lines = _region_lines(app, "StatusLine")
        assert len(lines) == 1, lines
        assert lines[0].endswith("…") and len(lines[0]) <= 160
        assert "current: base  3 pending  ⚠ 2 heads: merge them with m" in lines[0]


async def test_status_line_takes_two_lines_at_80_columns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(_long_note_project(tmp_path, monkeypatch))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = _region_lines(app, "StatusLine")
        assert len(lines) == 2 and lines[-1].endswith("…"), lines
        shown = " ".join(lines)
        assert "current: base  3 pending" in shown, lines
        assert "sqlite:///" in shown and "…" in shown.split()[1], lines  # URL cut in the middle


@pytest.mark.parametrize("exists", [False, True], ids=["file missing", "file exists"])
async def test_url_names_the_driver_env_py_uses(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exists: bool) -> None:
    database = tmp_path / "async.db"
    folder = write_project(tmp_path / "p", ENV_ASYNC, url=async_sqlite_url(database))
    monkeypatch.chdir(folder)
    if exists:
        await asyncio.to_thread(_upgrade, folder, "+1")  # (asyncio.run inside env.py)
        assert database.exists()
    app = make_app(folder)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        first = _region_lines(app, "StatusLine")[0]
        assert f"sqlite+aiosqlite:///{database}" in first, first


async def test_status_line_breaks_between_words_at_80_columns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_project(tmp_path / "p", ENV_ASYNC,
                           url=async_sqlite_url(tmp_path / "async.db"))
    monkeypatch.chdir(folder)
    app = make_app(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        words = status_text(app).split()
        lines = _region_lines(app, "StatusLine")
        assert len(lines) == 2 and lines[1].endswith("…"), lines
        first = lines[0].split()
        assert first[0] == words[0] and "…" in first[1]  # the URL cut in the middle
        assert first[1].startswith("sqlite+aiosqlite:///") and first[1].endswith("/async.db")
        second = lines[1].split()
        assert second[:-1] == words[2:1 + len(second)], lines  # it breaks between words
        assert "current: base  2 pending" in lines[1], lines


@pytest.mark.parametrize("url_cells", [46, 47, 52])
def test_status_line_keeps_current_with_its_revision(url_cells: int) -> None:
    # 80 columns hold 78 cells of status: "alembic.ini  " (13), a 46-cell URL,
    # " (sqlite)  " (11) and "current:" (8) make 78, where a plain wrap breaks.
    url = "sqlite:///" + "d" * (url_cells - 13) + ".db"
    status = Text(f"alembic.ini  {url} (sqlite)  current: 3f1a2c9d0b11  2 pending")
    console = Console(width=78)
    assert status.wrap(console, 78)[0].plain.rstrip().endswith(
        "current:" if url_cells == 46 else "(sqlite)")
    shown = fit(status, 78, console, [url], essential=len(status.plain))
    lines = [line.plain.rstrip() for line in shown.wrap(console, 78)]  # (as drawn)
    assert lines == [f"alembic.ini  {url} (sqlite)", "current: 3f1a2c9d0b11  2 pending"]


async def test_confirmation_shows_its_plan_at_80x24(tmp_path: Path) -> None:
    # On SQLite the checks explain at length what a failed step leaves behind: that
    # comes after the plan, in the body that scrolls, and the plan's steps are in view.
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"), revisions=[
        Rev("a1a1a1a1a1a1", None, "users", "users"),
        Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "create gadget", upgrade=(
            'op.create_table("gadget", sa.Column("id", sa.Integer(), primary_key=True), '
            'sa.Column("name", sa.String(50)))\nop.execute("UPDATE users SET name = name")'))])
    _upgrade(folder, "a1a1a1a1a1a1")
    app = make_app(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        lines = [line.strip(" █▀▄▆▅▂▇▁▃") for line in _region_lines(app, "#dialog")]
        words = " ".join(" ".join(lines).split())
        assert "1. upgrade b2b2b2b2b2b2 create gadget" in words, lines
        assert "create_table('gadget', 2 columns)" in words, lines
        assert "execute(UPDATE users SET name = name)" in words, lines
        # The long note is there, after the plan, and the body scrolls to it.
        checks = app.screen.query_one("#confirm-checks", Static)
        assert "Not always rolled back whole" in widget_text(checks)
        assert isinstance(app.focused, Button)  # (not the body)
        seen = []
        for _ in range(4):  # page down scrolls the body all the same (review)
            await pilot.press("pagedown")
            await settle(pilot)
            lines = [line.strip(" █▀▄▆▅▂▇▁▃") for line in _region_lines(app, "#dialog")]
            seen.append(" ".join(" ".join(lines).split()))
        assert any("names the revision before it" in words for words in seen), seen
        # The database in one line, cut in the middle: its file's name stays.
        where = next(line for line in lines if line.startswith("on "))
        assert "…" in where and where.endswith("/db.sqlite"), where


async def test_no_rollback_on_mariadb_is_said_under_the_title_at_80x24(
        tmp_path: Path, mariadb_url: str) -> None:
    folder = write_project(tmp_path / "p", url=mariadb_url, revisions=[
        Rev("a1a1a1a1a1a1", None, "users", "users"),
        Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "create gadget", "gadget")])
    _upgrade(folder, "a1a1a1a1a1a1")
    app = make_app(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        lines = [line.strip(" █▀▄▆▅▂▇▁▃") for line in _region_lines(app, "#dialog")]
        top = " ".join(" ".join(lines[:6]).split())
        assert "⚠ No rollback here: a step that fails halfway stays half applied" in top, lines


async def test_short_names_keep_one_line_each_at_220_columns(tmp_path: Path) -> None:
    # The 300-revision generated project: 150-odd tables named t_N, their rows counted.
    folder = tmp_path / "big"
    generate_project(folder, 300, branch_every=120, heads=1,
                     url=sqlite_url(tmp_path / "big.sqlite"))
    _upgrade(folder)
    app = make_app(folder)
    async with app.run_test(size=(220, 60)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        lines = [line.strip().rstrip("▁▂▃▄▅▆▇█ ")  # (the scrollbar's thumb)
                 for line in _region_lines(app, "#table-list") if line.strip()]
        assert len(lines) >= 50 and lines[0].split() == ["alembic_version", "1"], lines
        wrapped = [line for line in lines[1:] if line.split()[1:2] != ["0"]]
        assert not wrapped, wrapped  # every entry on one line
        assert app.screen.query_one("#tables-side").region.width == 24  # the least
