"""env.py may run the migrations on a thread of its own (as some async projects do).

The alembic CLI works with such an env.py; so must migtui: status, offline SQL, the
pre-flight's live read, upgrade and downgrade, none waiting on a lock its caller holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from projects import LINEAR, sqlite_url, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.plan import plan_step_down, plan_upgrade
from migtui.core.actions.project import Project
from migtui.core.checks.preflight import check_plan
from migtui.core.schema.inspector import DatabaseInspector
from projectkit.templates import ENV_THREADED

T = TypeVar("T")


def within(seconds: float, call: Callable[[], T]) -> T:
    """The call's result; fails (instead of hanging the suite) if it deadlocks."""
    box: list[T] = []
    thread = threading.Thread(target=lambda: box.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{call} did not return within {seconds} s (deadlock?)"
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
