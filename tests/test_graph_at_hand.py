"""The first graph read on the UI thread, in the very first frame, when that is safe and
quick: the header cache warm, no revision module to import, a few files at most to read
(issue 15). Otherwise the load worker reads it, as for a first open."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from loading_helpers import CHAIN, alembic_graph, make_project, open_project, rev_file
from projects import LINEAR

from migtui.core.actions.project import AT_HAND_READS
from migtui.screens.graph import GraphScreen
from tests.ui_helpers import make_app, row_of, settle


def _warm(folder: Path) -> None:
    """A first session's read: the header cache then holds every file."""
    open_project(folder).graph()


def test_a_warm_cache_gives_the_graph_at_hand(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    _warm(folder)
    at_hand = open_project(folder).graph_at_hand()
    assert at_hand is not None
    assert at_hand == open_project(folder).graph()
    assert at_hand.revisions[0].revision == CHAIN[-1].revision


def test_a_file_edited_since_is_read_at_hand(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    _warm(folder)
    path = rev_file(folder, CHAIN[-1])
    path.write_text(path.read_text().replace("create doohickey", "create a thingamajig"))
    at_hand = open_project(folder).graph_at_hand()
    assert at_hand is not None
    assert at_hand.revisions[0].message == "create a thingamajig"


def test_a_revision_to_import_is_never_imported_at_hand(tmp_path: Path) -> None:
    """A header only an import can tell: no code of the project runs on the UI thread
    (it may hang); the worker imports it later, as Alembic would."""
    folder = make_project(tmp_path / "p", CHAIN)
    _warm(folder)
    marker = tmp_path / "imported"
    path = rev_file(folder, CHAIN[-1])
    rev = CHAIN[-1].revision
    source = path.read_text().replace(
        f"revision = {rev!r}",
        f"open({str(marker)!r}, 'w').close()\nrevision = {rev[:6]!r} + {rev[6:]!r}")
    assert source != path.read_text()
    path.write_text(source)
    project = open_project(folder)
    assert project.graph_at_hand() is None
    assert not marker.exists()
    assert project.graph().revisions[0].revision == CHAIN[-1].revision
    assert marker.exists()  # (the load worker's read imports it)


def test_a_first_open_of_a_few_plain_files_is_at_hand(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No cache yet: the .ini says where the files are, and a few are read at once."""
    folder = make_project(tmp_path / "p", LINEAR)
    monkeypatch.chdir(folder)  # (`migtui` run there: the .ini read without Alembic)
    at_hand = open_project(folder).graph_at_hand()
    assert at_hand is not None
    assert at_hand.revisions == alembic_graph(folder).revisions


def test_many_files_to_read_are_left_to_the_worker(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    _warm(folder)
    versions = rev_file(folder, CHAIN[0]).parent
    down = CHAIN[-1].revision
    for n in range(AT_HAND_READS + 1):  # uncached files, each one read to know its header
        rev = f"{n:012x}"
        (versions / f"{rev}_more.py").write_text(
            f'"""more {n}"""\nrevision = "{rev}"\ndown_revision = "{down}"\n'
            "branch_labels = None\ndepends_on = None\n")
        down = rev
    project = open_project(folder)
    assert project.graph_at_hand() is None
    assert project.graph().revisions[0].revision == down


async def test_the_first_frame_holds_the_graph_with_a_warm_cache(tmp_path: Path) -> None:
    """The graph screen is made with the graph already in it: no frame without rows,
    and no worker needed for it."""
    folder = make_project(tmp_path / "p", CHAIN)
    _warm(folder)
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, GraphScreen)
        # As soon as the app is ready: the screen's first frame was drawn with these.
        assert [row.revision.revision for row in screen.graph_view.rows][:1] == [
            CHAIN[-1].revision]
        await settle(pilot)
        assert app.state.snapshot is not None and app.state.snapshot.database.reachable
        assert "create doohickey" in row_of(app, CHAIN[-1].revision)


async def test_a_cold_cache_draws_the_graph_from_the_worker(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, GraphScreen)
        assert screen.graph_view.rows[0].revision.revision == CHAIN[-1].revision
        assert app.state.snapshot is not None and app.state.snapshot.database.reachable


def test_the_first_rows_marks_are_read_ahead_until_told_to_stop(tmp_path: Path) -> None:
    """While the database is read in another process the load worker reads the sources
    the first rows' marks need, so the UI thread does not parse them as it draws."""
    from migtui.core.actions.plan import read_marks_ahead
    from migtui.core.revisions import reader

    folder = make_project(tmp_path / "p", CHAIN)
    graph = open_project(folder).graph()
    paths = [rev.path for rev in graph.revisions]

    def read(path: str | None) -> bool:
        entry = reader._ENTRIES.get(str(path))
        return entry is not None and "functions" in entry.derived

    read_marks_ahead(graph, 2, lambda: True)
    assert not any(read(p) for p in paths)
    read_marks_ahead(graph, 2, lambda: False)
    assert [read(p) for p in paths] == [True, True, False, False]


async def test_the_collector_paused_for_the_start_is_back_on_once_painted(
        tmp_path: Path) -> None:
    """`migtui` starts with Python's garbage collector off (cli.run); the app turns it
    back on after its first frame, the objects of the start frozen (never walked again)."""
    folder = make_project(tmp_path / "p", CHAIN)
    _warm(folder)
    app = make_app(folder)
    app.collector_paused = True
    gc.disable()
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0
            assert row_of(app, CHAIN[-1].revision)  # (the graph drawn meanwhile)
    finally:
        gc.enable()
        gc.unfreeze()


async def test_the_collector_is_left_alone_when_not_paused(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    app = make_app(folder)
    gc.disable()  # (as an embedding program might have it)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            assert not gc.isenabled()
    finally:
        gc.enable()
