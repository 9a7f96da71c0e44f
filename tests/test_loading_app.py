"""Broken and changing revision files, as the user sees them in the real app."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from loading_helpers import CHAIN, make_project, open_project, rev_file, write_revision
from textual.widgets import Button, Static
from ui_helpers import graph_lines, make_app, row_of, settle, status_text, wait_for, widget_text

from migtui.screens.confirm import ConfirmScreen
from migtui.screens.dialogs import TextScreen
from migtui.tui.app import MigtuiApp


def status(app: MigtuiApp) -> str:
    """The status line's words on one line."""
    return " ".join(status_text(app).split())


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own on-disk header cache."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MIGTUI_CACHE_DIR", str(folder))
    yield folder


def _third_file_broken(tmp_path: Path) -> Path:
    """A project of CHAIN whose third revision file Python cannot read."""
    folder = make_project(tmp_path / "p", CHAIN)
    broken = rev_file(folder, CHAIN[2])
    broken.write_text(broken.read_text().replace("def downgrade() -> None:",
                                                 "def downgrade( -> None:"))
    return folder


async def test_a_syntax_error_is_listed_and_the_rest_shown(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    broken = rev_file(folder, CHAIN[3])
    broken.write_text(broken.read_text().replace("down_revision = ", "down_revision = ("))
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert [line.split()[1] for line in graph_lines(app)] == [
            "c3c3c3c3c3c3", "b2b2b2b2b2b2", "a1a1a1a1a1a1"]
        assert "⚠ 1 broken revision file (e: details)" in status(app)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        shown = widget_text(app.screen.query_one("#text-content", Static))
        assert f"{broken.name}, line 11: SyntaxError" in shown
        assert str(broken) in shown


async def test_a_file_raising_on_import_is_found_after_showing(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN[:2])
    raising = write_revision(folder / "migrations" / "versions" / "c3_raises.py",
                             "c3c3c3c3c3c3", "b2b2b2b2b2b2", "import no_such_module_here\n")
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)  # the load worker shows the graph, then imports unchecked files
        assert "(head)" in row_of(app, "c3c3c3c3c3c3")
        assert "⚠ 1 broken revision file" in status(app)
        assert app.state.last_error is not None
        message, details = app.state.last_error
        assert "1 broken revision file" in message
        assert f"{raising.name}, line 12" in details and "no_such_module_here" in details


async def test_an_upgrade_says_which_file_is_broken(tmp_path: Path) -> None:
    """Alembic would refuse the plan: the confirmation says why and offers only Cancel."""
    folder = _third_file_broken(tmp_path)
    broken = rev_file(folder, CHAIN[2])
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        refusal = widget_text(app.screen.query_one("#confirm-refusal", Static))
        assert "Alembic refuses to run anything" in refusal and broken.name in refusal
        assert [b.id for b in app.screen.query(Button)] == ["no"]
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)  # y does nothing here
        await pilot.press("escape")
        await settle(pilot)
        assert app.state.last_result is None
        assert open_project(folder).status().current_heads == ()  # nothing ran


async def test_an_edited_and_an_added_file_show_after_refresh(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN[:2])
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        edited = rev_file(folder, CHAIN[1])
        edited.write_text(edited.read_text().replace("create gadget", "make a gadget"))
        write_revision(folder / "migrations" / "versions" / "c3_new.py", "c3c3c3c3c3c3",
                       "b2b2b2b2b2b2", message="added while open")
        await pilot.press("r")
        await settle(pilot)
        assert "make a gadget" in row_of(app, "b2b2b2b2b2b2")
        assert "added while open" in row_of(app, "c3c3c3c3c3c3")
        assert "(head)" in row_of(app, "c3c3c3c3c3c3")


async def test_a_deleted_file_the_database_is_on(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN[:3])
    assert open_project(folder).upgrade("heads").ok
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert "(current)" in row_of(app, "c3c3c3c3c3c3")
        rev_file(folder, CHAIN[2]).unlink()
        await pilot.press("r")
        await settle(pilot)
        assert all("c3c3c3c3c3c3" not in line for line in graph_lines(app))
        assert "c3c3c3c3c3c3, which no file defines" in status(app)


async def test_an_empty_versions_folder_opens(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", ())
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert graph_lines(app) == []
        assert "up to date" in status(app) and "⚠" not in status(app)


async def test_a_file_python_cannot_read_is_marked_on_its_row_and_its_details_say_why(
        tmp_path: Path) -> None:
    """The row of a revision whose file has a syntax error says so; ⏎ shows the whole
    file with line numbers and the error, not "upgrade(): not found"."""
    folder = _third_file_broken(tmp_path)
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert "⚠ broken file (e: why)" in row_of(app, CHAIN[2].revision)
        assert "broken file" not in row_of(app, CHAIN[1].revision)
        graph = app.screen.query_one("RevisionGraphView")
        for _ in range(len(CHAIN)):  # down to its row
            if graph.selected.revision == CHAIN[2].revision:
                break
            await pilot.press("down")
        # e on its row: why its file is broken, even after another error (review: e
        # showed the last failed migration's error instead)
        app.state = replace(app.state, last_error=("Upgrade failed: an earlier error", ""))
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, TextScreen)
        said = widget_text(app.screen.query_one("#text-content", Static))
        assert "SyntaxError" in said and "an earlier error" not in said, said
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        source = widget_text(app.screen.query_one("#details-source", Static))
        assert "⚠ This file cannot be read as Python: SyntaxError:" in source
        assert "(line " in source and "not found in the file" not in source
        assert "def downgrade( -> None:" in source


@pytest.mark.parametrize("noticed_by", ["r", "watcher"])
async def test_a_file_rewritten_keeping_its_size_and_mtime_is_shown(
        tmp_path: Path, noticed_by: str) -> None:
    """`r` checks every file's bytes; with no `r`, the versions folder's watcher saw the
    file written, so it is read again even though its size and mtime stayed (`cp -p`,
    `touch -r`)."""
    from loading_helpers import same_stamp_rewrite

    folder = make_project(tmp_path / "p", CHAIN)
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert "create doohickey" in row_of(app, CHAIN[-1].revision)
        path = rev_file(folder, CHAIN[-1])
        same_stamp_rewrite(path, path.read_text().replace("create doohickey",
                                                          "CRAFTS DOOHICKEY"))
        if noticed_by == "r":
            await pilot.press("r")
            await settle(pilot)
            assert "CRAFTS DOOHICKEY" in row_of(app, CHAIN[-1].revision)
        else:
            await wait_for(pilot,
                           lambda: "CRAFTS DOOHICKEY" in row_of(app, CHAIN[-1].revision))
