"""MariaDB commits DDL as it runs: a two-statement step that fails on its second
statement keeps its first. The database holds it, alembic_version does not move, and the
app says both: in the error (which statement stayed, what alembic_version says, the
schema against before the step), on the status line and the revision's graph row
("partially applied", also after a restart, until alembic_version changes or the user
clears it), in the error details and on the tables screen."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import table_names
from projects import data_engine
from test_robustness_db import failing_project
from test_tables_screen import listed
from textual.widgets import Static
from ui_helpers import make_app, row_of, screen_lines, settle, status_text, widget_text

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.screens.dialogs import TextScreen

FAILING = "fa11fa11fa11"


def versions(url: str) -> list[str]:
    engine = data_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT version_num FROM alembic_version"))
                        .scalars())
    finally:
        engine.dispose()


@pytest.fixture
def half_done(tmp_path: Path, mariadb_url: str, monkeypatch: pytest.MonkeyPatch
              ) -> tuple[Path, str]:
    """A project on MariaDB at its second revision; the third fails on its 2nd statement."""
    project, second = failing_project(tmp_path / "p", mariadb_url)
    monkeypatch.chdir(project)
    assert Project.open(ProjectOptions(cwd=str(project))).upgrade(second).ok
    return project, second


def test_the_result_says_what_stayed(half_done: tuple[Path, str], mariadb_url: str) -> None:
    folder, second = half_done
    project = Project.open(ProjectOptions(cwd=str(folder)))
    result = project.upgrade("heads")
    assert not result.ok
    assert result.heads_after == (second,) and versions(mariadb_url) == [second]
    assert "half_done" in table_names(mariadb_url), "the CREATE TABLE committed"
    assert result.partial is not None
    assert result.partial.step == f"upgrade {second[:12]} -> {FAILING}"
    assert result.partial.revision == FAILING and result.partial.heads == (second,)
    [stayed] = result.partial.statements
    assert stayed.lstrip().startswith("CREATE TABLE half_done")
    assert "MariaDB could not roll back 1 statement of this step (CREATE TABLE half_done" \
        in result.error
    assert (f"alembic_version still says {second[:12]}: the database is partially applied "
            f"{FAILING}") in result.error
    # The snapshot keeps saying so while the heads are as the failure left them.
    assert project.snapshot().partial == result.partial
    assert project.downgrade("base").ok
    assert project.snapshot().partial is None


async def test_the_app_shows_the_half_applied_step(
        half_done: tuple[Path, str], mariadb_url: str) -> None:
    folder, second = half_done
    app = make_app(folder)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("U")  # the top row: the failing revision
        await settle(pilot)  # y applies once the checks are shown
        await pilot.press("y")
        await settle(pilot)
        assert app.state.last_error is not None
        message, _ = app.state.last_error
        assert "MariaDB could not roll back 1 statement of this step" in message
        assert f"alembic_version still says {second[:12]}" in message
        # The live schema against the schema read just before the step.
        assert "against the schema before the step: + table half_done (id) (e: which)" \
            in message
        status = " ".join(status_text(app).split())
        assert f"current: {second[:12]}" in status
        assert f"⚠ partially applied {FAILING} (1 statement of its step stayed; e: which)" \
            in status
        # The revision's own row says so too; the row below it is where alembic_version is.
        assert "⚠ partially applied (1 statement stayed; e: which)" \
            in row_of(app, FAILING)
        assert "(current)" in row_of(app, second) and "partially" not in row_of(app, second)
        toast = " ".join(" ".join(screen_lines(app)).split())
        assert "(e: which)" in toast and "(e: details)" not in toast, "one hint, not two"

        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, TextScreen)
        details = widget_text(app.screen.query_one("#text-content", Static))
        assert "Statements of this step that ran before the failure:\n\nCREATE TABLE half_done" \
            in details
        assert "INSERT INTO no_such_table" in details
        assert "→ stayed: MariaDB commits DDL as it runs" in details
        assert ("The schema now, against the schema read just before the step:\n"
                "+ table half_done (id)") in details
        assert f"alembic_version now says: {second[:12]}" in details
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("t")
        await settle(pilot)
        assert "half_done" in listed(app), "the tables screen shows what stayed"
        assert versions(mariadb_url) == [second] and "half_done" in table_names(mariadb_url)

        # Undo by hand what stayed, fix the revision, upgrade: no longer partial.
        engine = data_engine(mariadb_url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE half_done"))
        engine.dispose()
        path = folder / "migrations" / "versions" / "fa11fa11fa11_fail.py"
        path.write_text(path.read_text().replace(
            '    op.execute("INSERT INTO no_such_table VALUES (1)")\n', ""))
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("home", "U")
        await settle(pilot)  # y applies once the checks are shown
        await pilot.press("y")
        await settle(pilot)
        assert versions(mariadb_url) == [FAILING]
        assert "partially applied" not in status_text(app)


def _set_version(url: str, revision: str) -> None:
    """Another tool moves alembic_version (as `alembic stamp` would)."""
    engine = data_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    engine.dispose()


async def test_the_mark_survives_a_restart_until_the_database_moves(
        half_done: tuple[Path, str], mariadb_url: str) -> None:
    folder, second = half_done
    app = make_app(folder)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("U")
        await settle(pilot)  # y applies once the checks are shown
        await pilot.press("y")
        await settle(pilot)
        assert "partially applied" in status_text(app)

    # A new run of migtui: the failure is not on screen, the mark is.
    app = make_app(folder)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert "⚠ partially applied (1 statement stayed; e: which)" in row_of(app, FAILING)
        assert f"⚠ partially applied {FAILING}" in " ".join(status_text(app).split())
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, TextScreen)
        details = widget_text(app.screen.query_one("#text-content", Static))
        assert f"upgrade {second[:12]} -> {FAILING} failed halfway on " in details
        assert "Statements of this step that stayed in the database:\n\nCREATE TABLE half_done" \
            in details
        assert "against the schema read just before the step:\n+ table half_done (id)" \
            in details
        assert f"alembic_version said {second[:12]} then and still does" in details
        await pilot.press("escape")
        await settle(pilot)
        assert versions(mariadb_url) == [second] and "half_done" in table_names(mariadb_url)

        # Repaired by hand: the user clears the mark from the command palette.
        engine = data_engine(mariadb_url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE half_done"))
        engine.dispose()
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Forget the")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "partially applied" not in status_text(app)
        assert "partially applied" not in row_of(app, FAILING)

    app = make_app(folder)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert "partially applied" not in status_text(app), "cleared for good"


def test_the_mark_goes_when_alembic_version_changes(
        half_done: tuple[Path, str], mariadb_url: str) -> None:
    folder, second = half_done
    first = Project.open(ProjectOptions(cwd=str(folder)))
    failed = first.upgrade("heads")
    assert failed.partial is not None
    # Kept for the next run: a new Project object (as a restart has) still sees it...
    again = Project.open(ProjectOptions(cwd=str(folder)))
    assert again.snapshot().partial == failed.partial
    # ...until another tool moves alembic_version: the mark goes, and stays gone.
    parent = again.graph().get(second)
    assert parent is not None and parent.down_revisions
    _set_version(mariadb_url, parent.down_revisions[0])
    assert again.snapshot().partial is None
    _set_version(mariadb_url, second)  # back where the failure left it: still gone
    assert Project.open(ProjectOptions(cwd=str(folder))).snapshot().partial is None
