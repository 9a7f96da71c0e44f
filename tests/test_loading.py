"""Loading revisions fast: agreement with Alembic, and changes on disk.

Issue 7: the fast graph (headers read without imports, cached by path/size/mtime) must
equal the graph built from Alembic's ScriptDirectory, and follow the files as they change.
Broken files and histories: test_loading_broken.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from loading_helpers import (
    CHAIN,
    LABELLED,
    alembic_graph,
    make_project,
    open_project,
    rev_file,
    same_stamp_rewrite,
    touch_later,
    write_revision,
)
from projects import LINEAR, RICH, TWO_HEADS, Rev

from projectkit.genproject import generate_project


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own on-disk header cache."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MIGTUI_CACHE_DIR", str(folder))
    yield folder


# -- agreement with Alembic ----------------------------------------------------------


@pytest.mark.parametrize(
    ("revisions", "branch_every", "heads"),
    [(60, 0, 1), (90, 12, 1), (60, 10, 2), (1, 0, 1)],
    ids=["linear", "branched", "two-heads", "single"],
)
def test_fast_graph_equals_alembic_on_generated_projects(
    tmp_path: Path, revisions: int, branch_every: int, heads: int
) -> None:
    generate_project(tmp_path / "p", revisions, branch_every=branch_every, heads=heads)
    fast = open_project(tmp_path / "p").graph()
    assert fast == alembic_graph(tmp_path / "p")
    assert len(fast) == revisions and len(fast.heads) == heads and not fast.problems


@pytest.mark.parametrize("revisions", [LINEAR, TWO_HEADS, RICH, LABELLED, CHAIN],
                         ids=["linear", "two-heads", "rich", "labelled", "chain"])
def test_fast_graph_equals_alembic_on_test_projects(
    tmp_path: Path, revisions: tuple[Rev, ...]
) -> None:
    folder = make_project(tmp_path / "p", revisions)
    fast = open_project(folder).graph()
    assert fast == alembic_graph(folder)
    assert not fast.problems


def test_labels_spread_and_depends_on_resolve_like_alembic(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", LABELLED)
    graph = open_project(folder).graph()
    labels = {r.revision[:2]: r.branch_labels for r in graph}
    # A label covers its revision's descendants...
    assert labels["b2"] == labels["c3"] == labels["d4"] == labels["f6"] == ("core",)
    assert labels["e5"] == labels["a7"] == ("core", "feat")
    assert labels["a1"] == ()
    # ...and, when those form a single line, the line below it down to a branch point.
    assert labels["1a"] == labels["2b"] == labels["3c"] == ("lone",)
    assert labels["b8"] == labels["c9"] == labels["d0"] == ("extra", "more")
    deps = {r.revision[:2]: r.dependencies for r in graph}
    assert deps["c9"] == ("e5e5e5e5e5e5",) and deps["d0"] == ("c3c3c3c3c3c3",)
    assert graph == alembic_graph(folder)


def test_fast_graph_equals_alembic_on_the_sample(sample_sqlite: Path) -> None:
    fast = open_project(sample_sqlite).graph()
    assert fast == alembic_graph(sample_sqlite) and len(fast) >= 2


def test_files_that_are_not_plain_are_imported_like_alembic(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN[:2])
    versions = folder / "migrations" / "versions"
    # Computed values: only importing the file can tell.
    write_revision(versions / "c_computed.py", "", None, header=(
        "PARENT = 'b2b2' + 'b2b2b2b2'\nrevision = 'c3c3c3c3c3c3'\n"
        "down_revision = PARENT\nbranch_labels = None\ndepends_on = None\n"))
    # Rebound later in the module: the literal at the top is not what Alembic sees.
    write_revision(versions / "d_rebound.py", "d4d4d4d4d4d4", "a1a1a1a1a1a1", """
        if True:
            down_revision = 'c3c3c3c3c3c3'
        """)
    graph = open_project(folder).graph()
    assert graph == alembic_graph(folder)
    assert graph.get("d4d4d4d4d4d4").down_revisions == ("c3c3c3c3c3c3",)  # type: ignore[union-attr]
    assert graph.heads == ("d4d4d4d4d4d4",)


def test_thousands_of_files_and_unrelated_files(tmp_path: Path) -> None:
    ids = generate_project(tmp_path / "p", 2000, branch_every=40)
    versions = tmp_path / "p" / "migrations" / "versions"
    (versions / "__init__.py").write_text("")
    (versions / "notes.txt").write_text("revision = 'nope'\n")
    (versions / "README.md").write_text("# notes\n")
    (versions / ".#lock.py").write_text("garbage(")
    (versions / "__pycache__").mkdir()
    (versions / "__pycache__" / "stale.cpython-311.pyc").write_bytes(b"\x00junk")
    (versions / "old.pyc").write_bytes(b"\x00junk")
    graph = open_project(tmp_path / "p").graph()
    assert sorted(r.revision for r in graph) == sorted(ids)
    assert not graph.problems
    assert graph == alembic_graph(tmp_path / "p")


def test_an_empty_versions_folder(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", ())
    project = open_project(folder)
    graph = project.graph()
    assert len(graph) == 0 and not graph.problems and graph.heads == ()
    assert project.snapshot().pending == ()


# -- changes on disk -----------------------------------------------------------------


def test_refresh_reads_only_changed_files(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    project = open_project(folder)
    project.graph()
    # Same size and mtime: a (path, size, mtime) cache must not notice...
    quiet = rev_file(folder, CHAIN[0])
    same_stamp_rewrite(quiet, quiet.read_text().replace("create widget", "CREATE WIDGET"))
    # ...while an edited file (new mtime) is read again.
    edited = rev_file(folder, CHAIN[1])
    edited.write_text(edited.read_text().replace("create gadget", "make a gadget"))
    touch_later(edited)
    project.reload()
    graph = project.graph()
    assert graph.get("a1a1a1a1a1a1").message == "create widget"  # type: ignore[union-attr]
    assert graph.get("b2b2b2b2b2b2").message == "make a gadget"  # type: ignore[union-attr]
    # A new Project in this process is served the same way (a new process checks the
    # cached headers against the files' bytes: the test below).
    assert open_project(folder).graph().get("a1a1a1a1a1a1").message == "create widget"  # type: ignore[union-attr]


def test_added_and_deleted_files_are_picked_up(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN[:2])
    project = open_project(folder)
    assert len(project.graph()) == 2
    write_revision(folder / "migrations" / "versions" / "c3_new.py", "c3c3c3c3c3c3",
                   "b2b2b2b2b2b2", message="added while open")
    assert len(project.graph()) == 2  # cached until refreshed
    project.reload()
    assert project.graph().heads == ("c3c3c3c3c3c3",)
    (folder / "migrations" / "versions" / "c3_new.py").unlink()
    project.reload()
    assert project.graph().heads == ("b2b2b2b2b2b2",)


def test_actions_reuse_the_script_directory_until_files_change(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN[:2])
    project = open_project(folder)
    project.graph()
    script = project.script()
    assert project.upgrade("+1").ok and project.upgrade("+1").ok
    assert project.downgrade("-1").ok
    assert project.script() is script, "no new ScriptDirectory per action"
    # A file added on disk is seen by the next action even without a refresh.
    write_revision(folder / "migrations" / "versions" / "c3_new.py", "c3c3c3c3c3c3",
                   "b2b2b2b2b2b2")
    assert project.upgrade("heads").ok
    assert project.status().current_heads == ("c3c3c3c3c3c3",)
    assert project.script() is not script


def test_a_deleted_file_the_database_sits_on(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN[:3])
    project = open_project(folder)
    assert project.upgrade("heads").ok
    rev_file(folder, CHAIN[2]).unlink()
    project.reload()
    snapshot = project.snapshot()
    assert snapshot.database.current_heads == ("c3c3c3c3c3c3",)
    assert "c3c3c3c3c3c3" not in snapshot.graph and not snapshot.graph.problems


def test_a_header_taken_from_the_project_package_is_read_as_alembic_reads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A revision whose down_revision comes from the project's own package: imported
    with prepend_sys_path first on sys.path, as `alembic history` imports it."""
    folder = make_project(tmp_path / "p", CHAIN)
    monkeypatch.chdir(folder)  # (prepend_sys_path = . is the working folder)
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    package = folder / "computedparentpkg"
    package.mkdir()
    (package / "__init__.py").write_text(f"DOWN = {CHAIN[-1].revision!r}\n")
    write_revision(folder / "migrations" / "versions" / "d1_computed.py", "d1d1d1d1d1d1",
                   None, header="from computedparentpkg import DOWN\n\nrevision = "
                   "'d1d1d1d1d1d1'\ndown_revision = DOWN\nbranch_labels = None\n"
                   "depends_on = None\n")
    try:
        graph = open_project(folder).graph()
        assert not graph.problems, graph.problems
        assert graph.heads == ("d1d1d1d1d1d1",)
        assert graph == alembic_graph(folder)
    finally:
        __import__("sys").modules.pop("computedparentpkg", None)


