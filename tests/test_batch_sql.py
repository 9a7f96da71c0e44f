"""Issue #20, case 9: batch steps have their SQL in the confirmation (and in a revision's
details).

Alembic's --sql mode cannot reflect a table, so a batch_alter_table that recreates its
table (SQLite, or recreate="always") had no preview. The confirmation renders it from
the live table, read-only, and says when an earlier step of the plan changes that table.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from projects import Rev, data_engine, sqlite_url, write_project
from textual.widgets import Static
from ui_helpers import make_app, settle, widget_text

from migtui.core.env.capture import captured
from migtui.screens.confirm import ConfirmScreen

USERS = Rev("a1a1a1a1a1a1", None, "users", "users")


def _batch(revision: str, down: str, old: int, new: int, recreate: str = "auto") -> Rev:
    body = ('with op.batch_alter_table("users", recreate={!r}) as batch_op:\n'
            '    batch_op.alter_column("name", existing_type=sa.String({}), '
            'type_=sa.String({}))')
    return Rev(revision, down, f"name up to {new}", upgrade=body.format(recreate, old, new),
               downgrade=body.format(recreate, new, old))


ADD_AGE = Rev("b2b2b2b2b2b2", USERS.revision, "age", upgrade=(
    'op.add_column("users", sa.Column("age", sa.Integer()))'),
    downgrade='op.drop_column("users", "age")')


def _upgrade(folder: Path, target: str) -> None:
    with captured():
        command.upgrade(Config(str(folder / "alembic.ini")), target)


async def _shown(folder: Path, keys: tuple[str, ...], screen: type,
                 *ids: str) -> list[str]:
    """Press ``keys`` in the app on ``folder``: the text of each widget ``ids`` names on
    the ``screen`` that opens (without ids: every Static's, as one line of words)."""
    app = make_app(folder)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)
        assert isinstance(app.screen, screen)
        if not ids:
            return [" ".join(" ".join(widget_text(w) for w in app.screen.query(Static)
                                      ).split())]
        return [widget_text(app.screen.query_one(i, Static)) for i in ids]


async def _confirmation_sql(folder: Path) -> str:
    """The SQL the confirmation of U (upgrade to the newest revision) shows."""
    return (await _shown(folder, ("U",), ConfirmScreen, "#confirm-sql"))[0]


def _name_length(url: str) -> int | None:
    engine = data_engine(url)
    try:
        columns = sa.inspect(engine).get_columns("users")
    finally:
        engine.dispose()
    return next(c["type"].length for c in columns if c["name"] == "name")


async def test_sqlite_batch_step_shows_the_table_copy(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "db.sqlite")
    folder = write_project(tmp_path / "p", url=url,
                           revisions=[USERS, _batch("c3c3c3c3c3c3", USERS.revision, 50, 200)])
    _upgrade(folder, USERS.revision)
    sql = await _confirmation_sql(folder)
    assert "SQL preview unavailable" not in sql
    assert "CREATE TABLE _alembic_tmp_users" in sql
    assert "name VARCHAR(200)" in sql
    assert "INSERT INTO _alembic_tmp_users (id, name) SELECT users.id, users.name" in sql
    assert "DROP TABLE users;" in sql
    assert "ALTER TABLE _alembic_tmp_users RENAME TO users;" in sql
    assert "earlier in this plan" not in sql  # nothing before it touches users
    assert _name_length(url) == 50  # only looked: the table is as it was


async def test_batch_after_a_change_of_the_same_table_says_so(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "db.sqlite")
    folder = write_project(tmp_path / "p", url=url, revisions=[
        USERS, ADD_AGE, _batch("c3c3c3c3c3c3", ADD_AGE.revision, 50, 200)])
    _upgrade(folder, USERS.revision)
    sql = await _confirmation_sql(folder)
    assert "ALTER TABLE users ADD COLUMN age INTEGER" in sql
    assert ("-- users is changed earlier in this plan: this batch SQL is built from the "
            "table as it is now, what runs may differ") in sql
    assert sql.index("-- users is changed") < sql.index("CREATE TABLE _alembic_tmp_users")


