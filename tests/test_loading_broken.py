"""Loading revisions tolerantly: broken files, and random histories good and broken.

Issue 6 (project files): broken files and histories give one clear problem each and never
stop the rest from showing; a good history loads exactly as Alembic builds it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from loading_helpers import (
    CHAIN,
    alembic_graph,
    make_project,
    open_project,
    rev_file,
    write_revision,
)
from projects import Rev

from migtui.core.errors import MigtuiError
from migtui.core.revisions.layout import layout


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own on-disk header cache."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MIGTUI_CACHE_DIR", str(folder))
    yield folder


# -- broken files --------------------------------------------------------------------


def test_a_syntax_error_keeps_the_other_revisions(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    broken = rev_file(folder, CHAIN[3])
    broken.write_text(broken.read_text().replace("down_revision = ", "down_revision = ("))
    project = open_project(folder)
    graph = project.graph()
    assert [r.revision[:2] for r in graph] == ["c3", "b2", "a1"]
    (problem,) = graph.problems
    assert problem.path == str(broken) and problem.line == 11
    assert broken.name in problem.message and "SyntaxError" in problem.message
    assert "line 11" in problem.message


def test_a_syntax_error_in_a_function_body(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    broken = rev_file(folder, CHAIN[3])
    broken.write_text(broken.read_text().replace("def downgrade() -> None:",
                                                 "def downgrade( -> None:"))
    project = open_project(folder)
    # Only the header is parsed up front; the authoritative load (verify) finds the rest.
    assert len(project.graph()) == 4
    graph = project.verify()
    assert graph is not None
    (problem,) = graph.problems
    assert problem.path == str(broken) and problem.line == 20
    assert f"{broken.name}, line 20" in problem.message and "SyntaxError" in problem.message
    result = project.upgrade("heads")
    assert not result.ok and broken.name in result.error


def test_write_actions_say_which_file_is_broken(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    broken = rev_file(folder, CHAIN[1])
    broken.write_text(broken.read_text().replace("branch_labels = None", "branch_labels = ]"))
    project = open_project(folder)
    result = project.upgrade("+1")
    assert not result.ok
    assert broken.name in result.error and "\n" not in result.error
    assert "SyntaxError" in result.error
    assert project.status().current_heads == ()  # nothing ran
    with pytest.raises(MigtuiError, match=broken.name):
        project.sql("upgrade", "base", "heads")


def test_a_file_that_raises_on_import(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    versions = folder / "migrations" / "versions"
    raising = write_revision(versions / "e5_raises.py", "e5e5e5e5e5e5", "d4d4d4d4d4d4",
                             "import no_such_module_here\n")
    project = open_project(folder)
    graph = project.graph()  # the header is plain: shown before anything is imported
    assert graph.heads == ("e5e5e5e5e5e5",) and not graph.problems
    verified = project.verify()  # the authoritative load finds it
    assert verified is not None
    (problem,) = verified.problems
    assert problem.path == str(raising) and problem.line == 12
    assert "No module named 'no_such_module_here'" in problem.message
    assert "e5_raises.py, line 12" in problem.message
    assert project.graph() is verified
    result = project.upgrade("+1")
    assert not result.ok and "e5_raises.py" in result.error


def test_a_module_failing_while_an_upgrade_imports_it(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN[:2])
    versions = folder / "migrations" / "versions"
    write_revision(versions / "c3_raises.py", "c3c3c3c3c3c3", "b2b2b2b2b2b2",
                   "raise RuntimeError('boom at import')\n")
    project = open_project(folder)
    assert project.upgrade("b2b2b2b2b2b2").ok  # modules below it import fine
    result = project.upgrade("+1")  # before verify() ran: Alembic imports it now
    assert not result.ok and "c3_raises.py" in result.error and "boom at import" in result.error
    assert project.status().current_heads == ("b2b2b2b2b2b2",)
    assert any("c3_raises.py" in p.message for p in project.graph().problems)


def test_a_down_revision_no_file_defines(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", [*CHAIN[:2], Rev("c3c3c3c3c3c3", "ffffffffffff", "x")])
    project = open_project(folder)
    graph = project.graph()
    assert len(graph) == 3
    (problem,) = graph.problems
    assert "ffffffffffff" in problem.message and "c3c3c3c3c3c3" in problem.message
    assert problem.kind == "graph"
    assert not project.upgrade("heads").ok


def test_a_cycle(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", [
        Rev("a1a1a1a1a1a1", None, "base"),
        Rev("b2b2b2b2b2b2", "d4d4d4d4d4d4", "in the loop one"),
        Rev("c3c3c3c3c3c3", "b2b2b2b2b2b2", "in the loop two"),
        Rev("d4d4d4d4d4d4", "c3c3c3c3c3c3", "in the loop three"),
    ])
    project = open_project(folder)
    graph = project.graph()
    assert sorted(r.revision[:2] for r in graph) == ["a1", "b2", "c3", "d4"]
    (problem,) = graph.problems
    assert problem.message.startswith("Revisions form a cycle")
    assert all(r in problem.message for r in ("b2b2b2b2b2b2", "c3c3c3c3c3c3", "d4d4d4d4d4d4"))
    assert len(layout([(r.revision, r.down_revisions) for r in graph])) == 4
    result = project.upgrade("heads")
    assert not result.ok and "cycle" in result.error


def test_two_files_with_the_same_revision_id(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN[:2])
    first = rev_file(folder, CHAIN[1])
    second = first.with_name("zz_copy.py")
    shutil.copy(first, second)
    graph = open_project(folder).graph()
    assert [r.revision[:2] for r in graph] == ["b2", "a1"]
    (problem,) = graph.problems
    assert first.name in problem.message and second.name in problem.message
    assert "defined twice" in problem.message


def test_a_branch_label_used_twice_and_a_bad_id(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", [
        Rev("a1a1a1a1a1a1", None, "base", branch_labels=("x",)),
        Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "again", branch_labels=("x",)),
        Rev("bad-id", "a1a1a1a1a1a1", "dash"),
    ])
    graph = open_project(folder).graph()
    assert sorted(r.revision[:2] for r in graph) == ["a1", "b2"]
    messages = sorted(p.message for p in graph.problems)
    assert len(messages) == 2
    assert any("Branch name 'x'" in m for m in messages)
    assert any("not allowed in revision id 'bad-id'" in m for m in messages)


# -- random histories, good and broken -------------------------------------------------

_KINDS = ("good", "good", "good", "good", "syntax", "body_syntax", "raises", "exits",
          "missing", "forward", "dup", "computed", "computed_raises", "label_clash")
_UNREADABLE = {"syntax", "computed_raises"}  # no header can be had from these


def _rid(index: int) -> str:
    return f"{index:02d}" + "ab" * 5


@st.composite
def _histories(draw: st.DrawFn) -> list[tuple[str, int, tuple[int, ...], int | None]]:
    """(kind, index, parent indexes, depends_on index) per file, oldest first."""
    files = []
    for i in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(_KINDS)) if i else "good"
        parents = tuple(draw(st.lists(st.integers(0, i - 1), max_size=2, unique=True))) if i \
            else ()
        dep = draw(st.none() | st.integers(0, i - 1)) if i else None
        files.append((kind, i, parents, dep))
    return files


def _write_history(folder: Path, history: list[tuple[str, int, tuple[int, ...], int | None]]
                   ) -> tuple[set[str], dict[str, str]]:
    """Write the files; return the ids that have a readable header and file -> kind."""
    make_project(folder, ())
    versions = folder / "migrations" / "versions"
    readable: set[str] = set()
    kinds: dict[str, str] = {}
    for kind, i, parents, dep in history:
        rev = _rid(0 if kind == "dup" else i)
        down: object = tuple(_rid(p) for p in parents) or None
        if kind == "missing":
            down = "ffffffffffff"
        elif kind == "forward":
            down = _rid(i + 1)  # maybe a cycle, maybe a revision no file defines
        labels = "shared" if kind == "label_clash" else (f"l{i}" if i % 3 == 1 else None)
        depends = None if dep is None else (f"l{dep}" if dep % 3 == 1 else _rid(dep))
        header = (f"revision = {rev!r}\ndown_revision = {down!r}\n"
                  f"branch_labels = {labels!r}\ndepends_on = {depends!r}\n")
        body = {"raises": "raise ValueError('broken on import')\n",
                "exits": "raise SystemExit(3)\n",
                "body_syntax": "def oops(:\n    pass\n"}.get(kind, "")
        if kind == "syntax":
            header = header.replace("down_revision = ", "down_revision = (")
        elif kind in ("computed", "computed_raises"):
            header = header.replace(f"revision = {rev!r}",
                                    f"revision = {rev[:4]!r} + {rev[4:]!r}")
            if kind == "computed_raises":
                header += "undefined_name_here()\n"
        path = write_revision(versions / f"r{i:02d}_{kind}.py", rev, down, body, header=header)
        kinds[str(path)] = kind
        if kind not in _UNREADABLE:
            readable.add(rev)
    return readable, kinds


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=_histories())
def test_random_histories_load_every_readable_revision_once(
    history: list[tuple[str, int, tuple[int, ...], int | None]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "p"
        readable, kinds = _write_history(folder, history)
        project = open_project(folder)
        graph = project.graph()
        ids = [r.revision for r in graph]
        assert len(ids) == len(set(ids)) and set(ids) == readable
        rows = layout([(r.revision, r.down_revisions) for r in graph])
        assert len(rows) == len(ids) and all(row.glyphs.count("●") == 1 for row in rows)
        for path, kind in kinds.items():
            if kind in _UNREADABLE:
                assert any(p.path == path for p in graph.problems), kind
        final = project.verify() or graph  # the authoritative load: every module imported
        assert [r.revision for r in final] == ids
        for path, kind in kinds.items():
            if kind in ("raises", "exits", "body_syntax"):
                assert any(p.path == path and p.line for p in final.problems), kind
        event("broken history" if final.problems else "good history")
        if final.problems:
            with pytest.raises(MigtuiError):
                project.revisions.script_for_action()
        else:  # a good history: exactly what Alembic builds
            assert final == alembic_graph(folder)
            assert project.revisions.script_for_action() is project.script()



def test_a_revision_that_imports_the_projects_own_package_is_not_broken(
        tmp_path: Path) -> None:
    """`prepend_sys_path` puts the project's package on sys.path for Alembic: the
    background import of every file (verify) must see it too, and the step runs."""
    from projects import applied, sqlite_url, write_project

    from migtui.core.actions.config import ProjectOptions
    from migtui.core.actions.plan import plan_upgrade
    from migtui.core.actions.project import Project

    url = sqlite_url(tmp_path / "own.db")
    folder = write_project(tmp_path / "proj", url=url, revisions=())
    package = f"own_{tmp_path.name.replace('-', '_')}"  # on no sys.path of this process
    (folder / "src" / package).mkdir(parents=True)
    (folder / "src" / package / "__init__.py").write_text('TABLE = "from_package"\n')
    ini = folder / "alembic.ini"
    ini.write_text(ini.read_text().replace("prepend_sys_path = .",
                                           "prepend_sys_path = %(here)s/src"))
    source = Rev("a1a1a1a1a1a1", None, "uses the package",
                 upgrade='op.create_table(TABLE, sa.Column("id", sa.Integer()))').source()
    (folder / "migrations/versions/a1a1_uses.py").write_text(
        source.replace("from alembic import op", f"from alembic import op\nfrom {package} "
                       "import TABLE", 1))
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert not project.graph().problems  # (and the headers are cached for the next start)
    # The next start, in a process of its own: the graph comes from the cache, and
    # nothing has run env.py or built Alembic's script directory before verify.
    check = ("import sys\n"
             "from migtui.core.actions.config import ProjectOptions\n"
             "from migtui.core.actions.project import Project\n"
             f"project = Project.open(ProjectOptions(cwd={str(folder)!r}))\n"
             "project.graph()\n"
             "found = project.verify()\n"
             "print([p.message for p in found.problems] if found else 'no problems')\n")
    run = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, env=os.environ)
    assert run.stdout.strip() == "no problems", run.stdout + run.stderr
    result = project.run_plan(plan_upgrade(project.snapshot(), "a1a1a1a1a1a1"))
    assert result.ok, result.error
    assert applied(url) == {"a1a1a1a1a1a1"}
