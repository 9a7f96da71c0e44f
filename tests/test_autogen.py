"""The autogenerate diff (core): real Alembic, the sample's env.py, real databases."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from autogen_helpers import (
    EXPECTED,
    change_models,
    current_heads,
    edit_models,
    open_project,
    run_sql,
    sample_matches_models,  # noqa: F401  (autouse fixture)
    upgrade,
    upgrade_source,
)
from conftest import column_names, database_url, table_names
from projects import data_engine

from migtui.core.autogen.compare import type_narrowing
from migtui.core.autogen.diff import DiffState, compute_diff, write_revision

POST = "c5d9e0f3b7a2"
USER = "3f1a2c9d0b11"


def kinds(diff):  # type: ignore[no-untyped-def]
    return {(op.kind, op.table, op.name) for op in diff.operations}


def test_model_changes_are_exactly_the_operations(sample_project: Path) -> None:
    url = database_url(sample_project)
    upgrade(sample_project)
    change_models(sample_project)
    diff = compute_diff(open_project(sample_project))
    assert diff.state is DiffState.DIFFERS, diff.error_details
    assert diff.at_head
    assert kinds(diff) == EXPECTED
    by_name = {op.name: op for op in diff.operations}
    assert "drop_column(" in by_name["ssn"].python and "'ssn')" in by_name["ssn"].python
    assert by_name["ssn"].loses_data
    assert not by_name["nickname"].loses_data
    assert "op.create_table('tag'" in by_name["tag"].python
    assert "CREATE TABLE tag" in by_name["tag"].sql
    assert "CREATE INDEX ix_post_title" in by_name["ix_post_title"].sql
    assert "TEXT" in by_name["body"].detail
    if diff.dialect == "postgresql":
        assert 'ALTER TABLE "user" DROP COLUMN ssn' in by_name["ssn"].sql
        assert "ALTER COLUMN body TYPE TEXT" in by_name["body"].sql
    elif diff.dialect == "mysql":  # MariaDB: backquotes only where a name needs them
        assert "ALTER TABLE user DROP COLUMN ssn" in by_name["ssn"].sql
        assert "ALTER TABLE post MODIFY `body` TEXT NOT NULL" in by_name["body"].sql
    else:  # SQLite: batch mode, so the table is copied
        assert "batch_op.drop_column('ssn')" in by_name["ssn"].python
        assert "CREATE TABLE _alembic_tmp_user" in by_name["ssn"].sql
    [hint] = diff.rename_hints
    assert "ssn" in hint and "nickname" in hint and "rename" in hint
    # Grouped by table, each table once.
    assert sorted(group.table for group in diff.tables) == ["post", "tag", "user"]
    assert "def upgrade()" in diff.revision_file and "'ssn')" in diff.revision_file
    assert f"down_revision: str | Sequence[str] | None = '{POST}'" in diff.revision_file
    # Only read: nothing was created or written.
    assert "tag" not in table_names(url)
    assert current_heads(url) == {POST}
    assert len(list((sample_project / "migrations" / "versions").glob("*.py"))) == 3


def test_matches_at_head(sample_project: Path) -> None:
    upgrade(sample_project)
    diff = compute_diff(open_project(sample_project))
    assert diff.state is DiffState.MATCHES, diff.error_details
    assert diff.at_head and diff.operations == ()


def test_edits_on_disk_are_seen_on_the_next_comparison(sample_sqlite: Path) -> None:
    upgrade(sample_sqlite)
    project = open_project(sample_sqlite)
    assert compute_diff(project).state is DiffState.MATCHES
    edit_models(sample_sqlite, "    body: str\n", "    body: str\n    score: float | None = None\n")
    diff = compute_diff(project)
    assert kinds(diff) == {("add column", "post", "score")}
    edit_models(sample_sqlite, "    score: float | None = None\n",
                "    rating: int | None = None\n")
    assert kinds(compute_diff(project)) == {("add column", "post", "rating")}


def test_behind_head_compares_against_what_is_applied(sample_project: Path) -> None:
    url = database_url(sample_project)
    upgrade(sample_project, USER)
    diff = compute_diff(open_project(sample_project))
    assert diff.behind == 2 and not diff.at_head
    assert diff.current_heads == (USER,)
    assert diff.state is DiffState.DIFFERS
    assert ("add table", "post", "post") in kinds(diff)
    assert current_heads(url) == {USER}


def test_empty_postgresql_database_is_only_read(sample_pg: Path) -> None:
    url = database_url(sample_pg)
    diff = compute_diff(open_project(sample_pg))
    assert diff.behind == 3
    assert ("add table", "user", "user") in kinds(diff)
    assert table_names(url) == set()
    assert "alembic_version" not in sa.inspect(data_engine(url)).get_table_names()


def test_missing_sqlite_file_is_not_created(sample_sqlite: Path) -> None:
    diff = compute_diff(open_project(sample_sqlite))
    assert diff.state is DiffState.NO_DATABASE
    assert diff.behind == 3
    assert not (sample_sqlite / "sample.db").exists()


def test_no_target_metadata(sample_sqlite: Path) -> None:
    upgrade(sample_sqlite)
    env = sample_sqlite / "migrations" / "env.py"
    env.write_text(env.read_text().replace("target_metadata = SQLModel.metadata",
                                           "target_metadata = None"))
    diff = compute_diff(open_project(sample_sqlite))
    assert diff.state is DiffState.NO_METADATA
    assert diff.env_file.endswith("env.py")


def test_broken_model_is_an_error_with_details(sample_sqlite: Path) -> None:
    upgrade(sample_sqlite)
    edit_models(sample_sqlite, "    body: str\n", "    body: str = Field(\n")
    diff = compute_diff(open_project(sample_sqlite))
    assert diff.state is DiffState.ERROR
    assert "SyntaxError" in diff.error and "\n" not in diff.error
    assert "Traceback" in diff.error_details and "models.py" in diff.error_details


def test_null_count_for_a_change_to_not_null(sample_project: Path) -> None:
    url = database_url(sample_project)
    upgrade(sample_project)
    run_sql(url, "insert into \"user\" (name, email, created_at) values "
                 "('a', 'a@x', null), ('b', 'b@x', null), "
                 "('c', 'c@x', '2024-01-01 00:00:00')")
    edit_models(sample_project, "    created_at: datetime | None = Field(default=None)\n",
                "    created_at: datetime\n")
    diff = compute_diff(open_project(sample_project))
    [op] = diff.operations
    assert (op.kind, op.table, op.name) == ("nullable change", "user", "created_at")
    assert op.null_count == 2
    assert op.loses_data and "2 rows have NULL in created_at" in op.warning


def test_write_revision_then_apply_it(sample_project: Path) -> None:
    url = database_url(sample_project)
    upgrade(sample_project)
    change_models(sample_project)
    project = open_project(sample_project)
    result = write_revision(project, "tags and nicknames")
    assert result.ok, result.error_details
    assert result.new_revision
    body = upgrade_source(sample_project, result.new_revision)
    for needle in ("create_table('tag'", "drop_column(", "'ssn')", "'nickname'",
                   "ix_post_title", "type_=sa.Text()"):
        assert needle in body
    assert project.graph().heads == (result.new_revision,), "the new file is read"
    behind = compute_diff(project)
    assert behind.behind == 1 and behind.state is DiffState.DIFFERS
    assert project.upgrade("heads").ok
    assert "tag" in table_names(url)
    assert "nickname" in column_names(url, "user")
    assert compute_diff(project).state is DiffState.MATCHES


def test_type_narrowing() -> None:
    assert type_narrowing(sa.String(100), sa.String(10))
    assert type_narrowing(sa.Text(), sa.String(10))
    assert not type_narrowing(sa.String(10), sa.String(100))
    assert not type_narrowing(sa.String(10), sa.Text())
    assert type_narrowing(sa.BigInteger(), sa.Integer())
    assert not type_narrowing(sa.Integer(), sa.BigInteger())
    assert type_narrowing(sa.Numeric(10, 4), sa.Numeric(10, 2))
    assert type_narrowing(sa.Float(), sa.Integer())
    assert type_narrowing(sa.DateTime(), sa.Date())
    assert type_narrowing(sa.String(), sa.Integer())
    assert not type_narrowing(sa.Integer(), sa.Numeric(12, 2))


def test_without_the_fork_server_edits_are_seen_too(
    sample_sqlite: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGTUI_NO_FORK_SERVER", "1")  # one plain subprocess per task
    upgrade(sample_sqlite)
    project = open_project(sample_sqlite)
    assert compute_diff(project).state is DiffState.MATCHES
    edit_models(sample_sqlite, "    body: str\n", "    body: str\n    score: float | None = None\n")
    assert kinds(compute_diff(project)) == {("add column", "post", "score")}


def test_env_py_that_kills_the_process_is_an_error(sample_sqlite: Path) -> None:
    upgrade(sample_sqlite)
    env = sample_sqlite / "migrations" / "env.py"
    env.write_text("import os\nos._exit(3)\n" + env.read_text())
    diff = compute_diff(open_project(sample_sqlite))
    assert diff.state is DiffState.ERROR
    assert "ended without an answer (exit status 3)" in diff.error


ASYNC_MODELS = '''\
import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table("widget", metadata, sa.Column("id", sa.Integer(), primary_key=True),
         sa.Column("name", sa.String(50)))
sa.Table("gadget", metadata, sa.Column("id", sa.Integer(), primary_key=True),
         sa.Column("name", sa.String(50)))
sa.Table("extra", metadata, sa.Column("id", sa.Integer(), primary_key=True))
sa.Table("ignored_cache", metadata, sa.Column("id", sa.Integer(), primary_key=True))
'''

FILTERS = '''
from autogen_async_models import metadata as target_metadata


def include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name.startswith("ignored_"))
'''


def test_async_env_py_with_include_object(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The async env.py template works, and env.py's include_object applies."""
    from projects import async_sqlite_url, write_project

    from projectkit.templates import ENV_ASYNC

    env_py = ENV_ASYNC.replace("config = context.config\n",
                               "config = context.config\n" + FILTERS).replace(
        "context.configure(connection=connection)",
        "context.configure(connection=connection, target_metadata=target_metadata, "
        "include_object=include_object)")
    project = write_project(tmp_path / "proj", env_py, async_sqlite_url(tmp_path / "a.db"))
    (project / "autogen_async_models.py").write_text(ASYNC_MODELS)
    monkeypatch.chdir(project)
    upgrade(project)
    diff = compute_diff(open_project(project))
    assert diff.state is DiffState.DIFFERS, diff.error_details
    assert kinds(diff) == {("add table", "extra", "extra")}, "ignored_cache is filtered out"
    assert "CREATE TABLE extra" in diff.operations[0].sql


def test_sqlite_without_batch_mode_warns_that_a_column_change_fails(
        sample_sqlite: Path) -> None:
    """An env.py without render_as_batch on SQLite: a type change or a NOT NULL change
    is written as ALTER COLUMN, which SQLite does not have. The review says so before
    the file is written (the sample's env.py sets render_as_batch: no warning there)."""
    upgrade(sample_sqlite)
    edit_models(sample_sqlite, "    created_at: datetime | None = Field(default=None)\n",
                "    created_at: datetime\n")
    [op] = compute_diff(open_project(sample_sqlite)).operations
    assert "SQLite cannot change a column in place" not in op.warning  # batch mode on
    env_py = sample_sqlite / "migrations" / "env.py"
    text = env_py.read_text()
    assert text.count("render_as_batch") >= 1
    env_py.write_text(text.replace("render_as_batch=", "render_as_batch=False and "))
    [op] = compute_diff(open_project(sample_sqlite)).operations
    assert (op.kind, op.name) == ("nullable change", "created_at")
    assert "SQLite cannot change a column in place: the upgrade fails unless env.py " \
        "passes render_as_batch=True to context.configure" in op.warning
