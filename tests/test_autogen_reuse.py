"""A comparison reuses what the last one read of an SQLite schema, only while the schema is
the same (core.autogen.reflection_cache): same operations, same revision file as a first
read, and any DDL by another connection is seen. Real Alembic, real databases, Pilot."""

from __future__ import annotations

from pathlib import Path

from autogen_helpers import (
    EXPECTED,
    change_models,
    open_project,
    run_sql,
    sample_matches_models,  # noqa: F401  (autouse fixture)
    upgrade,
)
from conftest import database_url
from test_pending_screen import open_pending, pending, rows, state_text
from ui_helpers import make_app, settle

from migtui.core.autogen.diff import AutogenDiff, DiffState, compute_diff


def kinds(diff: AutogenDiff) -> set[tuple[str, str, str]]:
    return {(op.kind, op.table, op.name) for op in diff.operations}


def shown(diff: AutogenDiff) -> list[tuple[object, ...]]:
    """Every operation as shown, its SQL as a set of statements: the batch SQL's indexes
    come in any order, also between two first reads."""
    return [(op.kind, op.table, op.name, op.detail, op.python, op.warning, op.key,
             sorted(part.strip().rstrip(";") for part in op.sql.split(";\n\n")))
            for op in diff.operations]


def body(diff: AutogenDiff) -> str:
    """The revision file from its upgrade() on (above: a new revision id and date)."""
    return diff.revision_file.split("def upgrade()", 1)[1]


def test_a_second_comparison_finds_exactly_what_a_first_read_finds(
        sample_project: Path) -> None:
    upgrade(sample_project)
    change_models(sample_project)
    project = open_project(sample_project)
    first = compute_diff(project)
    second = compute_diff(project)
    assert first.state is DiffState.DIFFERS, first.error_details
    assert kinds(first) == EXPECTED
    assert shown(second) == shown(first)
    assert second.renames == first.renames
    assert body(second) == body(first)
    assert not first.reused_schema
    # Reused on SQLite only: elsewhere nothing tells that the catalogs did not change.
    assert second.reused_schema is (first.dialect == "sqlite")


def test_ddl_by_another_connection_is_seen(sample_project: Path) -> None:
    url = database_url(sample_project)
    upgrade(sample_project)
    project = open_project(sample_project)
    assert compute_diff(project).state is DiffState.MATCHES
    assert compute_diff(project).state is DiffState.MATCHES
    run_sql(url, "ALTER TABLE post ADD COLUMN extra VARCHAR(10)")
    seen = compute_diff(project)
    assert kinds(seen) == {("drop column", "post", "extra")}, seen.error_details
    assert not seen.reused_schema
    again = compute_diff(project)
    assert kinds(again) == {("drop column", "post", "extra")}
    assert again.reused_schema is (again.dialect == "sqlite")


def test_an_index_made_anew_on_another_column_is_seen(sample_sqlite: Path) -> None:
    """The same names, another definition: the schema's text tells them apart."""
    url = database_url(sample_sqlite)
    upgrade(sample_sqlite)
    project = open_project(sample_sqlite)
    assert compute_diff(project).state is DiffState.MATCHES
    run_sql(url, "DROP INDEX ix_user_name", 'CREATE INDEX ix_user_name ON "user" (email)')
    seen = compute_diff(project)
    assert kinds(seen) == {("drop index", "user", "ix_user_name"),
                           ("add index", "user", "ix_user_name")}, seen.error_details
    [added] = [op for op in seen.operations if op.kind == "add index"]
    assert added.detail == "name"


async def test_a_after_ddl_elsewhere_shows_it(sample_sqlite: Path) -> None:
    url = database_url(sample_sqlite)
    upgrade(sample_sqlite)
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pending(pilot)
        assert "Models and database match" in state_text(app)
        await pilot.press("g")
        await settle(pilot)
        run_sql(url, "ALTER TABLE post ADD COLUMN extra VARCHAR(10)")
        await pilot.press("a")
        await settle(pilot)
        shown = rows(app)
        assert any("drop column" in row and "extra" in row for row in shown), shown
        assert "1 operation" in state_text(app)
        assert pending(app).diff is not None and not pending(app).diff.reused_schema
