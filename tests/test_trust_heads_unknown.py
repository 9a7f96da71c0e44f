"""After a write, heads that could not be read are told as unknown, never as "base"."""

from __future__ import annotations

from pathlib import Path

from projects import Rev, sqlite_url, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.plan import plan_upgrade
from migtui.core.actions.project import Project
from migtui.core.environments.bring import FleetRun, Outcome
from migtui.tui.writes import done_text
from projectkit.templates import ENV_STOCK

A, B = "a1a1a1a1a1a1", "b2b2b2b2b2b2"


def _project(tmp_path: Path) -> Project:
    """Two revisions; the second one's upgrade leaves a file behind that makes env.py
    fail on every later run (as a migration that breaks the project's settings would)."""
    flag = tmp_path / "settings.gone"
    env_py = ENV_STOCK.replace(
        'url = config.get_main_option("sqlalchemy.url")\n',
        'url = config.get_main_option("sqlalchemy.url")\n'
        f'if __import__("os").path.exists({str(flag)!r}):\n'
        '    raise RuntimeError("the settings are gone")\n')
    assert "settings are gone" in env_py
    revisions = (Rev(A, None, "create widget", "widget"),
                 Rev(B, A, "break the settings", upgrade=f"open({str(flag)!r}, 'w').close()"))
    dest = write_project(tmp_path / "p", env_py, sqlite_url(tmp_path / "db.sqlite"), revisions)
    return Project.open(ProjectOptions(cwd=str(dest)))


def test_a_run_whose_heads_cannot_be_read_afterwards_does_not_say_base(
        tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = project.run_plan(plan_upgrade(project.snapshot(), B))
    assert result.ok, result.error
    assert result.heads_after is None  # env.py now fails: nothing could be read
    text = done_text(result)
    assert "at base" not in text
    assert "now at unknown (the database's revision could not be read)" in text


def test_a_run_to_base_still_says_base(tmp_path: Path) -> None:
    project = _project(tmp_path)
    up = project.run_plan(plan_upgrade(project.snapshot(), A))
    assert up.ok and done_text(up).startswith("Upgraded 1 revision: now at a1a1a1a1a1a1")
    down = project.downgrade("base")
    assert down.ok and down.heads_after == () and "now at base" in done_text(down)


def test_a_fleet_run_that_cannot_read_the_failed_one_back_does_not_say_base() -> None:
    run = FleetRun((Outcome("dev", True, True, (B,)),
                    Outcome("prod", True, False, None, "the settings are gone")), B[:12])
    summary = run.summary()
    assert "prod failed (the settings are gone) and is at unknown" in summary
    assert "at base" not in summary