async def test_batch_of_a_table_the_plan_creates(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "db.sqlite")  # no file yet: nothing to reflect
    folder = write_project(tmp_path / "p", url=url,
                           revisions=[USERS, _batch("c3c3c3c3c3c3", USERS.revision, 50, 200)])
    sql = await _confirmation_sql(folder)
    assert "CREATE TABLE users" in sql
    assert ("-- users is created earlier in this plan: this batch SQL is built from that "
            "create_table") in sql
    assert "CREATE TABLE _alembic_tmp_users" in sql
    assert not (tmp_path / "db.sqlite").exists()


AGE_WIDER = Rev("c3c3c3c3c3c3", ADD_AGE.revision, "age wider", upgrade=(
    'with op.batch_alter_table("users") as batch_op:\n'
    '    batch_op.alter_column("age", existing_type=sa.Integer(), type_=sa.BigInteger())'),
    downgrade=('with op.batch_alter_table("users") as batch_op:\n'
               '    batch_op.alter_column("age", existing_type=sa.BigInteger(), '
               'type_=sa.Integer())'))


async def test_batch_of_a_created_table_with_a_column_added_later(tmp_path: Path) -> None:
    """The batch copies the table with the column and index the plan gave it before."""
    url = sqlite_url(tmp_path / "db.sqlite")
    index = Rev("a2a2a2a2a2a2", USERS.revision, "index on name",
                upgrade='op.create_index("ix_users_name", "users", ["name"])',
                downgrade='op.drop_index("ix_users_name", table_name="users")')
    add_age = Rev(ADD_AGE.revision, index.revision, "age", upgrade=ADD_AGE.upgrade,
                  downgrade=ADD_AGE.downgrade)
    folder = write_project(tmp_path / "p", url=url,
                           revisions=[USERS, index, add_age, AGE_WIDER])
    sql = await _confirmation_sql(folder)
    assert "SQL preview unavailable" not in sql and "KeyError" not in sql, sql
    copy = sql[sql.index("CREATE TABLE _alembic_tmp_users"):]
    assert "age BIGINT" in copy[:copy.index(";")], copy
    assert "CREATE INDEX ix_users_name ON users (name)" in copy, "the copy keeps the index"
    assert not (tmp_path / "db.sqlite").exists()


async def test_batch_after_a_batch_that_only_added_a_column(tmp_path: Path) -> None:
    """A batch that adds a column runs in place on SQLite: the next batch's copy has it."""
    url = sqlite_url(tmp_path / "db.sqlite")
    add_age = Rev(ADD_AGE.revision, USERS.revision, "age", upgrade=(
        'with op.batch_alter_table("users") as batch_op:\n'
        '    batch_op.add_column(sa.Column("age", sa.Integer()))'),
        downgrade=ADD_AGE.downgrade)
    folder = write_project(tmp_path / "p", url=url, revisions=[USERS, add_age, AGE_WIDER])
    sql = await _confirmation_sql(folder)
    assert "ALTER TABLE users ADD COLUMN age INTEGER" in sql, sql
    copy = sql[sql.index("CREATE TABLE _alembic_tmp_users"):]
    assert "age BIGINT" in copy[:copy.index(";")], copy


async def test_batch_of_a_live_table_with_a_column_added_before(tmp_path: Path) -> None:
    """The live table, with the column an earlier step of the plan adds to it."""
    url = sqlite_url(tmp_path / "db.sqlite")
    folder = write_project(tmp_path / "p", url=url, revisions=[USERS, ADD_AGE, AGE_WIDER])
    _upgrade(folder, USERS.revision)
    sql = await _confirmation_sql(folder)
    assert "SQL preview unavailable" not in sql and "KeyError" not in sql, sql
    copy = sql[sql.index("CREATE TABLE _alembic_tmp_users"):]
    assert "age BIGINT" in copy[:copy.index(";")], copy
    assert "-- users is changed earlier in this plan" in sql
    assert "age" not in [c["name"] for c in sa.inspect(data_engine(url)).get_columns("users")]


