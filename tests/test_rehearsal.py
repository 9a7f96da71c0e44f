"""Rehearsals on real SQLite files and the real PostgreSQL server: the steps run, the
report says how, and schema, data and alembic_version are exactly as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import DATABASES, server_url
from preflight_helpers import (
    chain,
    downgrade_plan,
    open_project,
    query,
    run_sql,
    schema_of,
    upgrade_plan,
    write_project,
)

from migtui.core.actions.plan import Plan
from migtui.core.actions.project import Project
from migtui.core.checks.preflight import check_plan
from migtui.core.checks.rehearsal import Rehearsal, rehearse

TABLE = ('op.create_table("t", sa.Column("id", sa.Integer, primary_key=True), '
         'sa.Column("name", sa.String(50)))', 'op.drop_table("t")')
# On SQLite the alter_column makes the batch copy the table: inside the transaction too.
GOOD = ('op.create_table("u", sa.Column("id", sa.Integer, primary_key=True))\n'
        'with op.batch_alter_table("t") as b:\n'
        '    b.add_column(sa.Column("note", sa.Text))\n'
        '    b.alter_column("name", existing_type=sa.String(50), type_=sa.String(80))\n'
        'op.execute("UPDATE t SET note = name")', 'op.drop_table("u")')
FAILS = ('with op.batch_alter_table("t", recreate="always") as b:\n'
         '    b.add_column(sa.Column("age", sa.Integer, nullable=False))', 'pass')
LATER = ('op.create_table("v", sa.Column("id", sa.Integer, primary_key=True))',
         'op.drop_table("v")')


NO_REHEARSAL_ON_MARIADB = pytest.mark.skip(
    reason="MariaDB commits DDL as it runs: no rehearsal is offered there "
           "(test_no_rehearsal_on_mariadb_says_why)")


@pytest.fixture(params=[d if d != "mariadb" else pytest.param(d, marks=NO_REHEARSAL_ON_MARIADB)
                        for d in DATABASES])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: a SQLite file or a fresh PostgreSQL database (MariaDB: skipped)."""
    return server_url(request, request.param, tmp_path)


def test_no_rehearsal_on_mariadb_says_why(tmp_path: Path, mariadb_url: str) -> None:
    project, plan = prepared(tmp_path, mariadb_url, GOOD, LATER)
    assert project.status().dialect == "mariadb", "the server, not the mysql:// URL"
    preflight = check_plan(project, plan, project.status().dialect)
    assert not preflight.can_rehearse
    assert preflight.rehearsal.startswith("MariaDB commits DDL as it runs")
    assert preflight.no_rollback.startswith(
        "Cannot be rolled back on this database: MariaDB commits each DDL statement as it runs")
    assert "could not be rolled back" in preflight.rehearsal


def dialect(url: str) -> str:
    if url.startswith("sqlite"):
        return "sqlite"
    return "mysql" if url.startswith("mysql") else "postgresql"


def state(url: str) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """Schema with alembic_version, and the rows of t."""
    return schema_of(url), query(url, "SELECT * FROM t ORDER BY id")


def prepared(folder: Path, url: str, *bodies: tuple[str, str], **kw: Any) -> tuple[Project,
                                                                                     Plan]:
    """A project upgraded one step with rows in t, and the plan up to its head."""
    revs = chain(TABLE, *bodies)
    write_project(folder, url, revs, **kw)
    project = open_project(folder)
    assert project.upgrade(revs[0].revision).ok
    run_sql(url, "INSERT INTO t (id, name) VALUES (1, 'ann'), (2, 'bob')")
    return project, upgrade_plan(project)


def rehearsed(project: Project, plan: Plan, url: str) -> Rehearsal:
    preflight = check_plan(project, plan, dialect(url))
    assert preflight.can_rehearse, preflight.rehearsal
    return rehearse(project, plan, project.status().current_heads)


def test_a_failing_step_is_reported_and_everything_rolled_back(tmp_path: Path, url: str) -> None:
    project, plan = prepared(tmp_path, url, GOOD, FAILS, LATER)
    before = state(url)
    report = rehearsed(project, plan, url)
    ok, failed = report.steps
    assert ok.ok and ok.revision == plan.steps[0].revision and ok.statements > 0
    assert not failed.ok and failed.revision == plan.steps[1].revision
    assert "NOT NULL" in failed.error or "null" in failed.error.lower()
    # recreate="always": the copy into the new table fails (the first error is kept,
    # not the cleanup that Alembic then tries in the aborted transaction).
    assert failed.statement.startswith("INSERT INTO _alembic_tmp_t")
    assert report.not_reached == (plan.steps[2].revision,)
    assert report.unchanged and not report.differences
    assert not report.ok
    assert state(url) == before, "schema, data and alembic_version exactly as before"


def test_a_good_plan_runs_and_is_rolled_back(tmp_path: Path, url: str) -> None:
    project, plan = prepared(tmp_path, url, GOOD, LATER)
    before = state(url)
    report = rehearsed(project, plan, url)
    assert [s.ok for s in report.steps] == [True, True]
    assert report.ok and report.unchanged
    assert state(url) == before
    assert project.upgrade("head").ok, "the real upgrade still runs afterwards"
    assert query(url, "SELECT note FROM t ORDER BY id") == [("ann",), ("bob",)]


def test_a_downgrade_rehearsal_keeps_the_data(tmp_path: Path, url: str) -> None:
    project, _ = prepared(tmp_path, url, GOOD)
    assert project.upgrade("head").ok
    plan = downgrade_plan(project, plan_base(project))
    before = state(url)
    report = rehearsed(project, plan, url)
    assert report.ok
    assert state(url) == before


