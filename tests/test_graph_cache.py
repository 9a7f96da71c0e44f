"""The graph the last start built, drawn in the next start's first frame (issue 15): only
for exactly the same files, and never used for anything but that first frame: the graph
is built from the files' headers before anything else reads it, and replaces the
preview where the two differ."""

from __future__ import annotations

import marshal
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loading_helpers import CHAIN, alembic_graph, make_project, open_project, rev_file

from migtui.core.revisions import graphcache
from migtui.screens.graph import GraphScreen
from migtui.widgets.revision_graph import RevisionGraphView
from tests.ui_helpers import make_app, row_of, settle, wait_for


def _cache_file() -> Path:
    """The one graph cache file the tests' cache folder holds."""
    files = list(Path(os.environ["MIGTUI_CACHE_DIR"]).glob("graph-*.bin"))
    assert len(files) == 1, files
    return files[0]


def _tamper(message: str) -> None:
    """Change the head's message in the graph cache, leaving its key as it is: a preview
    that no longer agrees with the headers (as one written before Alembic's import
    corrected a header would)."""
    _rewrite(lambda graph: graph[0][0].update(message=message))


def _rewrite(change: Callable[[Any], object], stamp: str | None = None) -> None:
    """Change the graph in the cache file (revisions, lanes, heads, bases, problems) and
    seal it again, as a file of this migtui would be (``stamp``: another code stamp)."""
    path = _cache_file()
    form, code, files, _seal, body = marshal.loads(path.read_bytes())
    graph = marshal.loads(body)
    change(graph)
    body = marshal.dumps(graph)
    path.write_bytes(marshal.dumps((form, code if stamp is None else stamp, files,
                                    graphcache._seal(body), body)))


def test_a_start_keeps_the_graph_it_built_for_the_next(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    built = open_project(folder).graph()
    project = open_project(folder)
    preview = project.graph_at_hand()
    assert preview == built == alembic_graph(folder)
    assert preview is not None and preview is project.graph()  # the same: drawn once


def test_the_files_headers_replace_a_preview_that_differs(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    open_project(folder).graph()
    _tamper("what the cache says")
    project = open_project(folder)
    preview = project.graph_at_hand()
    assert preview is not None and preview.revisions[0].message == "what the cache says"
    graph = project.graph()
    assert graph.revisions[0].message == "create doohickey"
    assert graph == alembic_graph(folder)
    # ... and the cache holds that one for the next start.
    assert open_project(folder).graph_at_hand() == graph


def test_an_edited_file_is_never_drawn_from_the_cache(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    open_project(folder).graph()
    path = rev_file(folder, CHAIN[-1])
    path.write_text(path.read_text().replace("create doohickey", "make a doohickey"))
    assert open_project(folder).graph_at_hand().revisions[0].message == "make a doohickey"  # type: ignore[union-attr]


def test_an_added_or_removed_file_is_a_miss(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    open_project(folder).graph()
    rev_file(folder, CHAIN[-1]).unlink()
    graph = open_project(folder).graph_at_hand()
    assert graph is not None and graph.heads == (CHAIN[-2].revision,)


def test_an_unreadable_cache_file_is_ignored(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    open_project(folder).graph()
    whole = _cache_file().read_bytes()
    head = marshal.loads(whole)[:3]
    flipped = bytearray(whole)
    flipped[len(whole) // 2] ^= 0x01  # one bit of the graph: the seal no longer holds
    for blob in (b"{not marshal", whole[: len(whole) // 2], bytes(flipped),
                 marshal.dumps({"format": 1}), marshal.dumps([]),
                 marshal.dumps((*head, "", marshal.dumps(([{"x": 1}], [(0, "●")], (), (), [])))),
                 marshal.dumps((*head, graphcache._seal(b"x"), b"x"))):
        _cache_file().write_bytes(blob)
        graph = open_project(folder).graph_at_hand()
        assert graph == alembic_graph(folder)


def test_another_migtui_never_reuses_a_graph(tmp_path: Path) -> None:
    """A graph built by other code (an upgrade, an edit of the builder) is a miss."""
    folder = make_project(tmp_path / "p", CHAIN)
    open_project(folder).graph()
    assert marshal.loads(_cache_file().read_bytes())[1] == graphcache._code_stamp()
    _rewrite(lambda graph: graph[0][0].update(message="an older migtui's"),
             stamp="0.0.1|other")
    assert open_project(folder).graph_at_hand().revisions[0].message == "create doohickey"  # type: ignore[union-attr]


def test_an_action_after_a_preview_uses_the_files(tmp_path: Path) -> None:
    """script_for_action (what every step gets) reads the headers first."""
    folder = make_project(tmp_path / "p", CHAIN)
    open_project(folder).graph()
    _tamper("what the cache says")
    project = open_project(folder)
    assert project.graph_at_hand().revisions[0].message == "what the cache says"  # type: ignore[union-attr]
    assert not project.revisions.changed_on_disk()
    script = project.revisions.script_for_action()
    assert script.get_current_head() == CHAIN[-1].revision
    assert project.graph().revisions[0].message == "create doohickey"
    result = project.upgrade("head")
    assert result.ok, result.error
    assert project.snapshot().database.current_heads == (CHAIN[-1].revision,)


async def test_the_screen_shows_the_headers_once_read(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    open_project(folder).graph()
    _tamper("what the cache says")
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, GraphScreen)
        assert screen.graph_view.rows[0].revision.message == "what the cache says"
        await settle(pilot)
        await wait_for(pilot, lambda: "create doohickey" in row_of(app, CHAIN[-1].revision))
        assert "what the cache says" not in row_of(app, CHAIN[-1].revision)
        assert app.state.snapshot is not None
        assert app.state.snapshot.graph == alembic_graph(folder)


def test_projects_of_one_script_directory_write_it_once(tmp_path: Path) -> None:
    """Each environment has a project of its own; the graph is written once, and again
    only when it changes."""
    folder = make_project(tmp_path / "p", CHAIN)
    open_project(folder).graph()
    written = _cache_file().stat().st_mtime_ns
    os.utime(_cache_file(), ns=(written - 10**9, written - 10**9))
    for _ in range(3):
        open_project(folder).graph()
    assert _cache_file().stat().st_mtime_ns == written - 10**9
    path = rev_file(folder, CHAIN[-1])
    path.write_text(path.read_text().replace("create doohickey", "make a doohickey"))
    open_project(folder).graph()
    assert _cache_file().stat().st_mtime_ns != written - 10**9
    assert open_project(folder).graph_at_hand().revisions[0].message == "make a doohickey"  # type: ignore[union-attr]


def test_an_older_format_file_is_removed_when_a_graph_is_kept(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    old = Path(os.environ["MIGTUI_CACHE_DIR"]) / "graph-0123456789abcdef0123.json"
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_text('{"format": 1}')
    open_project(folder).graph()
    assert not old.exists()
    assert _cache_file().exists()


async def test_a_corrected_preview_leaves_the_cursor_on_the_newest(tmp_path: Path) -> None:
    """The preview's top row is not the head (its cache was built from other files):
    once the headers are read, the untouched cursor is on the real head, at the top,
    not dragged down after the revision it first stood on."""
    folder = make_project(tmp_path / "p", CHAIN)
    open_project(folder).graph()
    _rewrite(lambda graph: [part.append(part.pop(0)) for part in graph[:2]])
    app = make_app(folder)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(RevisionGraphView)
        assert view.rows.revision_at(0).revision == CHAIN[-1].revision
        assert view.cursor == 0 and view.selected is not None
        assert view.selected.revision == CHAIN[-1].revision
