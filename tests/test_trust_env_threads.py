"""env.py may run the migrations on a thread of its own (as some async projects do).

The alembic CLI works with such an env.py; so must migtui: status, offline SQL, the
pre-flight's live read, upgrade and downgrade, none waiting on a lock its caller holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from projects import ENV_HOLDS, LINEAR, Rev, sqlite_url, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.plan import plan_step_down, plan_upgrade
from migtui.core.actions.project import Project
from migtui.core.checks.preflight import check_plan
from migtui.core.env import capture
from migtui.core.errors import MigtuiError
from migtui.core.schema.inspector import DatabaseInspector
from projectkit.templates import ENV_THREADED

T = TypeVar("T")


def within(seconds: float, call: Callable[[], T]) -> T:
    """The call's result; fails (instead of hanging the suite) if it deadlocks."""
    box: list[T] = []
    raised: list[BaseException] = []

    def run() -> None:
        try:
            box.append(call())
        except BaseException as exc:  # raised in the caller's thread below
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{call} did not return within {seconds} s (deadlock?)"
    if raised:
        raise raised[0]
    return box[0]


def test_an_env_py_that_runs_migrations_on_its_own_thread(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "threads.db")
    folder = write_project(tmp_path / "proj", env_py=ENV_THREADED, url=url, revisions=LINEAR)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    head = LINEAR[-1].revision
    first = LINEAR[0].revision

    snapshot = within(60, project.snapshot)
    assert snapshot.database.current_heads == ()
    sql = within(60, lambda: project.sql("upgrade", "base", head))
    assert "CREATE TABLE widget" in sql and "CREATE TABLE gadget" in sql

    plan = plan_upgrade(snapshot, head)
    checked = within(60, lambda: check_plan(project, plan, "sqlite"))
    assert checked.missing and "does not exist yet" in checked.note  # heard from the thread
    result = within(60, lambda: project.run_plan(plan))
    assert result.ok, result.error
    assert within(60, project.status).current_heads == (head,)
    schema = within(60, DatabaseInspector(project).read_schema)
    assert {t.ref.name for t in schema.tables} >= {"widget", "gadget"}

    step_down = plan_step_down(project.snapshot(), head)
    checked = within(60, lambda: check_plan(project, step_down, "sqlite"))
    assert checked.checked_live, checked.note
    down = within(60, lambda: project.run_plan(step_down))
    assert down.ok, down.error
    assert within(60, project.status).current_heads == (first,)


def hang_env_py(folder: Path, project: Project) -> threading.Thread:
    """A status read whose env.py (ENV_HOLDS) now hangs until "hold" is removed."""
    (folder / "hold").touch()
    (folder / "entered").unlink()
    stuck = threading.Thread(target=project.status, daemon=True)
    stuck.start()
    while not (folder / "entered").exists():
        time.sleep(0.05)
    return stuck


def test_a_hanging_env_py_makes_later_runs_say_so_instead_of_queueing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture, "ENV_WAIT_S", 1.0)
    url = sqlite_url(tmp_path / "hang.db")
    folder = write_project(tmp_path / "proj", env_py=ENV_HOLDS, url=url, revisions=LINEAR)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade(LINEAR[0].revision).ok
    stuck = hang_env_py(folder, project)

    status = within(30, project.status)  # `r` while env.py hangs
    schema = DatabaseInspector(project)
    try:
        with pytest.raises(MigtuiError, match="has not returned"):
            within(30, schema.read_schema)  # the tables screen
    finally:
        (folder / "hold").unlink()
        stuck.join(30)
    schema.close()

    assert not status.reachable and "An earlier env.py run has not returned" in status.error
    assert within(30, project.status).current_heads == (LINEAR[0].revision,)  # it returned


def test_closing_the_tables_screen_while_env_py_hangs_does_not_wait_for_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tables screen closes its inspector on the UI thread: it must not wait for
    ENV_LOCK (30 s of a frozen screen, then an EnvBusy that nothing catches)."""
    monkeypatch.setattr(capture, "ENV_WAIT_S", 1.0)
    url = sqlite_url(tmp_path / "close.db")
    folder = write_project(tmp_path / "proj", env_py=ENV_HOLDS, url=url, revisions=LINEAR)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade(LINEAR[0].revision).ok
    schema = DatabaseInspector(project)
    assert {t.ref.name for t in within(30, schema.read_schema).tables} >= {"widget"}
    stuck = hang_env_py(folder, project)
    try:
        within(5, schema.close)  # returns while env.py still hangs
        assert stuck.is_alive()
    finally:
        (folder / "hold").unlink()
        stuck.join(30)
    assert within(30, project.status).current_heads == (LINEAR[0].revision,)


def test_a_read_during_a_long_step_says_a_step_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture, "ENV_WAIT_S", 1.0)
    url = sqlite_url(tmp_path / "step.db")
    hold, entered = tmp_path / "hold", tmp_path / "entered"
    slow = Rev("a1a1a1a1a1a1", None, "a long step", upgrade=(
        "import pathlib, time\n"
        f"pathlib.Path({str(entered)!r}).touch()\n"
        f"while pathlib.Path({str(hold)!r}).exists():\n"
        "    time.sleep(0.05)\n"
        'op.create_table("widget", sa.Column("id", sa.Integer(), primary_key=True))'))
    folder = write_project(tmp_path / "proj", url=url, revisions=(slow,))
    project = Project.open(ProjectOptions(cwd=str(folder)))
    hold.touch()
    step = threading.Thread(target=lambda: project.upgrade("head"), daemon=True)
    step.start()
    while not entered.exists():
        time.sleep(0.05)
    try:
        with pytest.raises(MigtuiError, match="A step has been running") as raised:
            within(30, DatabaseInspector(project).read_schema)
        assert "restart" not in str(raised.value)
    finally:
        hold.unlink()
        step.join(30)
    assert within(30, project.status).current_heads == ("a1a1a1a1a1a1",)
