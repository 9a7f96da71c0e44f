"""A migration that waits says on what, and cancel stops it with nothing applied.

A second real connection (PostgreSQL) or process (SQLite) holds the lock; the action
runs in a thread as the app runs it; the test reads what the watch reports, cancels,
then checks the database, also after the lock is released.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import column_names
from projects import Rev, applied, sqlite_url, write_project
from trust_helpers import R1, R2, project_at_r1

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.plan import plan_upgrade
from migtui.core.actions.project import Project
from migtui.core.env.watch import Watch
from migtui.core.models import ActionResult


def open_at_r1(tmp_path: Path, url: str) -> Project:
    return Project.open(ProjectOptions(cwd=str(project_at_r1(tmp_path, url))))


class Running:
    """The plan running in a worker thread, as the app runs it, with what it reported."""

    def __init__(self, project: Project) -> None:
        self.reports: list[str] = []
        self.watch = Watch(self.reports.append)
        self.result: ActionResult | None = None
        plan = plan_upgrade(project.snapshot(), R2)
        self.thread = threading.Thread(
            target=lambda: setattr(self, "result", project.run_plan(plan, watch=self.watch)))
        self.thread.start()

    def wait_for_report(self, needle: str, seconds: float = 20) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = [r for r in self.reports if needle in r]
            if found:
                return found[-1]
            time.sleep(0.1)
        raise AssertionError(f"no report with {needle!r}: {self.reports}")

    def cancel(self) -> ActionResult:
        self.watch.cancel()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "cancel did not stop the migration"
        assert self.result is not None
        return self.result


def test_postgresql_lock_on_the_steps_table_is_named_and_cancel_rolls_back(
    tmp_path: Path, pg_url: str
) -> None:
    project = open_at_r1(tmp_path, pg_url)
    holder = sa.create_engine(pg_url)
    with holder.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        conn.execute(sa.text("LOCK TABLE t1 IN ACCESS EXCLUSIVE MODE"))
        running = Running(project)
        report = running.wait_for_report("for a lock on t1")
        assert f"for a lock on t1 held by pid {pid}" in report and report.startswith("waiting")
        assert "LOCK TABLE t1" in report and "ALTER TABLE t1 ADD COLUMN extra" in report
        result = running.cancel()
        assert not result.ok and result.error.startswith("Cancelled as you asked")
        assert applied(pg_url) == {R1}
        conn.rollback()  # the lock is released: nothing may commit now
    holder.dispose()
    time.sleep(1)
    assert applied(pg_url) == {R1}
    assert "extra" not in column_names(pg_url, "t1")


# Another process: hold SQLite's write lock until told to stop (stdin closed).
HOLD_WRITE_LOCK = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("INSERT INTO t1 (id, name) VALUES (1, 'other writer')")
print("locked", flush=True)
sys.stdin.read()
db.execute("ROLLBACK")
"""


def hold_write_lock(path: Path, how: str = "IMMEDIATE") -> subprocess.Popen[str]:
    """``how``: IMMEDIATE lets others read; EXCLUSIVE blocks even Alembic's first read."""
    script = HOLD_WRITE_LOCK.replace("BEGIN IMMEDIATE", f"BEGIN {how}")
    return subprocess.Popen([sys.executable, "-c", script, str(path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


@pytest.mark.parametrize("how", ["IMMEDIATE", "EXCLUSIVE"])
def test_sqlite_writer_lock_is_waited_for_visibly_and_cancel_stops_waiting(
    tmp_path: Path, how: str
) -> None:
    url = sqlite_url(tmp_path / "trust.db")
    project = open_at_r1(tmp_path, url)
    holder = hold_write_lock(tmp_path / "trust.db", how)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        running = Running(project)
        report = running.wait_for_report("waiting for the database lock")
        assert "another connection is writing to trust.db" in report
        result = running.cancel()
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert not result.ok and result.error.startswith("Cancelled as you asked")
    assert applied(url) == {R1}
    assert "extra" not in column_names(url, "t1")


def test_sqlite_writer_lock_released_lets_the_step_run(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "trust.db")
    project = open_at_r1(tmp_path, url)
    holder = hold_write_lock(tmp_path / "trust.db")
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    running = Running(project)
    running.wait_for_report("waiting for the database lock")
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=30)
    running.thread.join(timeout=30)
    assert running.result is not None and running.result.ok, running.result
    assert applied(url) == {R2}
    assert "extra" in column_names(url, "t1")


def _row_lock_project(tmp_path: Path, url: str) -> Project:
    """t1 with one row at r1; r2 updates that row (a data migration)."""
    folder = write_project(tmp_path / "proj", url=url, revisions=(
        Rev(R1, None, "create t1", upgrade=(
            't1 = op.create_table("t1", sa.Column("id", sa.Integer(), primary_key=True),'
            ' sa.Column("name", sa.String(50)))\n'
            'op.bulk_insert(t1, [{"id": 1, "name": "first"}])'),
            downgrade='op.drop_table("t1")'),
        Rev(R2, R1, "rename the first row", date="2026-01-02 10:00:00.000000",
            upgrade="op.execute(\"UPDATE t1 SET name = 'renamed' WHERE id = 1\")",
            downgrade="op.execute(\"UPDATE t1 SET name = 'first' WHERE id = 1\")"),
    ))
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade(R1).ok
    return project


def _names(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT name FROM t1")).scalars())
    finally:
        engine.dispose()


def test_mariadb_row_lock_is_named_with_its_holder_and_cancel_rolls_back(
    tmp_path: Path, mariadb_url: str
) -> None:
    project = _row_lock_project(tmp_path, mariadb_url)
    holder = sa.create_engine(mariadb_url)
    with holder.connect() as conn:
        thread = conn.execute(sa.text("SELECT CONNECTION_ID()")).scalar()
        conn.execute(sa.text("SELECT name FROM t1 WHERE id = 1 FOR UPDATE"))
        running = Running(project)
        report = running.wait_for_report("for a row lock")
        assert f"for a row lock held by connection {thread} (in a transaction for" in report
        assert "UPDATE t1 SET name = 'renamed'" in report and report.startswith("waiting")
        result = running.cancel()
        assert not result.ok and result.error.startswith("Cancelled as you asked")
        conn.rollback()
    holder.dispose()
    assert applied(mariadb_url) == {R1}
    assert _names(mariadb_url) == ["first"]


def test_mariadb_lock_wait_is_named_for_a_user_without_the_process_privilege(
    tmp_path: Path, mariadb_url: str
) -> None:
    """InnoDB's transaction list needs PROCESS: without it the session's state is said."""
    user = f"u_{uuid.uuid4().hex[:8]}"
    database = sa.make_url(mariadb_url).database
    admin = sa.create_engine(mariadb_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'"))
        conn.execute(sa.text(f"GRANT ALL ON `{database}`.* TO '{user}'@'%'"))
    limited = sa.make_url(mariadb_url).set(username=user, password="pw").render_as_string(
        hide_password=False)
    try:
        project = open_at_r1(tmp_path, limited)
        holder = sa.create_engine(limited)
        with holder.connect() as conn:
            conn.execute(sa.text("SELECT * FROM t1"))  # an open transaction on t1
            running = Running(project)
            report = running.wait_for_report("metadata lock")
            assert report.startswith("waiting") and "for a lock (waiting for table" in report
            result = running.cancel()
            conn.rollback()
        holder.dispose()
        assert not result.ok and applied(limited) == {R1}
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP USER '{user}'@'%'"))
        admin.dispose()