def plan_base(project: Project) -> str:
    return project.graph().bases[0]


def test_one_transaction_even_with_transaction_per_migration(tmp_path: Path, url: str) -> None:
    project, plan = prepared(tmp_path, url, GOOD, FAILS, per_migration=True)
    before = state(url)
    report = rehearsed(project, plan, url)
    assert [s.ok for s in report.steps] == [True, False]
    assert report.unchanged
    assert state(url) == before, "the first step must not have been committed"


def test_first_upgrade_of_a_fresh_postgresql_database(tmp_path: Path, pg_url: str) -> None:
    revs = chain(TABLE, LATER)
    write_project(tmp_path, pg_url, revs)
    project = open_project(tmp_path)
    plan = upgrade_plan(project)
    before = schema_of(pg_url)
    report = rehearsed(project, plan, pg_url)
    assert report.ok
    assert schema_of(pg_url) == before == {}, "not even alembic_version is left behind"


def test_autocommit_block_is_not_offered(tmp_path: Path, pg_url: str) -> None:
    body = ('with op.get_context().autocommit_block():\n'
            '    op.create_index("ix_t_name", "t", ["name"], postgresql_concurrently=True)',
            'pass')
    project, plan = prepared(tmp_path, pg_url, body)
    preflight = check_plan(project, plan, "postgresql")
    assert not preflight.can_rehearse
    assert "autocommit_block" in preflight.rehearsal
    # Asked anyway, it stops before anything commits.
    before = state(pg_url)
    report = rehearse(project, plan, project.status().current_heads)
    [step] = report.steps
    assert not step.ok and "autocommit_block" in step.error
    assert state(pg_url) == before


def test_concurrently_and_vacuum_are_not_offered(tmp_path: Path, pg_url: str) -> None:
    body = ('op.create_index("ix_t_name", "t", ["name"], postgresql_concurrently=True)', 'pass')
    project, plan = prepared(tmp_path, pg_url, body)
    assert "CONCURRENTLY" in check_plan(project, plan, "postgresql").rehearsal


def test_sqlite_pragma_foreign_keys_is_not_offered(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    project, plan = prepared(tmp_path, url, ('op.execute("PRAGMA foreign_keys=OFF")', 'pass'))
    assert "cannot run inside a transaction" in check_plan(project, plan, "sqlite").rehearsal


def test_the_database_moved_since_the_plan(tmp_path: Path, url: str) -> None:
    project, plan = prepared(tmp_path, url, GOOD)
    report = rehearse(project, plan, ("somewhere-else",))
    assert "moved" in report.error or any("moved" in s.error for s in report.steps)
    assert not report.ok


def test_the_failing_alter_statement_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    body = ('op.add_column("t", sa.Column("age", sa.Integer, nullable=False))', 'pass')
    project, plan = prepared(tmp_path, pg_url, body)
    before = state(pg_url)
    [failed] = rehearsed(project, plan, pg_url).steps
    assert failed.statement == "ALTER TABLE t ADD COLUMN age INTEGER NOT NULL"
    assert 'column "age" of relation "t" contains null values' in failed.error
    assert state(pg_url) == before



def test_async_env_py(tmp_path: Path) -> None:
    from projectkit.templates import ENV_ASYNC

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    revs = chain(TABLE, GOOD, FAILS)
    write_project(tmp_path, url.replace("sqlite:", "sqlite+aiosqlite:"), revs)
    (tmp_path / "migrations" / "env.py").write_text(
        ENV_ASYNC.replace("fileConfig(config.config_file_name)", "pass"))
    project = open_project(tmp_path)
    assert project.upgrade(revs[0].revision).ok
    run_sql(url, "INSERT INTO t (id, name) VALUES (1, 'ann')")
    before = state(url)
    report = rehearsed(project, upgrade_plan(project), url)
    assert [s.ok for s in report.steps] == [True, False]
    assert report.unchanged
    assert state(url) == before


def test_autocommit_block_seen_in_the_source_of_a_step_that_needs_a_connection(
        tmp_path: Path, pg_url: str) -> None:
    body = ('rows = op.get_bind().execute(sa.text("SELECT id FROM t")).fetchall()\n'
            'with op.get_context().autocommit_block():\n'
            '    op.execute("VACUUM t")', 'pass')
    project, plan = prepared(tmp_path, pg_url, body)
    preflight = check_plan(project, plan, "postgresql")
    assert "read from the source" in preflight.steps[0].note
    assert "autocommit_block" in preflight.rehearsal


def test_env_py_that_commits_before_the_steps_is_told_in_words(tmp_path: Path,
                                                                pg_url: str) -> None:
    """The tenant pattern: env.py sets search_path and commits before migrating. The
    rehearsal stops there and says why, in words (no class name), nothing kept."""
    project, plan = prepared(tmp_path, pg_url, GOOD)
    env_py = tmp_path / "migrations" / "env.py"
    env_py.write_text(env_py.read_text().replace(
        "    with engine.connect() as connection:\n",
        "    with engine.connect() as connection:\n"
        "        connection.exec_driver_sql('SET search_path TO public')\n"
        "        connection.commit()\n"))
    before = state(pg_url)
    report = rehearse(project, plan, project.status().current_heads)
    assert not report.ok
    assert report.error.startswith("The rehearsal could not run: a COMMIT was asked for "
                                   "(env.py's own connection.commit(), or a step's)")
    assert "_Refused" not in report.error
    assert state(pg_url) == before