_NEW_PROCESS = """
import json, sys
from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
project = Project.open(ProjectOptions(cwd=sys.argv[1]))
at_hand = project.graph_at_hand()
graph = project.graph()
print(json.dumps({"at_hand": [r.message for r in at_hand] if at_hand else None,
                  "graph": [r.message for r in graph], "heads": list(graph.heads)}))
"""


def test_a_file_rewritten_keeping_its_size_and_mtime_is_read_again_by_a_new_process(
        tmp_path: Path) -> None:
    """The header cache on disk is checked against each file's bytes once per process:
    a cached header of other bytes may show in the first frame, never after it."""
    import json
    import os
    import subprocess
    import sys

    folder = make_project(tmp_path / "p", CHAIN)
    open_project(folder).graph()  # (the header cache and the graph cache written)
    path = rev_file(folder, CHAIN[-1])
    text = path.read_text()
    down = CHAIN[-2].revision
    other = CHAIN[-3].revision
    assert len(down) == len(other) and down in text
    same_stamp_rewrite(path, text.replace(down, other).replace("create doohickey",
                                                              "CREATE DOOHICKEY"))
    out = subprocess.run([sys.executable, "-c", _NEW_PROCESS, str(folder)], check=True,
                         capture_output=True, text=True, env=dict(os.environ)).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["graph"][:1] == ["CREATE DOOHICKEY"] or "CREATE DOOHICKEY" in seen["graph"]
    assert "create doohickey" not in seen["graph"]
    assert sorted(seen["heads"]) == sorted([CHAIN[-2].revision, CHAIN[-1].revision])
    # ... and the next process has it right from its first frame.
    out = subprocess.run([sys.executable, "-c", _NEW_PROCESS, str(folder)], check=True,
                         capture_output=True, text=True, env=dict(os.environ)).stdout
    assert "CREATE DOOHICKEY" in json.loads(out.strip().splitlines()[-1])["at_hand"]


