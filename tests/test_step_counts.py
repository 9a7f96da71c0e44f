"""Steps are counted from Alembic's own steps, not from its log text: merges, branch
points and depends_on count like any step, and a failure names what of the step ran."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import table_names
from projects import RICH, Rev, sqlite_url, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.env.watch import Watch


def test_every_step_of_a_branched_history_with_a_merge_is_counted(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "proj", url=sqlite_url(tmp_path / "rich.db"),
                           revisions=RICH)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    seen: list[tuple[int, int, str]] = []
    watch = Watch(on_step=lambda k, n, text: seen.append((k, n, text)))
    up = project.upgrade("heads", watch=watch)
    assert up.ok, up.error
    assert len(up.steps) == len(RICH) == 6
    assert "upgrade b2b2b2b2b2b2, c3c3c3c3c3c3 -> d4d4d4d4d4d4" in up.steps  # the merge
    assert [k for k, _n, _t in seen] == [1, 2, 3, 4, 5, 6] and {n for _k, n, _t in seen} == {6}
    down = project.downgrade("base")
    assert down.ok, down.error
    assert len(down.steps) == 6
    assert "downgrade d4d4d4d4d4d4 -> b2b2b2b2b2b2, c3c3c3c3c3c3" in down.steps




@pytest.mark.parametrize(("body", "words"), [
    ('op.create_table("t1", sa.Column("id", sa.Integer(), primary_key=True))',
     "nothing of this step had run before the failure"),
    ('op.create_table("t9", sa.Column("id", sa.Integer(), primary_key=True))\n'
     'op.create_table("t1", sa.Column("id", sa.Integer(), primary_key=True))',
     "SQLite could not roll back 1 statement of this step"),
])
def test_a_sqlite_failure_says_what_of_the_step_ran(tmp_path: Path, body: str,
                                                    words: str) -> None:
    url = sqlite_url(tmp_path / "fail.db")
    folder = write_project(tmp_path / "proj", url=url, revisions=(
        Rev("r00000000001", None, "create t1", "t1"),
        Rev("r00000000002", "r00000000001", "fails", date="2026-01-02 10:00:00.000000",
            upgrade=body)))
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade("r00000000001").ok
    result = project.upgrade("r00000000002")
    assert not result.ok
    assert "upgrade r00000000001 -> r00000000002" in result.error
    assert words in result.error
    if "t9" in body:
        assert "CREATE TABLE t9" in result.error_details
        assert "t9" in table_names(url)  # what Alembic left, as the error says
