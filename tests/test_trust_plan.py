"""A confirmed plan runs exactly as confirmed, or not at all (DESIGN.md, Trust).

Each test makes a plan from a snapshot (what the confirmation shows), then changes the
world the way another user or process would (the database moved by a second process,
a revision file edited, a lock held) and checks what the database holds afterwards.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DATABASES, server_url, table_names
from projects import Rev, alembic_cli, applied, data_engine, sqlite_url, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.plan import plan_downgrade, plan_step_down, plan_upgrade
from migtui.core.actions.project import Project
from migtui.core.checks.preflight import check_plan
from migtui.core.checks.risks import IRREVERSIBLE
from migtui.core.schema.model import TableRef

R1, R2, R3 = "r00000000001", "r00000000002", "r00000000003"
CHAIN = (
    Rev(R1, None, "create t1", "t1", date="2026-01-01 10:00:00.000000"),
    Rev(R2, R1, "create t2", "t2", date="2026-01-02 10:00:00.000000"),
    Rev(R3, R2, "create t3", "t3", date="2026-01-03 10:00:00.000000"),
)


@pytest.fixture(params=DATABASES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: a SQLite file, a fresh PostgreSQL or MariaDB database."""
    return server_url(request, request.param, tmp_path, "trust.db")


def open_at(tmp_path: Path, url: str, revision: str) -> Project:
    folder = write_project(tmp_path / "proj", url=url, revisions=CHAIN)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade(revision).ok
    return project


def test_a_database_moved_by_another_process_refuses_the_step_down(
    tmp_path: Path, url: str
) -> None:
    project = open_at(tmp_path, url, R2)
    plan = plan_step_down(project.snapshot(), R2)  # the dialog: "drops t2"
    assert [s.revision for s in plan.steps] == [R2]
    assert plan.target == R1  # resolved when the dialog opened, not "-1"
    alembic_cli(tmp_path / "proj", "upgrade", R3)  # another process: now at r3 with t3

    result = project.run_plan(plan)

    assert not result.ok and result.plan_changed
    assert "moved from r00000000002 to r00000000003" in result.error
    assert applied(url) == {R3}
    assert {"t1", "t2", "t3"} <= table_names(url)  # nothing the dialog did not show ran