@pytest.mark.parametrize("cache", ["on disk", "none"])
def test_r_reads_again_a_file_rewritten_in_the_session_keeping_size_and_mtime(
        tmp_path: Path, cache: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within one process (size, mtime) is trusted for reads the app makes by itself;
    an explicit read again (`r`: ``recheck_files()``) checks every file's bytes,
    with a header cache on disk or without one (``MIGTUI_CACHE_DIR=""``)."""
    if cache == "none":
        monkeypatch.setenv("MIGTUI_CACHE_DIR", "")
    folder = make_project(tmp_path / "p", CHAIN)
    project = open_project(folder)
    assert project.graph().revisions[0].message == "create doohickey"
    path = rev_file(folder, CHAIN[-1])
    same_stamp_rewrite(path, path.read_text().replace("create doohickey", "CREATE DOOHICKEY"))
    project.reload()
    assert project.graph().revisions[0].message == "create doohickey"  # (not looked at)
    assert project.recheck_files()
    graph = project.graph()
    assert graph.revisions[0].message == "CREATE DOOHICKEY"
    assert graph == alembic_graph(folder)
    assert not project.recheck_files()  # (nothing more to read)
    # An import of the file runs its new bytes too.
    script = project.revisions.script_for_action()
    assert script.get_revision(CHAIN[-1].revision).doc == "CREATE DOOHICKEY"
