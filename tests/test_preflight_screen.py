"""The pre-flight checks and the rehearsal as a user sees them: marks in the graph rows,
risks and their counts in the confirmation dialog, the rehearsal report (h), and the
recorded operations in the revision details; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATABASES, server_url
from preflight_helpers import chain, open_project, run_sql, write_project
from test_preflight import NOT_NULL_COLUMN, ROWS, TABLE
from test_rehearsal import FAILS, GOOD, prepared, state
from textual.widgets import Button, Static, TabbedContent
from ui_helpers import make_app, row_of, settle, widget_text

from migtui.screens.confirm import ConfirmScreen
from migtui.screens.details import RevisionDetailsScreen


@pytest.fixture(params=DATABASES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: a SQLite file, a fresh PostgreSQL or MariaDB database."""
    return server_url(request, request.param, tmp_path)


# -- on screen ------------------------------------------------------------------------


async def test_risks_on_screen(tmp_path: Path, url: str) -> None:
    revs = chain(TABLE, NOT_NULL_COLUMN)
    write_project(tmp_path, url, revs)
    assert open_project(tmp_path).upgrade(revs[0].revision).ok
    run_sql(url, ROWS)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # The pending revision is marked before any key is pressed.
        assert "⚠ NOT NULL column without default" in row_of(app, revs[1].revision)
        assert "⚠" not in row_of(app, revs[0].revision), "applied rows carry no mark"

        await pilot.press("u")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        steps = widget_text(screen.query_one("#confirm-steps", Static))
        assert "add_column('t', 'age' INTEGER NOT NULL)" in steps
        warning = widget_text(screen.query_one("#confirm-warning", Static))
        if url.startswith("mysql"):  # no error there: every row gets 0 (checks/mysql.py)
            assert ("⚠ keeps bad data: implicit default: age is NOT NULL without a server "
                    "default: MySQL fills it in 2 rows of t") in " ".join(steps.split())
            assert "On this database: keeps bad data (1)" in warning
        else:
            assert "⚠ will fail: age is NOT NULL without a server default and t has 2 rows" \
                in steps
            assert "On this database: will fail (1)" in warning
        assert "safer: " in steps and "add it nullable" in steps
        if not url.startswith("mysql"):  # (bad data is not blocking)
            assert screen.focused is screen.query_one("#no", Button), "start on Cancel"
        await pilot.press("n")
        await settle(pilot)

        await pilot.press("home", "enter")
        await settle(pilot)
        details = app.screen
        assert isinstance(details, RevisionDetailsScreen)
        details.query_one(TabbedContent).active = "tab-ops"
        await settle(pilot)
        ops = widget_text(details.query_one("#details-ops", Static))
        assert "upgrade()\n   add_column('t', 'age' INTEGER NOT NULL)" in ops


# -- in the confirmation dialog ---------------------------------------------------------


async def test_rehearse_key_in_the_dialog(tmp_path: Path, url: str) -> None:
    if url.startswith("mysql"):
        pytest.skip("MariaDB commits DDL as it runs: no rehearsal is offered there "
                    "(test_mariadb_dialog_says_no_rollback_and_no_rehearsal)")
    _, plan = prepared(tmp_path, url, GOOD, FAILS)
    before = state(url)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("U")  # upgrade to the selected revision: the head
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        rehearse = screen.query_one("#rehearse", Button)
        assert rehearse.display and not rehearse.disabled
        checks = " ".join(widget_text(screen.query_one("#confirm-checks", Static)).split())
        if url.startswith("sqlite"):  # what Alembic does on SQLite, said exactly
            assert ("Not always rolled back whole on this database: Alembic runs SQLite "
                    "without transactional DDL, so the DDL a step runs before its first data "
                    "change (INSERT, UPDATE, DELETE) commits at once; if the step fails "
                    "after it, that DDL stays (a batch step's _alembic_tmp_ copy of its "
                    "table too) and alembic_version still names the revision before it."
                    ) in checks
        else:
            assert "rolled back" not in checks.replace("then rolls back", "")
        await pilot.press("h")
        await settle(pilot)
        report = widget_text(screen.query_one("#confirm-rehearsal", Static))
        first, second = plan.steps[0].revision, plan.steps[1].revision
        assert f"✓ upgrade {first}" in report
        assert f"✗ upgrade {second}" in report
        assert "failing statement: INSERT INTO _alembic_tmp_t" in report
        assert "Rolled back: the schema and alembic_version are exactly as before" in report
        assert isinstance(app.screen, ConfirmScreen), "the dialog stays open"
        await pilot.press("n")
        await settle(pilot)
    assert state(url) == before


