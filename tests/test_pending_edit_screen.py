"""Editing the pending changes on screen: space, renames, the file as written, live re-diff."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from autogen_helpers import (
    change_models,
    edit_models,
    run_sql,
    sample_matches_models,  # noqa: F401  (autouse fixture)
    upgrade,
    upgrade_source,
)
from conftest import database_url
from test_autogen_edit import SSN, SSN_INT, TAX_ID, column_values, fill_users
from test_autogen_rename_keys import AUTHOR_ID, USER_ID, joined, refused_orphan, values
from test_autogen_review import SCORE, SCORE_AND_RATING
from test_pending_screen import open_pending, pending, rows, select_row, state_text
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static
from ui_helpers import make_app, settle, widget_text

from migtui.screens.confirm import ConfirmScreen
from migtui.screens.dialogs import PromptScreen
from migtui.tui.app import MigtuiApp


def choices_text(app: MigtuiApp) -> str:
    return widget_text(pending(app).query_one("#pending-choices", Static))


def file_text(app: MigtuiApp) -> str:
    return widget_text(pending(app).query_one("#revision-file", Static))


def details_text(app: MigtuiApp) -> str:
    return widget_text(pending(app).query_one("#operation-details", Static))


def dialog_text(app: MigtuiApp) -> str:
    """What the confirmation before an upgrade says: steps, their risks and the warning."""
    parts = [widget_text(app.screen.query_one(f"#confirm-{part}", Static))
             for part in ("steps", "warning", "checks")]
    return " ".join(" ".join(parts).split())


async def write_it(pilot: Pilot[None], message: str) -> str:
    """n, a message, enter: the new revision's id."""
    app: MigtuiApp = pilot.app  # type: ignore[assignment]
    await pilot.press("n")
    await settle(pilot)
    assert isinstance(app.screen, PromptScreen)
    app.screen.query_one(Input).value = message
    await pilot.press("enter")
    await settle(pilot)
    result = app.state.last_result
    assert result is not None and result.ok, result
    assert result.new_revision is not None
    return result.new_revision


async def test_rename_accepted_on_screen_keeps_1000_values(sample_project: Path) -> None:
    url = database_url(sample_project)
    upgrade(sample_project)
    fill_users(url)
    edit_models(sample_project, SSN, TAX_ID)
    app = make_app(sample_project)
    async with app.run_test(size=(130, 44)) as pilot:
        await open_pending(pilot)
        [offer] = [row for row in rows(app) if "rename column" in row]
        assert offer.startswith("[ ]") and "ssn → tax_id" in offer
        assert "keeps 1,000 values" in offer
        assert "2 of 2 operations will be written" in choices_text(app)
        assert "1 ⚠ may lose data or fail" in state_text(app), "the drop loses ssn's values"
        await select_row(pilot, "rename column")
        evidence = details_text(app)
        for needle in ("type      VARCHAR(11) → VARCHAR(11)", "nullable  NULL → NULL",
                       "position  4 → 4", "1,000 non-NULL in ssn (of 1,000 rows)",
                       "the values in ssn are lost"):
            assert needle in evidence, (needle, evidence)

        await pilot.press("space")
        await settle(pilot)
        [offer] = [row for row in rows(app) if "rename column" in row]
        assert offer.startswith("[x]")
        assert all(row.startswith("[↔]") for row in rows(app) if "column" in row
                   and "rename" not in row)
        assert "a drop and an add written as one: renamed user.ssn → tax_id" in choices_text(app)
        assert "may lose data" not in state_text(app), "the accepted rename keeps the values"
        assert "the data stays" in details_text(app)
        await pilot.press("f")
        shown = file_text(app)
        assert "new_column_name='tax_id'" in shown and "drop_column" not in shown

        new = await write_it(pilot, "rename ssn")
        assert "new_column_name='tax_id'" in upgrade_source(sample_project, new)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "1,000" not in dialog_text(app), "a rename loses nothing"
        await pilot.press("y")
        await settle(pilot)
        assert column_values(url, "tax_id") == [f"ssn-{i}" for i in range(1000)]

        await pilot.press("g")
        await settle(pilot)
        await pilot.press("d")  # and back, from the graph
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "1,000" not in dialog_text(app), "renaming back loses nothing either"
        await pilot.press("y")
        await settle(pilot)
    assert column_values(url, "ssn") == [f"ssn-{i}" for i in range(1000)]


