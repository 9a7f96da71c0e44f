"""The core's actions on real databases: upgrade, downgrade, stamp, merge, offline SQL.

Where env.py finds its database (environment, -x, async drivers, pyproject, --url):
test_core_urls.py.

Every test runs real Alembic through migtui.core.actions.project.Project against a real
SQLite file and the real PostgreSQL server, then checks what the database holds. Nothing may
reach the terminal and logging must be as it was (see projects.untouched).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from actions_helpers import assert_ran, one_line, open_project
from conftest import column_names, database_url, table_names
from projects import TWO_HEADS, sqlite_url, untouched, write_project

from migtui.core.errors import MigtuiError

USER = "3f1a2c9d0b11"
SSN = "8c2e47d1a5f0"
POST = "c5d9e0f3b7a2"
USER_COLUMNS = {"id", "name", "email"}

# What the sample database holds after each of its revisions.
SAMPLE_STEPS: list[tuple[str, dict[str, set[str]]]] = [
    (USER, {"user": USER_COLUMNS}),
    (SSN, {"user": USER_COLUMNS | {"ssn", "created_at"}}),
    (POST, {"user": USER_COLUMNS | {"ssn", "created_at"},
            "post": {"id", "title", "body", "user_id"}}),
]


def schema(url: str) -> dict[str, set[str]]:
    """Every table (but alembic_version) with its columns."""
    return {table: column_names(url, table) for table in table_names(url)}


# -- the sample, one step at a time --------------------------------------------------


def test_sample_one_step_up_to_head_and_back_to_base(
    sample_project: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    url = database_url(sample_project)
    project = open_project(sample_project)
    with untouched(capfd):
        assert [r.revision for r in project.graph()] == [POST, SSN, USER]
        assert project.status().current_heads == ()
        heads: tuple[str, ...] = ()
        for revision, expected in SAMPLE_STEPS:
            result = project.upgrade("+1")
            assert result.ok, result.error
            assert (result.action, result.target, result.error) == ("upgrade", "+1", "")
            assert result.heads_before == heads
            assert result.heads_after == (revision,)
            assert isinstance(result.seconds, float) and result.seconds >= 0
            assert_ran(result, "upgrade", revision)
            assert schema(url) == expected
            heads = (revision,)
            snapshot = project.snapshot()
            assert snapshot.database.current_heads == heads
            assert revision in snapshot.applied
        assert project.snapshot().pending == ()

        below = [USER, SSN]
        for revision, expected in reversed(SAMPLE_STEPS[:-1]):
            result = project.downgrade("-1")
            assert result.ok, result.error
            assert result.heads_before == heads
            assert result.heads_after == (revision,)
            assert_ran(result, "downgrade", heads[0])
            assert schema(url) == expected
            heads = (revision,)
            assert below.pop() == revision
        result = project.downgrade("-1")
        assert result.ok, result.error
        assert (result.heads_before, result.heads_after) == ((USER,), ())
        assert schema(url) == {}
        assert project.snapshot().pending == (POST, SSN, USER)


def test_sample_to_a_revision_to_heads_and_to_base(
    sample_project: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    url = database_url(sample_project)
    project = open_project(sample_project)
    with untouched(capfd):
        result = project.upgrade(SSN)
        assert result.ok, result.error
        assert sum("Running upgrade" in line for line in result.log) == 2
        assert schema(url) == SAMPLE_STEPS[1][1]
        result = project.upgrade("heads")
        assert result.ok and result.heads_after == (POST,)
        assert schema(url) == SAMPLE_STEPS[2][1]
        result = project.downgrade(USER)
        assert result.ok and result.heads_after == (USER,)
        assert schema(url) == SAMPLE_STEPS[0][1]
        result = project.downgrade("base")
        assert result.ok and result.heads_after == ()
        assert schema(url) == {}


def test_a_failed_action_is_a_result_with_one_line(
    sample_project: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    url = database_url(sample_project)
    project = open_project(sample_project)
    with untouched(capfd):
        result = project.downgrade("-1")  # already at base
        assert not result.ok and one_line(result.error)
        assert result.heads_before == result.heads_after == ()

        result = project.upgrade("f00dfeedbeef")
        assert not result.ok and one_line(result.error)
        assert "Unknown revision" in result.error and "f00dfeedbeef" in result.error

        assert project.upgrade("heads").ok
        result = project.upgrade("+1")  # already at head
        assert not result.ok and one_line(result.error)
        assert result.heads_before == result.heads_after == (POST,)

        # A step that fails inside the database: stamp head on an empty schema, then
        # downgrade, which drops a post table that is not there.
        assert project.downgrade("base").ok
        assert project.stamp("heads").ok
        result = project.downgrade("-1")
        assert not result.ok and one_line(result.error)
        assert result.error.startswith("Downgrade failed")
        assert "Traceback" in result.error_details and "drop_table" in result.error_details
        assert result.heads_before == result.heads_after == (POST,)
        assert schema(url) == {}


def test_read_only_refuses_to_write(sample_project: Path) -> None:
    project = open_project(sample_project, read_only=True)
    with pytest.raises(MigtuiError, match="read-only"):
        project.upgrade("+1")
    assert project.status().current_heads == ()


# -- stamp ------------------------------------------------------------------------


def test_stamp_moves_the_version_without_running(
    sample_project: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    url = database_url(sample_project)
    project = open_project(sample_project)
    with untouched(capfd):
        result = project.stamp("heads")
        assert result.ok, result.error
        assert (result.action, result.heads_before, result.heads_after) == ("stamp", (), (POST,))
        assert not any("Running upgrade" in line for line in result.log)
        assert schema(url) == {}
        assert project.status().current_heads == (POST,)

        assert project.stamp("base").heads_after == ()
        assert project.status().current_heads == ()

        assert project.upgrade(USER).ok
        result = project.stamp(SSN)  # ssn and created_at are NOT added
        assert result.ok and result.heads_after == (SSN,)
        assert column_names(url, "user") == USER_COLUMNS
        result = project.upgrade("+1")  # runs only the post step
        assert result.ok and result.heads_after == (POST,)
        assert sum("Running upgrade" in line for line in result.log) == 1
        assert schema(url) == {"user": USER_COLUMNS, "post": {"id", "title", "body", "user_id"}}


# -- merge ------------------------------------------------------------------------


def test_merge_two_heads(tmp_path: Path, db_url: str, capfd: pytest.CaptureFixture[str]) -> None:
    folder = write_project(tmp_path / "two", url=db_url, revisions=TWO_HEADS)
    project = open_project(folder)
    with untouched(capfd):
        graph = project.graph()
        assert set(graph.heads) == {"b2b2b2b2b2b2", "c3c3c3c3c3c3"}
        base = graph.get("a1a1a1a1a1a1")
        assert base is not None and base.is_branch_point

        assert project.upgrade("+1").ok
        result = project.upgrade("+1")  # two ways up: Alembic refuses
        assert not result.ok and one_line(result.error)
        assert "Multiple heads" in result.error
        result = project.upgrade("heads")
        assert result.ok, result.error
        assert set(result.heads_after) == {"b2b2b2b2b2b2", "c3c3c3c3c3c3"}
        assert table_names(db_url) == {"widget", "left_t", "right_t"}

        result = project.merge("join left and right")
        assert result.ok, result.error
        assert result.action == "merge" and result.new_revision
        merge = result.new_revision
        written = list((folder / "migrations" / "versions").glob(f"{merge}_*.py"))
        assert len(written) == 1

        graph = project.graph()  # merge re-reads the files itself
        assert graph.heads == (merge,)
        merged = graph.get(merge)
        assert merged is not None
        assert merged.is_merge_point and merged.is_head
        assert set(merged.down_revisions) == {"b2b2b2b2b2b2", "c3c3c3c3c3c3"}
        assert merged.message == "join left and right"
        assert merged.path == str(written[0])
        left = graph.get("b2b2b2b2b2b2")
        assert left is not None and left.children == (merge,) and not left.is_head

        result = project.upgrade("heads")
        assert result.ok, result.error
        assert result.heads_after == (merge,)
        assert project.status().current_heads == (merge,)
        assert table_names(db_url) == {"widget", "left_t", "right_t"}


# -- offline SQL ------------------------------------------------------------------


def test_offline_sql_for_the_database_dialect(
    sample_project: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    url = database_url(sample_project)
    dialect = sa.make_url(url).get_backend_name()
    project = open_project(sample_project)
    with untouched(capfd):
        sql = project.sql("upgrade", "base", "heads")
        assert re.search(r'CREATE TABLE "?user"?', sql)
        assert "CREATE TABLE post" in sql
        assert "ALTER TABLE" in sql and "ADD COLUMN ssn" in sql
        assert f"INSERT INTO alembic_version (version_num) VALUES ('{USER}')" in sql
        if dialect == "postgresql":
            assert "SERIAL" in sql
        else:
            assert "SERIAL" not in sql

        sql = project.sql("downgrade", POST, SSN)
        assert "DROP TABLE post" in sql
        assert f"UPDATE alembic_version SET version_num='{SSN}'" in sql
        if dialect in ("postgresql", "mysql"):
            sql = project.sql("downgrade", POST, "base")
            assert "DROP COLUMN ssn" in sql and re.search(r'DROP TABLE [`"]?user[`"]?', sql)
        else:
            # Batch mode on SQLite needs the live table: Alembic cannot do it offline.
            with pytest.raises(MigtuiError) as caught:
                project.sql("downgrade", POST, "base")
            assert caught.value.message.startswith("Cannot render the SQL")
            assert one_line(caught.value.message)

        # Rendering SQL ran nothing and created nothing.
        assert project.status().current_heads == ()
    if dialect == "sqlite":
        assert not (sample_project / "sample.db").exists()
    else:
        assert table_names(url) == set()


def test_actions_do_not_grow_sys_path(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"))
    project = open_project(folder)
    assert project.upgrade("heads").ok  # the first run may add prepend_sys_path once
    length = len(sys.path)
    for _ in range(3):
        assert project.downgrade("base").ok
        assert project.upgrade("heads").ok
        project.status()
    assert len(sys.path) == length


def test_an_upgrade_that_starts_a_second_branch_says_so(tmp_path: Path) -> None:
    """With the database at one head of two, the next step of the other line is an
    upgrade that leaves alembic_version with two rows: the confirmation's title says so
    (`alembic upgrade +1` refuses there; `alembic upgrade REV` does the same as this)."""
    from migtui.core.actions.config import ProjectOptions
    from migtui.core.actions.plan import next_revisions, plan_upgrade
    from migtui.core.actions.project import Project
    from projectkit.genproject import generate_project

    generate_project(tmp_path, 12, branch_every=4, heads=2)
    project = Project.open(ProjectOptions(cwd=str(tmp_path)))
    first, second = project.graph().heads
    assert project.upgrade(first).ok
    snapshot = project.snapshot()
    (other,) = next_revisions(snapshot)
    plan = plan_upgrade(snapshot, other.revision)
    assert plan.description == f"Upgrade to {other.revision[:12]}, leaving the database on 2 heads"
    assert project.run_plan(plan).ok
    assert len(project.snapshot().database.current_heads) == 2
    on_its_line = plan_upgrade(project.snapshot(), second)
    assert on_its_line.description == f"Upgrade to {second[:12]}"  # (still two heads)


def test_a_stamp_that_leaves_another_head_says_so(tmp_path: Path) -> None:
    """Alembic's stamp replaces the heads in the target's lineage and keeps the others
    (review: the dialog did not say the database would be on two heads)."""
    from migtui.core.actions.config import ProjectOptions
    from migtui.core.actions.plan import plan_stamp
    from migtui.core.actions.project import Project
    from projectkit.genproject import generate_project

    generate_project(tmp_path, 12, branch_every=4, heads=2)
    project = Project.open(ProjectOptions(cwd=str(tmp_path)))
    first, second = project.graph().heads
    assert project.upgrade(first).ok
    plan = plan_stamp(project.snapshot(), second)  # on the other line: first stays
    assert plan.description == (f"Stamp {second[:12]} (no migration runs), leaving the "
                                "database on 2 heads")
    assert project.run_plan(plan).ok
    assert set(project.snapshot().database.current_heads) == {first, second}  # as said
    base = project.graph().bases[0]
    down = plan_stamp(project.snapshot(), base)  # both heads are in its lineage
    assert down.description == f"Stamp {base[:12]} (no migration runs)"
    assert project.run_plan(down).ok
    assert project.snapshot().database.current_heads == (base,)