async def test_batch_after_a_batch_of_a_created_table_says_why_not(tmp_path: Path) -> None:
    """A table the plan creates and a batch already rebuilt: no guess, one clear line."""
    url = sqlite_url(tmp_path / "db.sqlite")
    folder = write_project(tmp_path / "p", url=url, revisions=[
        USERS, _batch("b2b2b2b2b2b2", USERS.revision, 50, 100),
        _batch("c3c3c3c3c3c3", "b2b2b2b2b2b2", 100, 200)])
    shown = (await _shown(folder, ("U",), ConfirmScreen))[0]
    assert ("The batch SQL of users cannot be shown: the table is created and then changed "
            "earlier in this plan") in shown, shown
    assert "KeyError" not in shown


async def test_recreate_always_on_every_database(tmp_path: Path, db_url: str) -> None:
    folder = write_project(tmp_path / "p", url=db_url, revisions=[
        USERS, _batch("c3c3c3c3c3c3", USERS.revision, 50, 200, recreate="always")])
    _upgrade(folder, USERS.revision)
    sql = await _confirmation_sql(folder)
    assert "SQL preview unavailable" not in sql
    assert "_alembic_tmp_users" in sql and "users.name" in sql
    assert _name_length(db_url) == 50


async def test_batch_confirmed_runs_as_previewed(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "db.sqlite")
    folder = write_project(tmp_path / "p", url=url,
                           revisions=[USERS, _batch("c3c3c3c3c3c3", USERS.revision, 50, 200)])
    _upgrade(folder, USERS.revision)
    app = make_app(folder)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("U")
        await settle(pilot)
        assert "_alembic_tmp_users" in widget_text(app.screen.query_one("#confirm-sql", Static))
        await pilot.press("y")
        await settle(pilot)
    assert _name_length(url) == 200


async def _details_sql(folder: Path) -> tuple[str, str]:
    """The upgrade and downgrade SQL the details of the newest revision show."""
    from migtui.screens.details import RevisionDetailsScreen

    up, down = await _shown(folder, ("home", "enter"), RevisionDetailsScreen,
                            "#sql-up", "#sql-down")
    return up, down


async def test_revision_details_show_a_batch_steps_sql(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "db.sqlite")
    folder = write_project(tmp_path / "p", url=url,
                           revisions=[USERS, _batch("c3c3c3c3c3c3", USERS.revision, 50, 200)])
    _upgrade(folder, USERS.revision)  # where the batch step starts
    up, down = await _details_sql(folder)
    assert "SQL preview unavailable" not in up, up
    assert "CREATE TABLE _alembic_tmp_users" in up and "name VARCHAR(200)" in up
    assert "ALTER TABLE _alembic_tmp_users RENAME TO users;" in up
    assert "what runs may differ" not in up  # built from the table this step starts from
    # Its downgrade starts from c3, where the database is not: built from the table now.
    assert "CREATE TABLE _alembic_tmp_users" in down and "name VARCHAR(50)" in down
    assert "users: the database is not where this step starts" in down, down
    _upgrade(folder, "head")
    up, down = await _details_sql(folder)
    assert "users: the database is not where this step starts" in up, up
    assert "what runs may differ" not in down
    assert _name_length(url) == 200  # only looked


async def test_revision_details_of_a_batch_on_a_table_not_made_yet_say_why(
        tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"),
                           revisions=[USERS, _batch("c3c3c3c3c3c3", USERS.revision, 50, 200)])
    up, _down = await _details_sql(folder)  # the database file does not exist yet
    assert up.startswith("SQL preview unavailable"), up
    assert "users" in up and "does not exist yet" in up, up


async def test_revision_details_of_a_batch_whose_columns_are_not_there_yet_say_why(
        tmp_path: Path) -> None:
    drop = Rev("d4d4d4d4d4d4", ADD_AGE.revision, "age out", upgrade=(
        'with op.batch_alter_table("users") as batch_op:\n    batch_op.drop_column("age")'),
        downgrade='op.add_column("users", sa.Column("age", sa.Integer()))')
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"),
                           revisions=[USERS, ADD_AGE, drop])
    _upgrade(folder, USERS.revision)  # users has no age yet
    up, _down = await _details_sql(folder)
    assert up.startswith("SQL preview unavailable: The batch SQL of users cannot be shown: "
                         "the table as the database holds it now has no column 'age' (the "
                         "database is not where this step starts)"), up