def test_a_revision_file_edited_after_the_dialog_is_refused(tmp_path: Path, url: str) -> None:
    project = open_at(tmp_path, url, R1)
    engine = data_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO t1 (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')"))
    engine.dispose()
    plan = plan_upgrade(project.snapshot(), R2)  # the dialog shows create_table('t2')
    path = next((tmp_path / "proj/migrations/versions").glob(f"{R2}_*.py"))
    path.write_text(path.read_text().replace('op.create_table("t2"', 'op.drop_table("t1") #'))

    result = project.run_plan(plan)

    assert not result.ok and result.plan_changed
    assert f"{R2}'s file changed since you confirmed" in result.error
    assert applied(url) == {R1}
    assert "t1" in table_names(url) and "t2" not in table_names(url)
    engine = data_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM t1")).scalar() == 3
    engine.dispose()


def test_a_file_rewritten_keeping_size_and_mtime_is_refused_then_planned_anew(
        tmp_path: Path) -> None:
    """Same size, same mtime (``cp -p``, ``touch -r``, an archive), in one session: the
    module imported before would still run. The plan's check reads the bytes, refuses,
    and the plan made again shows (and runs) what the file now says."""
    url = sqlite_url(tmp_path / "same.db")
    project = open_at(tmp_path, url, R1)
    plan = plan_upgrade(project.snapshot(), R2)  # the dialog: create_table('t2')
    assert plan.steps[0].sha256
    path = next((tmp_path / "proj/migrations/versions").glob(f"{R2}_*.py"))
    before = path.stat()
    text = path.read_text()
    assert '"t2"' in text
    path.write_text(text.replace('"t2"', '"t9"'))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size

    result = project.run_plan(plan)

    assert not result.ok and result.plan_changed
    assert f"{R2}'s file on disk is not what migtui read and showed" in result.error
    assert result.error.endswith("nothing ran")
    assert applied(url) == {R1} and "t2" not in table_names(url)
    again = plan_upgrade(project.snapshot(), R2)  # offered again: from the new bytes
    assert again.steps[0].sha256 != plan.steps[0].sha256
    assert project.run_plan(again).ok
    assert applied(url) == {R2}
    assert "t9" in table_names(url) and "t2" not in table_names(url)


@pytest.mark.parametrize("change", ["broken", "removed"])
def test_a_file_broken_or_removed_after_the_dialog_says_nothing_ran(
        tmp_path: Path, change: str) -> None:
    url = sqlite_url(tmp_path / "broken.db")
    project = open_at(tmp_path, url, R1)
    plan = plan_upgrade(project.snapshot(), R2)  # the dialog: create_table('t2')
    versions = tmp_path / "proj/migrations/versions"
    if change == "broken":
        path = next(versions.glob(f"{R3}_*.py"))
        text = path.read_text()
        path.write_text(text.replace(f"down_revision = {R2!r}", f"down_revision = ({R2!r}"))
    else:  # r2's file: r3 is left pointing at a revision no file defines
        next(versions.glob(f"{R2}_*.py")).unlink()

    result = project.run_plan(plan)

    assert not result.ok and result.plan_changed
    assert result.error.startswith(
        "Since you confirmed, the revision files changed and nothing ran: Alembic cannot "
        "load the revisions")
    assert applied(url) == {R1} and "t2" not in table_names(url)


def test_a_revision_added_by_git_pull_is_not_run(tmp_path: Path, url: str) -> None:
    folder = write_project(tmp_path / "proj", url=url, revisions=CHAIN[:2])
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade(R1).ok
    plan = plan_upgrade(project.snapshot(), R2)
    # A pull adds r3 on top and moves r2's child chain: the plan still names only r2.
    (folder / "migrations/versions" / f"{R3}_create_t3.py").write_text(CHAIN[2].source())

    result = project.run_plan(plan)

    assert result.ok, result.error  # r2 as confirmed, and nothing more
    assert applied(url) == {R2}
    assert "t3" not in table_names(url)


def test_an_unchanged_plan_runs(tmp_path: Path, url: str) -> None:
    project = open_at(tmp_path, url, R2)
    result = project.run_plan(plan_step_down(project.snapshot(), R2))
    assert result.ok, result.error
    assert applied(url) == {R1}
    assert "t2" not in table_names(url)


# Another process: take the write lock, move the database to r3, commit 2 s later.
MOVE_UNDER_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
db.execute("CREATE TABLE t3 (id INTEGER PRIMARY KEY, name VARCHAR(50))")
db.execute("INSERT INTO t3 VALUES (1, 'kept')")
db.execute("UPDATE alembic_version SET version_num = ?", (sys.argv[2],))
print("locked", flush=True)
time.sleep(2)
db.execute("COMMIT")
"""


def test_sqlite_lock_held_while_another_process_moves_the_database(tmp_path: Path) -> None:
    """Case 1 of the trust issue: BEGIN EXCLUSIVE elsewhere, the database moved to r3 and
    committed a few seconds later; the confirmed one-step downgrade must not drop t3."""
    url = sqlite_url(tmp_path / "trust.db")
    project = open_at(tmp_path, url, R2)
    plan = plan_step_down(project.snapshot(), R2)
    mover = subprocess.Popen([sys.executable, "-c", MOVE_UNDER_LOCK, str(tmp_path / "trust.db"),
                              R3],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert mover.stdout is not None and mover.stdout.readline().strip() == "locked"
        result = project.run_plan(plan)
    finally:
        mover.wait(timeout=60)
    assert not result.ok
    assert applied(url) == {R3}
    assert {"t1", "t2", "t3"} <= table_names(url)


def test_a_lock_on_an_unrelated_postgresql_table_delays_nothing(
    tmp_path: Path, pg_url: str
) -> None:
    """Case 3 of the trust issue: an open transaction holds ACCESS EXCLUSIVE on t1. The
    schema still reads (t1 marked with its holder), the status reads, and the step that
    does not touch t1 runs."""
    from migtui.core.schema.inspector import DatabaseInspector

    project = open_at(tmp_path, pg_url, R1)
    holder = sa.create_engine(pg_url)
    with holder.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        conn.execute(sa.text("LOCK TABLE t1 IN ACCESS EXCLUSIVE MODE"))

        schema = DatabaseInspector(project).read_schema()
        status = project.status()
        result = project.run_plan(plan_upgrade(project.snapshot(), R2))

        conn.rollback()
    holder.dispose()
    t1 = schema.get(TableRef("t1"))
    assert t1 is not None and t1.rows is None
    assert t1.problem.startswith(f"locked by pid {pid}") and "LOCK TABLE t1" in t1.problem
    assert status.current_heads == (R1,)
    assert result.ok, result.error
    assert applied(pg_url) == {R2}


def test_a_refused_first_upgrade_leaves_no_sqlite_file(tmp_path: Path) -> None:
    """The dialog said "the first upgrade creates it"; refused, nothing was created."""
    database = tmp_path / "new.db"
    folder = write_project(tmp_path / "proj", url=sqlite_url(database), revisions=CHAIN)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    plan = plan_upgrade(project.snapshot(), R1)
    path = next((folder / "migrations/versions").glob(f"{R1}_*.py"))
    path.write_text(path.read_text().replace('"t1"', '"t_other"'))

    result = project.run_plan(plan)

    assert not result.ok and result.plan_changed
    assert not database.exists()
    assert project.run_plan(plan_upgrade(project.snapshot(), R1)).ok  # as it is now
    assert table_names(sqlite_url(database)) == {"t_other"}


# env.py whose engine lives in a module beside it: imported once, it keeps its pooled
# connection open between runs (as an app's shared `engine` does).
ENV_SHARED_ENGINE = '''\
import importlib, os, sys

from alembic import context

sys.path.insert(0, os.path.dirname(__file__))
engine = importlib.import_module("MODULE").engine
sys.path.pop(0)

with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
'''


def test_a_refused_first_upgrade_keeps_a_file_a_pooled_engine_holds(tmp_path: Path) -> None:
    """Deleting it would send the next upgrade to a file no longer on disk."""
    database = tmp_path / "pooled.db"
    module = f"shared_engine_{abs(hash(str(tmp_path)))}"  # one per test: sys.modules keeps it
    folder = write_project(tmp_path / "proj", url=sqlite_url(database), revisions=CHAIN,
                           env_py=ENV_SHARED_ENGINE.replace("MODULE", module))
    (folder / "migrations" / f"{module}.py").write_text(
        "from sqlalchemy import create_engine\n"
        f"engine = create_engine({sqlite_url(database)!r})\n")
    project = Project.open(ProjectOptions(cwd=str(folder)))
    plan = plan_upgrade(project.snapshot(), R1)
    path = next((folder / "migrations/versions").glob(f"{R1}_*.py"))
    path.write_text(path.read_text().replace('"t1"', '"t_other"'))

    result = project.run_plan(plan)

    assert not result.ok and result.plan_changed
    assert project.run_plan(plan_upgrade(project.snapshot(), R1)).ok
    assert table_names(sqlite_url(database)) == {"t_other"}  # on disk, not in a lost file
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(R1,)]


@pytest.mark.parametrize("dialect", DATABASES)
def test_one_step_down_from_a_merge_point_undoes_the_merge_alone(
        request: pytest.FixtureRequest, dialect: str, tmp_path: Path) -> None:
    """Alembic's MERGE@-1 is an ambiguous walk; `d` from a merge point runs."""
    url = server_url(request, dialect, tmp_path)
    folder = write_project(tmp_path / "proj", url=url, revisions=(
        Rev("a1a1a1a1a1a1", None, "base table", "base_t"),
        Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "left", "left_t"),
        Rev("c3c3c3c3c3c3", "a1a1a1a1a1a1", "right", "right_t"),
        Rev("d4d4d4d4d4d4", ("b2b2b2b2b2b2", "c3c3c3c3c3c3"), "merge"),
    ))
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade("head").ok
    plan = plan_step_down(project.snapshot(), "d4d4d4d4d4d4")
    assert [s.revision for s in plan.steps] == ["d4d4d4d4d4d4"]
    assert plan.description == ("Downgrade one step from d4d4d4d4d4d4, leaving the "
                                "database on 2 heads")
    to_left = plan_downgrade(project.snapshot(), "b2b2b2b2b2b2")  # (the same, as D says it)
    assert to_left.description == "Downgrade to b2b2b2b2b2b2, leaving the database on 2 heads"
    assert plan_downgrade(project.snapshot(), "a1a1a1a1a1a1").description == (
        "Downgrade to a1a1a1a1a1a1")
    assert plan.steps[0].warnings == ()  # both functions empty: nothing is lost
    checked = check_plan(project, plan, dialect)
    assert not [r for r in checked.risks if r.kind == IRREVERSIBLE], checked.risks

    result = project.run_plan(plan)

    assert result.ok, result.error
    assert applied(url) == {"b2b2b2b2b2b2", "c3c3c3c3c3c3"}
    assert table_names(url) == {"base_t", "left_t", "right_t"}
    merge = plan_upgrade(project.snapshot(), "d4d4d4d4d4d4")
    checked = check_plan(project, merge, dialect)
    assert not [r for r in checked.risks if r.kind == IRREVERSIBLE], checked.risks
