"""Rescue of a database on a revision that only git history has (issue 19, part 1)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from actions_helpers import open_project
from conftest import table_names
from history_helpers import BASE, ON_A, ON_B, git, two_branches

from migtui.core.history.rescue import find_rescue, run_rescue


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_restore_moves_the_database_from_branch_a_to_branch_b(
        tmp_path: Path, dialect: str, request: pytest.FixtureRequest) -> None:
    url = None if dialect == "sqlite" else str(request.getfixturevalue("pg_url"))
    folder, url = two_branches(tmp_path, url)
    result = open_project(folder).upgrade("heads")
    assert result.ok, result.error
    assert table_names(url) == {"widget", "a_table"}
    git(folder, "checkout", "-q", "branch-b")

    project = open_project(folder)
    snapshot = project.snapshot()
    assert snapshot.database.current_heads == (ON_A.revision,)
    rescue = find_rescue(project, snapshot)
    assert rescue.found, rescue.why
    assert [m.revision for m in rescue.chain] == [ON_A.revision]
    missing = rescue.chain[0]
    assert missing.message == ON_A.message
    assert missing.commit.subject == "add a table on branch-a"
    assert missing.commit.branches == ("branch-a",)
    assert missing.commit.sha == git(folder, "rev-parse", "branch-a").strip()
    assert any("a_table" in op for op in missing.operations)
    assert rescue.ancestor == BASE.revision and rescue.head == ON_B.revision
    plan = rescue.plan("restore")
    assert [(s.revision, s.direction) for s in plan.steps] == [
        (ON_A.revision, "downgrade"), (ON_B.revision, "upgrade")]
    assert "a_table" in rescue.notice("stamp")
    assert not str(rescue.folder).startswith(str(folder))

    done = run_rescue(project, rescue, "restore")
    assert done.ok, done.error
    assert done.heads_after == (ON_B.revision,)
    assert table_names(url) == {"widget", "b_table"}
    assert git(folder, "status", "--porcelain", "--ignored") == ""
    assert not Path(rescue.folder).exists()
    project.reload()
    assert project.status().current_heads == (ON_B.revision,)


def test_stamp_to_the_common_ancestor_keeps_the_schema(tmp_path: Path) -> None:
    folder, url = two_branches(tmp_path)
    assert open_project(folder).upgrade("heads").ok
    git(folder, "checkout", "-q", "branch-b")
    project = open_project(folder)
    rescue = find_rescue(project, project.snapshot())
    done = run_rescue(project, rescue, "stamp")
    assert done.ok, done.error
    assert project.status().current_heads == (BASE.revision,)
    assert table_names(url) == {"widget", "a_table"}  # stamping runs nothing


def test_without_the_file_in_history_it_says_so(tmp_path: Path) -> None:
    folder, _url = two_branches(tmp_path)
    assert open_project(folder).upgrade("heads").ok
    git(folder, "checkout", "-q", "branch-b")
    git(folder, "branch", "-q", "-D", "branch-a")
    git(folder, "reflog", "expire", "--expire=now", "--all")
    git(folder, "gc", "-q", "--prune=now")
    project = open_project(folder)
    rescue = find_rescue(project, project.snapshot())
    assert not rescue.found
    assert rescue.why == f"no commit on any branch has a file defining {ON_A.revision[:12]}"


def test_without_git_it_says_so(tmp_path: Path) -> None:
    folder, _url = two_branches(tmp_path)
    assert open_project(folder).upgrade("heads").ok
    git(folder, "checkout", "-q", "branch-b")
    shutil.rmtree(folder / ".git")
    project = open_project(folder)
    rescue = find_rescue(project, project.snapshot())
    assert not rescue.found
    assert rescue.why.startswith("git cannot help: ")
