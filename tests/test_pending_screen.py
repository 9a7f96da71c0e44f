"""The pending-changes screen (autogenerate diff), driven with Pilot on real databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from autogen_helpers import (
    EXPECTED,
    change_models,
    edit_models,
    match_sample_timestamps,
    run_sql,
    sample_matches_models,  # noqa: F401  (autouse fixture)
    upgrade,
    upgrade_source,
)
from conftest import database_url, snapshot_sample, table_names
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static
from ui_helpers import make_app, settle, tabs_underlined, widget_text

from migtui.screens.confirm import ConfirmScreen
from migtui.screens.dialogs import PromptScreen, TextScreen
from migtui.screens.pending import PendingScreen
from migtui.tui.app import MigtuiApp
from migtui.widgets.revision_graph import RevisionGraphView

USER = "3f1a2c9d0b11"


def pending(app: MigtuiApp) -> PendingScreen:
    screen = app.screen
    assert isinstance(screen, PendingScreen), f"not on the pending screen: {screen}"
    return screen


def state_text(app: MigtuiApp) -> str:
    return widget_text(pending(app).query_one("#pending-state", Static))


def hint_text(app: MigtuiApp) -> str:
    hint = pending(app).query_one("#rename-hint", Static)
    return widget_text(hint) if hint.display else ""


def details_text(app: MigtuiApp) -> str:
    return widget_text(pending(app).query_one("#operation-details", Static))


def rows(app: MigtuiApp) -> list[str]:
    """Every row of the operation list as shown (table headings included)."""
    options = pending(app).query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt).strip()
            for i in range(options.option_count)]


async def select_row(pilot: Pilot[None], needle: str) -> None:
    """Move the highlight down until the highlighted row contains ``needle``."""
    options = pending(pilot.app).query_one(OptionList)  # type: ignore[arg-type]
    for _ in range(options.option_count + 1):
        index = options.highlighted
        if index is not None and needle in str(options.get_option_at_index(index).prompt):
            return
        await pilot.press("down")
    raise AssertionError(f"no row with {needle!r}: {rows(pilot.app)}")  # type: ignore[arg-type]


async def open_pending(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("a")
    await settle(pilot)


async def test_model_changes_write_and_apply(sample_project: Path) -> None:
    url = database_url(sample_project)
    upgrade(sample_project)
    change_models(sample_project)
    app = make_app(sample_project)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pending(pilot)
        screen = pending(app)
        assert screen.diff is not None
        assert {(op.kind, op.table, op.name) for op in screen.diff.operations} == EXPECTED
        shown = rows(app)
        for kind, _table, name in EXPECTED:
            assert any(kind in row and name in row for row in shown), (kind, name, shown)
        assert {"user", "post", "tag"} <= set(shown), "grouped under table headings"
        assert len(shown) == len(EXPECTED) + 3 + 1, "and the rename offered"
        [dropped] = [row for row in shown if "drop column" in row]
        assert dropped.startswith("[x]") and "⚠" in dropped
        assert not any("⚠" in row for row in shown if "add column" in row)
        assert "Models and database differ: 5 operations" in state_text(app)
        [offer] = [row for row in shown if "rename column" in row]
        assert "ssn → nickname" in offer and offer.startswith("[ ]")
        assert hint_text(app) == "", "offered as a rename instead of a hint"

        await select_row(pilot, "drop column")
        details = details_text(app)
        assert "drops the column" in details
        assert "drop_column(" in details and "'ssn')" in details
        assert "DROP" in details and "SQL (" in details
        await pilot.press("f")
        revision_file = widget_text(screen.query_one("#revision-file", Static))
        assert "def upgrade()" in revision_file and "create_table('tag'" in revision_file

        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("enter")  # empty: refused
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one(Input).value = "tags and nicknames"
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "graph"
        assert app.state.last_result is not None and app.state.last_result.ok
        new = app.state.last_result.new_revision
        assert new is not None
        body = upgrade_source(sample_project, new)
        for needle in ("create_table('tag'", "'nickname'", "'ssn')", "ix_post_title",
                       "sa.Text()"):
            assert needle in body
        selected = app.screen.query_one(RevisionGraphView).selected
        assert selected is not None and selected.revision == new

        await pilot.press("a")
        await settle(pilot)
        assert "Models and database differ" in state_text(app)
        assert "1 revision behind head" in state_text(app)
        await pilot.press("U")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert "Models and database match" in state_text(app)
        assert rows(app) == []
    assert "tag" in table_names(url)


async def test_refresh_sees_model_edits(sample_sqlite: Path) -> None:
    upgrade(sample_sqlite)
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pending(pilot)
        assert "Models and database match" in state_text(app)
        body = pending(app).query_one("#pending-body")
        assert not body.loading
        pending(app).compare()  # what `r` and reopening do
        assert body.loading, "a loading indicator while the worker runs"
        assert "Comparing the models with the database" in state_text(app)
        await settle(pilot)
        assert not body.loading
        assert "Models and database match" in state_text(app)
        await pilot.press("n")
        assert not isinstance(app.screen, PromptScreen), "nothing to write"

        edit_models(sample_sqlite, "    body: str\n",
                    "    body: str\n    score: float | None = None\n")
        await pilot.press("r")
        await settle(pilot)
        assert [row for row in rows(app) if "add column" in row] != []
        assert any("score" in row for row in rows(app))
        assert "differ: 1 operation" in state_text(app)
        assert hint_text(app) == "", "no drop + add: no rename hint"

        # Away and back again also compares again.
        edit_models(sample_sqlite, "    score: float | None = None\n", "")
        await pilot.press("g")
        await pilot.press("a")
        await settle(pilot)
        assert "Models and database match" in state_text(app)


async def test_database_behind_head(sample_sqlite: Path) -> None:
    upgrade(sample_sqlite, USER)
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pending(pilot)
        text = state_text(app)
        assert ("The database is 2 revisions behind head; autogenerate compares against "
                "what is applied") in text
        assert "U upgrades to head first" in text
        assert any(row == "post" for row in rows(app)), "compared against what is applied"
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, PromptScreen), "Alembic refuses: upgrade first"
        await pilot.press("U")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert len(app.screen.plan.steps) == 2
        await pilot.press("y")
        await settle(pilot)
        assert "Models and database match" in state_text(app)


async def test_no_target_metadata(sample_sqlite: Path) -> None:
    upgrade(sample_sqlite)
    env = sample_sqlite / "migrations" / "env.py"
    env.write_text(env.read_text().replace("target_metadata = SQLModel.metadata",
                                           "target_metadata = None"))
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pending(pilot)
        text = state_text(app)
        assert "Autogenerate needs target_metadata" in text
        assert "env.py" in text and "context.configure(target_metadata=" in text
        assert rows(app) == []


async def test_broken_model(sample_sqlite: Path) -> None:
    upgrade(sample_sqlite)
    edit_models(sample_sqlite, "    body: str\n", "    body: str = Field(\n")
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pending(pilot)
        text = state_text(app)
        assert "✗ Cannot compare the models with the database: SyntaxError" in text
        assert "(e: details, r: retry)" in text
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, TextScreen)
        details = widget_text(app.screen.query_one("#text-content", Static))
        assert "Traceback" in details and "models.py" in details
        await pilot.press("escape")
        # Fixed on disk: r compares again and the screen recovers.
        edit_models(sample_sqlite, "    body: str = Field(\n", "    body: str\n")
        await pilot.press("r")
        await settle(pilot)
        assert "Models and database match" in state_text(app)


async def test_null_count_on_change_to_not_null(sample_project: Path) -> None:
    url = database_url(sample_project)
    upgrade(sample_project)
    run_sql(url, "insert into \"user\" (name, email) values ('a', 'a@x'), ('b', 'b@x')")
    edit_models(sample_project, "    created_at: datetime | None = Field(default=None)\n",
                "    created_at: datetime\n")
    app = make_app(sample_project)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pending(pilot)
        [row] = [row for row in rows(app) if "nullable change" in row]
        assert row.startswith("[x]") and "⚠" in row and "created_at" in row
        assert "2 rows have NULL in created_at" in details_text(app)
        assert "1 ⚠ may lose data or fail" in state_text(app)
        await select_row(pilot, "nullable change")
        await pilot.press("space")  # rejected: not written, so not a risk of the revision
        await settle(pilot)
        assert "may lose data" not in state_text(app), state_text(app)


# -- snapshot -------------------------------------------------------------------

@pytest.fixture
def pending_fixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample (a URL that reads the same in every run) at head, models changed."""
    project = snapshot_sample(tmp_path / "pending", monkeypatch)
    match_sample_timestamps(project)
    upgrade(project)
    change_models(project)
    return project


def test_snapshot_with_changes(snap_compare, pending_fixed: Path) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await open_pending(pilot)
        # (not a user-table row: SQLite's table copy re-creates its indexes in set order)
        await select_row(pilot, "type change")
        await tabs_underlined(pilot)
        # The fixture's upgrade imported the models before they changed: whether the
        # toast saying so comes before `a` is a race (CI saw it). The screen, not it.
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(pending_fixed), terminal_size=(110, 34), run_before=run_before)