async def test_rename_rejected_warns_before_u(sample_project: Path) -> None:
    url = database_url(sample_project)
    upgrade(sample_project)
    fill_users(url)
    edit_models(sample_project, SSN, TAX_ID)
    app = make_app(sample_project)
    async with app.run_test(size=(130, 44)) as pilot:
        await open_pending(pilot)
        await select_row(pilot, "rename column")
        await pilot.press("space", "space")  # accepted, then rejected again
        await settle(pilot)
        [offer] = [row for row in rows(app) if "rename column" in row]
        assert offer.startswith("[ ]"), offer
        assert "the values in ssn are lost" in details_text(app)
        assert "drop_column" in file_text(app) and "new_column_name" not in file_text(app)
        new = await write_it(pilot, "drop and add")
        body = upgrade_source(sample_project, new)
        assert "drop_column(" in body and "'ssn')" in body and "'tax_id'" in body
        assert "new_column_name" not in body
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        shown = dialog_text(app)
        assert "drops user.ssn, which holds a value in 1,000 rows" in shown, shown


async def test_a_renamed_key_column_keeps_its_key_on_screen(sample_sqlite: Path) -> None:
    """post.user_id becomes author_id: accepting the rename marks the foreign key's drop
    and add as part of it, and neither is in the file; the key works after u."""
    upgrade(sample_sqlite)
    url = database_url(sample_sqlite)
    fill_users(url, 3)
    run_sql(url, "insert into post (title, body, user_id) values ('t', 'b', 2)")
    edit_models(sample_sqlite, USER_ID, AUTHOR_ID)
    app = make_app(sample_sqlite)
    async with app.run_test(size=(130, 44)) as pilot:
        await open_pending(pilot)
        assert "create_foreign_key" in file_text(app)
        await select_row(pilot, "rename column")
        await pilot.press("space")
        await settle(pilot)
        keys = [row for row in rows(app) if "foreign key" in row]
        assert len(keys) == 2 and all(row.startswith("[↔]") for row in keys), keys
        assert "1 key or index: the rename keeps it" in details_text(app)
        shown = file_text(app)
        assert "new_column_name='author_id'" in shown and "foreign_key" not in shown
        new = await write_it(pilot, "author")
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
    assert "constraint" not in upgrade_source(sample_sqlite, new)
    assert values(url, "post", "author_id") == [2]
    assert joined(url, "author_id", "user") == 1 and refused_orphan(url, "author_id")


async def test_rejected_operation_is_not_written(sample_sqlite: Path) -> None:
    upgrade(sample_sqlite)
    change_models(sample_sqlite)
    app = make_app(sample_sqlite)
    async with app.run_test(size=(130, 44)) as pilot:
        await open_pending(pilot)
        assert "5 of 5 operations will be written" in choices_text(app)
        assert "ix_post_title" in file_text(app)
        await select_row(pilot, "add index")
        await pilot.press("space")
        assert "4 of 5 operations will be written" in choices_text(app), "at once"
        [row] = [row for row in rows(app) if "add index" in row]
        assert row.startswith("[ ]")
        await settle(pilot)
        assert "ix_post_title" not in file_text(app), "f shows the file as it will be written"
        await pilot.press("space")  # and back
        await settle(pilot)
        assert "5 of 5" in choices_text(app) and "ix_post_title" in file_text(app)
        await pilot.press("space")
        await settle(pilot)
        new = await write_it(pilot, "without the index")
    body = upgrade_source(sample_sqlite, new)
    assert "ix_post_title" not in body
    assert "create_table('tag'" in body and "'nickname'" in body


async def until(pilot: Pilot[None], condition: str, app: MigtuiApp) -> None:
    """Let the app run (no keys pressed) until the state line says ``condition``."""
    for _ in range(400):
        if condition in state_text(app) and not pending(app).query_one("#pending-body").loading:
            return
        await asyncio.sleep(0.05)
        await settle(pilot)
    raise AssertionError(f"never showed {condition!r}: {state_text(app)}")


