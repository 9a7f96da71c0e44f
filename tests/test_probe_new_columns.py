"""Pre-flight probes never send a broken query: a column added earlier in the same plan
(NULL in every row) has no duplicates and no orphans to count."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DATABASES, server_url
from projects import Rev, data_engine, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.plan import plan_upgrade
from migtui.core.actions.project import Project
from migtui.core.checks.preflight import check_plan


@pytest.fixture(params=DATABASES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: a SQLite file, a fresh PostgreSQL or MariaDB database."""
    return server_url(request, request.param, tmp_path, "probe.db")


def test_unique_and_foreign_key_on_a_column_added_earlier_in_the_plan(
    tmp_path: Path, url: str
) -> None:
    steps = [
        ("r2", "r1", 'op.add_column("t1", sa.Column("digest", sa.String(64)))'),
        ("r3", "r2", 'op.create_unique_constraint(None, "t1", ["digest"])'),
        ("r4", "r3", 'op.add_column("t1", sa.Column("parent", sa.Integer()))'),
        ("r5", "r4", 'op.create_foreign_key(None, "t1", "t1", ["parent"], ["id"])'),
    ]
    revisions = [Rev("r1", None, "create t1", "t1")] + [
        Rev(rev, down, rev, date=f"2026-01-0{n} 10:00:00.000000", upgrade=body)
        for n, (rev, down, body) in enumerate(steps, 2)]
    folder = write_project(tmp_path / "proj", url=url, revisions=revisions)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade("r1").ok
    engine = data_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO t1 (id, name) VALUES (1, 'a'), (2, 'a'), (3, 'b')"))
    engine.dispose()

    snapshot = project.snapshot()
    checked = check_plan(project, plan_upgrade(snapshot, "r5"), snapshot.database.dialect)

    assert checked.checked_live
    assert "could not run" not in checked.note, checked.note
    # SQLite's own rule (constraints need batch mode) is right to block; nothing else may.
    blocking = [r for r in checked.risks if r.blocking and "SQLite cannot ALTER" not in r.reason]
    assert not blocking, blocking