async def test_mariadb_dialog_says_no_rollback_and_no_rehearsal(
        tmp_path: Path, mariadb_url: str) -> None:
    prepared(tmp_path, mariadb_url, GOOD)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        checks = " ".join(widget_text(screen.query_one("#confirm-checks", Static)).split())
        assert ("Cannot be rolled back on this database: MariaDB commits each DDL statement "
                "as it runs (and the data changes before it): if a step fails halfway, "
                "what it ran stays applied and alembic_version still names the revision "
                "before it.") in checks
        assert ("No rehearsal: MariaDB commits DDL as it runs: a rehearsal could not be "
                "rolled back (rehearsals run on PostgreSQL and SQLite).") in checks
        rehearse = screen.query_one("#rehearse", Button)
        assert rehearse.disabled and not rehearse.display, "not offered"
        await pilot.press("h")
        await settle(pilot)
        assert not screen.query_one("#confirm-rehearsal", Static).display
        await pilot.press("n")
        await settle(pilot)


async def test_no_rehearsal_offered_says_why(tmp_path: Path, pg_url: str) -> None:
    body = ('with op.get_context().autocommit_block():\n'
            '    op.create_index("ix_t_name", "t", ["name"], postgresql_concurrently=True)',
            'pass')
    prepared(tmp_path, pg_url, body)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#rehearse", Button).disabled
        assert "No rehearsal:" in widget_text(screen.query_one("#confirm-checks", Static))
        await pilot.press("h")
        await settle(pilot)
        assert not screen.query_one("#confirm-rehearsal", Static).display
        await pilot.press("n")


async def test_mariadb_rules_are_named_in_the_dialog(tmp_path: Path, mariadb_url: str) -> None:
    """Each MySQL/MariaDB rule of the README's table, by its name, in the confirmation
    (tested on MariaDB only: the one MySQL-family server CI starts)."""
    step = "\n".join([
        'from sqlalchemy.dialects import mysql',
        'op.alter_column("t", "name", existing_type=sa.String(50), type_=sa.Text())',
        'op.add_column("t", sa.Column("age", sa.Integer, nullable=False))',
        'op.alter_column("t", "code", new_column_name="zip", existing_type=sa.String(20))',
        'op.add_column("t", sa.Column("nick", mysql.VARCHAR(20, charset="utf8mb3")))',
    ])
    revs = chain(TABLE, step)
    write_project(tmp_path, mariadb_url, revs)
    assert open_project(tmp_path).upgrade(revs[0].revision).ok
    # A big table (more rows than the 100,000 of "big table"), so the copy is an alarm.
    run_sql(mariadb_url, "INSERT INTO t (id, name, code) SELECT seq, 'x', 'y' "
            "FROM seq_1_to_100001", "ANALYZE TABLE t")
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        steps = " ".join(widget_text(screen.query_one("#confirm-steps", Static)).split())
        assert "⚠ locks table: table copy: MySQL copies t to change the type of name" in steps
        assert "⚠ keeps bad data: implicit default: age is NOT NULL without a server " \
               "default: MySQL fills it in 100,001 rows of t" in steps
        assert "⚠ breaks running code: rename breaks running code: column t.code is " \
               "renamed to zip" in steps
        assert "⚠ keeps bad data: utf8 vs utf8mb4: nick of t is utf8mb3" in steps
        await pilot.press("n")
        await settle(pilot)