async def test_saving_a_model_compares_again_without_a_key(sample_sqlite: Path) -> None:
    upgrade(sample_sqlite)
    app = make_app(sample_sqlite)
    async with app.run_test(size=(130, 44)) as pilot:
        await open_pending(pilot)
        assert "Models and database match" in state_text(app)
        edit_models(sample_sqlite, "    body: str\n",
                    "    body: str\n    score: float | None = None\n")
        await until(pilot, "differ: 1 operation", app)
        assert any("score" in row for row in rows(app))
        await select_row(pilot, "add column")
        await pilot.press("space")  # rejected: kept while it still applies
        await settle(pilot)
        edit_models(sample_sqlite, "    title: str\n", "    title: str\n    n: int = 0\n")
        await until(pilot, "differ: 2 operations", app)
        [score] = [row for row in rows(app) if "score" in row]
        assert score.startswith("[ ]"), "the choice survives the new comparison"
        assert "1 of 2 operations will be written" in choices_text(app)


@pytest.mark.parametrize("broken_first", [False, True], ids=["broken later", "broken first"])
async def test_fixing_a_broken_model_compares_again_without_a_key(
        sample_sqlite: Path, broken_first: bool) -> None:
    """The review's case: the error stayed until r, as nothing watched a module that
    failed to import."""
    upgrade(sample_sqlite)
    broken = ("    body: str\n", "    body: str = Field(\n")
    if broken_first:
        edit_models(sample_sqlite, *broken)
    app = make_app(sample_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pending(pilot)
        if not broken_first:
            assert "Models and database match" in state_text(app)
            edit_models(sample_sqlite, *broken)
        await until(pilot, "SyntaxError", app)
        edit_models(sample_sqlite, broken[1], broken[0])  # fixed: saved, no key pressed
        await until(pilot, "Models and database match", app)


async def test_c_adds_the_using_cast_a_type_change_needs(sample_pg: Path) -> None:
    """VARCHAR -> INTEGER on PostgreSQL: the details say the cast is needed, c adds it,
    the file shows it, and the written revision upgrades the live values."""
    url = database_url(sample_pg)
    upgrade(sample_pg)
    run_sql(url, "insert into \"user\" (name, email, ssn) values ('a', 'a@x', '42')")
    edit_models(sample_pg, SSN, SSN_INT)
    app = make_app(sample_pg)
    async with app.run_test(size=(130, 44)) as pilot:
        await open_pending(pilot)
        await select_row(pilot, "type change")
        assert "without a USING expression" in details_text(app)
        await pilot.press("c")
        await settle(pilot)
        assert "postgresql_using='ssn::INTEGER'" in file_text(app)
        details = details_text(app)  # the operation as it will be written, and its SQL
        assert "postgresql_using='ssn::INTEGER'" in details
        assert "USING ssn::INTEGER" in details
        new = await write_it(pilot, "ssn as a number")
    assert "postgresql_using='ssn::INTEGER'" in upgrade_source(sample_pg, new)
    upgrade(sample_pg)
    assert column_values(url, "ssn") == [42]


async def test_two_rows_rejected_in_one_burst_both_stay_rejected(sample_sqlite: Path) -> None:
    """Keys typed together: the file is rendered once, with both rejections."""
    upgrade(sample_sqlite)
    edit_models(sample_sqlite, *SCORE_AND_RATING)
    app = make_app(sample_sqlite)
    async with app.run_test(size=(130, 44)) as pilot:
        await open_pending(pilot)
        screen = pending(app)
        options = screen.query_one(OptionList)
        at = {name: i for i in range(options.option_count) for name in ("score", "rating")
              if name in str(options.get_option_at_index(i).prompt)}
        for name in ("score", "rating"):  # (both before the app's next batch of messages)
            options.highlighted = at[name]
            screen.action_toggle_choice()
        await settle(pilot)
        await asyncio.sleep(0.5)
        await settle(pilot)
        marked = [row for row in rows(app) if "add column" in row]
        assert all(row.startswith("[ ]") for row in marked), marked
        assert "0 of 2 operations will be written" in choices_text(app)
        assert "'score'" not in file_text(app) and "'rating'" not in file_text(app)


async def test_every_operation_rejected_says_the_revision_would_be_empty(
        sample_sqlite: Path) -> None:
    upgrade(sample_sqlite)
    edit_models(sample_sqlite, *SCORE)
    app = make_app(sample_sqlite)
    async with app.run_test(size=(130, 44)) as pilot:
        await open_pending(pilot)
        assert "n writes them as a new revision" in state_text(app)
        await select_row(pilot, "score")
        await pilot.press("space")
        await settle(pilot)
        assert "0 of 1 operation will be written" in choices_text(app)
        assert "Every one is rejected: n would write an empty revision" in state_text(app)
