"""A broken or missing revision file on the database's own lineage: the revisions below
it are neither applied nor pending as far as migtui can tell, and the graph says so.

The sample is upgraded to head with the alembic CLI, then the middle revision's header
is broken (its down_revision cannot be read). The head is applied (the database says
so); the first revision is applied too (Alembic ran it), but no readable file links the
head to it: the graph marks it "·" (not known), not "○" (pending), and the status line
counts "? pending" rather than a number that would say it still has to run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Static
from ui_helpers import make_app, row_of, settle, status_text, widget_text

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.screens.confirm import ConfirmScreen
from migtui.screens.dialogs import TextScreen

FIRST, MIDDLE, HEAD = "3f1a2c9d0b11", "8c2e47d1a5f0", "c5d9e0f3b7a2"


def _alembic(project: Path, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "alembic", *args], cwd=project, check=True,
                          capture_output=True, text=True).stdout


def _break_header(project: Path, revision: str) -> Path:
    (path,) = (project / "migrations" / "versions").glob(f"{revision}_*.py")
    lines = path.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("down_revision"))
    lines[at] = "down_revision: str = (\n"  # never closed: the file cannot be read
    path.write_text("".join(lines))
    return path


@pytest.fixture
def at_head_middle_broken(sample_sqlite: Path) -> Path:
    _alembic(sample_sqlite, "upgrade", "head")
    _break_header(sample_sqlite, MIDDLE)
    return sample_sqlite


def test_the_snapshot_does_not_call_revisions_below_the_gap_pending(
        at_head_middle_broken: Path) -> None:
    project = Project.open(ProjectOptions(cwd=str(at_head_middle_broken)))
    snapshot = project.snapshot()
    assert snapshot.database.current_heads == (HEAD,)
    assert snapshot.lineage_broken
    assert snapshot.applied == {HEAD}
    assert snapshot.unknown == {FIRST}
    assert snapshot.pending == ()


async def test_the_graph_marks_them_not_known(at_head_middle_broken: Path) -> None:
    app = make_app(at_head_middle_broken)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        assert "●" in row_of(app, HEAD)
        first = row_of(app, FIRST)
        assert "·" in first and "○" not in first and "●" not in first, first
        status = status_text(app)
        assert "? pending" in status and "1 pending" not in status, status
        assert "broken" in status or "cannot" in status, status
        await pilot.press("e")  # the details say why the base is "·"
        await settle(pilot)
        assert isinstance(app.screen, TextScreen)
        details = " ".join(widget_text(w) for w in app.screen.query(Static))
        assert f"Shown · (not known): {FIRST}" in " ".join(details.split()), details
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("u")  # nothing is planned from a revision it may already hold
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)


async def test_a_pending_revision_above_the_database_stays_pending(
        sample_sqlite: Path) -> None:
    """Only what lies below the gap is not known: a revision above the database's head
    is pending however the lineage below is broken, and counted as such."""
    _alembic(sample_sqlite, "upgrade", MIDDLE)
    (first,) = (sample_sqlite / "migrations" / "versions").glob(f"{FIRST}_*.py")
    first.unlink()  # the base's file gone: the middle revision names a missing parent
    project = Project.open(ProjectOptions(cwd=str(sample_sqlite)))
    snapshot = project.snapshot()
    assert snapshot.lineage_broken and snapshot.applied == {MIDDLE}
    assert snapshot.pending == (HEAD,) and snapshot.unknown == frozenset()
    app = make_app(sample_sqlite)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        assert "○" in row_of(app, HEAD)
        assert "1 pending" in status_text(app), status_text(app)


def test_an_intact_history_has_nothing_unknown(sample_sqlite: Path) -> None:
    _alembic(sample_sqlite, "upgrade", FIRST)
    snapshot = Project.open(ProjectOptions(cwd=str(sample_sqlite))).snapshot()
    assert not snapshot.lineage_broken and snapshot.unknown == frozenset()
    assert snapshot.pending == (HEAD, MIDDLE)
