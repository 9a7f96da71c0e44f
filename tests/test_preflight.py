"""Pre-flight risk checks on real SQLite files and the real PostgreSQL server.

Each check runs twice: on data that triggers it (the count is shown) and on data that
does not (an empty table, no NULLs, no duplicates...): no false alarm.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATABASES, server_url
from preflight_helpers import (
    chain,
    check,
    data_risks,
    dialect,
    downgrade_plan,
    only,
    open_project,
    run_sql,
    upgrade_plan,
    write_project,
)

from migtui.core.checks.preflight import check_plan, revision_operations
from migtui.core.checks.risks import (
    BAD_DATA,
    IRREVERSIBLE,
    LOCKS,
    LOSES_DATA,
    RAW_SQL,
    WILL_FAIL,
)

TABLE = ('op.create_table("t", sa.Column("id", sa.Integer, primary_key=True), '
         'sa.Column("name", sa.String(50)), sa.Column("code", sa.String(20)))',
         'op.drop_table("t")')
ROWS = "INSERT INTO t (id, name, code) VALUES (1, 'ann', '12'), (2, 'bob', '7')"


@pytest.fixture(params=DATABASES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: a SQLite file, a fresh PostgreSQL or MariaDB database."""
    return server_url(request, request.param, tmp_path)


@pytest.fixture
def pg(pg_url: str) -> str:
    """A fresh PostgreSQL database, for the PostgreSQL-only checks."""
    return pg_url


# -- loses data ---------------------------------------------------------------------


def test_drop_table_counts_the_rows(tmp_path: Path, url: str) -> None:
    pf = check(tmp_path, url, [TABLE, 'op.drop_table("t")'], (ROWS,))
    assert pf.checked_live
    [risk] = only(pf, LOSES_DATA)
    assert risk.rows == 2
    assert "drops t and its 2 rows" in risk.reason
    assert risk.safer
    assert not only(pf, WILL_FAIL)  # t is there


def test_drop_table_of_an_empty_table_is_no_alarm(tmp_path: Path, url: str) -> None:
    pf = check(tmp_path, url, [TABLE, 'op.drop_table("t")'], ())
    assert pf.checked_live
    assert not only(pf, LOSES_DATA)


def test_drop_table_of_a_table_the_database_does_not_have_will_fail(
        tmp_path: Path, url: str) -> None:
    pf = check(tmp_path, url, [TABLE, 'op.drop_table("never_made")'], (ROWS,))
    assert pf.checked_live
    [risk] = only(pf, WILL_FAIL)
    assert "drops never_made, which the database does not have" in risk.reason


def test_drop_column_counts_the_values(tmp_path: Path, url: str) -> None:
    drop = 'with op.batch_alter_table("t") as b:\n    b.drop_column("code")'
    pf = check(tmp_path, url, [TABLE, drop],
               ("INSERT INTO t (id, code) VALUES (1, 'a'), (2, NULL), (3, 'c')",))
    [risk] = only(pf, LOSES_DATA)
    assert risk.rows == 2
    assert "t.code" in risk.reason


def test_drop_column_holding_only_nulls_is_no_alarm(tmp_path: Path, url: str) -> None:
    drop = 'with op.batch_alter_table("t") as b:\n    b.drop_column("code")'
    pf = check(tmp_path, url, [TABLE, drop], ("INSERT INTO t (id) VALUES (1), (2)",))
    assert not only(pf, LOSES_DATA)


def test_downgrade_that_drops_what_its_upgrade_created(tmp_path: Path, url: str) -> None:
    add = ('with op.batch_alter_table("t") as b:\n    b.add_column(sa.Column("note", sa.Text))',
           'with op.batch_alter_table("t") as b:\n    b.drop_column("note")')
    revs = chain(TABLE, add)
    write_project(tmp_path, url, revs)
    project = open_project(tmp_path)
    assert project.upgrade("head").ok
    plan = downgrade_plan(project, revs[0].revision)
    empty = check_plan(project, plan, dialect(url))
    assert not only(empty, LOSES_DATA)
    run_sql(url, "INSERT INTO t (id, note) VALUES (1, 'keep me')")
    [risk] = only(check_plan(project, plan, dialect(url)), LOSES_DATA)
    assert risk.rows == 1
    assert risk.revision == revs[1].revision


# -- will fail on this data ---------------------------------------------------------

NOT_NULL_COLUMN = ('with op.batch_alter_table("t", recreate="always") as b:\n'
                   '    b.add_column(sa.Column("age", sa.Integer, nullable=False))')


def test_not_null_column_without_default_on_a_table_with_rows(tmp_path: Path, url: str) -> None:
    pf = check(tmp_path, url, [TABLE, NOT_NULL_COLUMN], (ROWS,))
    if url.startswith("mysql"):
        pytest.skip("MySQL/MariaDB do not refuse it but fill in an implicit default "
                    "(test_preflight_mysql::test_not_null_column_gets_the_implicit_default)")
    [risk] = only(pf, WILL_FAIL)
    assert risk.rows == 2
    assert "age is NOT NULL without a server default" in risk.reason
    assert "server_default" in risk.safer
    assert pf.blocking


def test_not_null_column_on_an_empty_table_is_no_alarm(tmp_path: Path, url: str) -> None:
    pf = check(tmp_path, url, [TABLE, NOT_NULL_COLUMN], ())
    assert not data_risks(pf)


def test_sqlite_cannot_add_a_not_null_column_without_default_at_all(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    plain = 'op.add_column("t", sa.Column("age", sa.Integer, nullable=False))'
    pf = check(tmp_path, url, [TABLE, plain], ())
    [risk] = only(pf, WILL_FAIL)
    assert "even to an empty table" in risk.reason
    assert risk.rows is None


def test_server_default_makes_a_not_null_column_safe(tmp_path: Path, url: str) -> None:
    safe = ('with op.batch_alter_table("t") as b:\n'
            '    b.add_column(sa.Column("age", sa.Integer, nullable=False, server_default="0"))')
    assert not data_risks(check(tmp_path, url, [TABLE, safe], (ROWS,)))


NOT_NULL = ('with op.batch_alter_table("t") as b:\n'
            '    b.alter_column("name", existing_type=sa.String(50), nullable=False)')


def test_not_null_while_nulls_exist(tmp_path: Path, url: str) -> None:
    pf = check(tmp_path, url, [TABLE, NOT_NULL],
               ("INSERT INTO t (id, name) VALUES (1, NULL), (2, 'x'), (3, NULL)",))
    [risk] = only(pf, WILL_FAIL)
    assert risk.rows == 2
    assert "2 rows of t have name NULL" in risk.reason


def test_not_null_without_nulls_is_no_alarm(tmp_path: Path, url: str) -> None:
    assert not data_risks(check(tmp_path, url, [TABLE, NOT_NULL], (ROWS,)))


def test_not_null_on_an_empty_table_is_no_alarm(tmp_path: Path, url: str) -> None:
    assert not data_risks(check(tmp_path, url, [TABLE, NOT_NULL], ()))


def test_raw_sql_before_not_null_is_said(tmp_path: Path, url: str) -> None:
    fill = ("op.execute(\"UPDATE t SET name = 'x' WHERE name IS NULL\")\n" + NOT_NULL)
    pf = check(tmp_path, url, [TABLE, fill], ("INSERT INTO t (id) VALUES (1)",))
    [raw] = only(pf, RAW_SQL)
    assert "UPDATE t SET name" in raw.operation
    [risk] = only(pf, WILL_FAIL)
    assert "raw SQL earlier in this plan" in risk.reason


UNIQUE_INDEX = 'op.create_index("ix_t_name", "t", ["name"], unique=True)'
UNIQUE_CONSTRAINT = ('with op.batch_alter_table("t") as b:\n'
                     '    b.create_unique_constraint("uq_t_name", ["name"])')


@pytest.mark.parametrize("body", [UNIQUE_INDEX, UNIQUE_CONSTRAINT], ids=["index", "constraint"])
def test_unique_while_duplicates_exist(tmp_path: Path, url: str, body: str) -> None:
    pf = check(tmp_path, url, [TABLE, body],
               ("INSERT INTO t (id, name) VALUES (1, 'a'), (2, 'a'), (3, 'b'), (4, NULL), "
                "(5, NULL)",))
    [risk] = only(pf, WILL_FAIL)
    assert risk.rows == 2, "two rows share 'a'; NULLs are not duplicates"


@pytest.mark.parametrize("body", [UNIQUE_INDEX, UNIQUE_CONSTRAINT], ids=["index", "constraint"])
def test_unique_without_duplicates_is_no_alarm(tmp_path: Path, url: str, body: str) -> None:
    assert not only(check(tmp_path, url, [TABLE, body], (ROWS,)), WILL_FAIL)


PARENT = ('op.create_table("p", sa.Column("id", sa.Integer, primary_key=True))\n'
          'op.create_table("c", sa.Column("id", sa.Integer, primary_key=True), '
          'sa.Column("p_id", sa.Integer))')
FOREIGN_KEY = ('with op.batch_alter_table("c") as b:\n'
               '    b.create_foreign_key("fk_c_p", "p", ["p_id"], ["id"])')


def test_foreign_key_while_orphans_exist(tmp_path: Path, url: str) -> None:
    pf = check(tmp_path, url, [PARENT, FOREIGN_KEY],
               ("INSERT INTO p (id) VALUES (1)",
                "INSERT INTO c (id, p_id) VALUES (1, 1), (2, 9), (3, 8), (4, NULL)"))
    [risk] = [r for r in pf.risks if r.kind in (WILL_FAIL, BAD_DATA)]
    assert risk.rows == 2
    assert "point to no row of p" in risk.reason
    # SQLite does not check foreign keys unless told to: the orphans just stay.
    assert risk.kind == (BAD_DATA if url.startswith("sqlite") else WILL_FAIL)


def test_foreign_key_without_orphans_is_no_alarm(tmp_path: Path, url: str) -> None:
    pf = check(tmp_path, url, [PARENT, FOREIGN_KEY],
               ("INSERT INTO p (id) VALUES (1)",
                "INSERT INTO c (id, p_id) VALUES (1, 1), (2, NULL)"))
    assert not data_risks(pf)


TO_INTEGER = ('with op.batch_alter_table("t") as b:\n'
              '    b.alter_column("code", existing_type=sa.String(20), type_=sa.Integer,\n'
              '                   postgresql_using="code::integer")')


def test_type_change_that_values_do_not_fit(tmp_path: Path, url: str) -> None:
    pf = check(tmp_path, url, [TABLE, TO_INTEGER],
               ("INSERT INTO t (id, code) VALUES (1, '12'), (2, 'x1'), (3, ' 7 '), (4, '')",))
    [risk] = [r for r in pf.risks if r.kind in (WILL_FAIL, LOSES_DATA)]
    assert risk.rows == 2
    assert "cannot become INTEGER: not a whole number" in risk.reason
    # PostgreSQL refuses the cast; SQLite's CAST quietly turns the text into 0.
    assert risk.kind == (LOSES_DATA if url.startswith("sqlite") else WILL_FAIL)


def test_type_change_that_values_fit_is_no_alarm(tmp_path: Path, url: str) -> None:
    pf = check(tmp_path, url, [TABLE, TO_INTEGER], (ROWS,))
    assert not [r for r in pf.risks if r.kind in (WILL_FAIL, LOSES_DATA)]


def test_shorter_varchar_on_postgresql(tmp_path: Path, pg: str) -> None:
    shorter = ('op.alter_column("t", "name", existing_type=sa.String(50), '
               'type_=sa.String(3))')
    pf = check(tmp_path, pg, [TABLE, shorter],
               ("INSERT INTO t (id, name) VALUES (1, 'abcd'), (2, 'abc'), (3, NULL)",))
    [risk] = only(pf, WILL_FAIL)
    assert risk.rows == 1
    assert "longer than 3 characters" in risk.reason


def test_shorter_varchar_that_values_fit_is_no_alarm(tmp_path: Path, pg: str) -> None:
    shorter = ('op.alter_column("t", "name", existing_type=sa.String(50), '
               'type_=sa.String(3))')
    pf = check(tmp_path, pg, [TABLE, shorter], ("INSERT INTO t (id, name) VALUES (1, 'abc')",))
    assert not only(pf, WILL_FAIL)


def test_postgresql_needs_using_to_cast_text_to_integer(tmp_path: Path, pg: str) -> None:
    bare = 'op.alter_column("t", "code", existing_type=sa.String(20), type_=sa.Integer)'
    pf = check(tmp_path, pg, [TABLE, bare], ())
    [risk] = only(pf, WILL_FAIL)
    assert "without a USING expression" in risk.reason
    assert risk.rows is None
    assert "postgresql_using" in risk.safer


def test_sqlite_refuses_alter_outside_batch(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    pf = check(tmp_path, url, [TABLE, 'op.alter_column("t", "name", nullable=False)'], ())
    [risk] = only(pf, WILL_FAIL)
    assert "batch_alter_table" in risk.safer


# -- cannot be undone, raw SQL --------------------------------------------------------


def test_empty_downgrade_cannot_be_undone(tmp_path: Path, url: str) -> None:
    pf = check(tmp_path, url, [TABLE, ('op.execute("UPDATE t SET name = upper(name)")', "pass")],
               ())
    [risk] = only(pf, IRREVERSIBLE)
    assert "downgrade() is empty" in risk.reason
    [raw] = only(pf, RAW_SQL)
    assert "upper(name)" in raw.operation


def test_downgrade_that_raises_will_fail(tmp_path: Path, url: str) -> None:
    revs = chain(TABLE, ('op.add_column("t", sa.Column("x", sa.Integer))',
                         'raise NotImplementedError("one way only")'))
    write_project(tmp_path, url, revs)
    project = open_project(tmp_path)
    assert project.upgrade("head").ok
    pf = check_plan(project, downgrade_plan(project, revs[0].revision), dialect(url))
    [risk] = only(pf, WILL_FAIL)
    assert "downgrade() raises" in risk.reason and "one way only" in risk.reason


def test_upgrade_whose_downgrade_raises_cannot_be_undone(tmp_path: Path, url: str) -> None:
    up = check(tmp_path, url, [TABLE, ('op.add_column("t", sa.Column("x", sa.Integer))',
                                       'raise NotImplementedError("one way only")')], ())
    [risk] = only(up, IRREVERSIBLE)
    assert "downgrade() raises" in risk.reason


# -- locks on PostgreSQL --------------------------------------------------------------


def test_index_without_concurrently_locks_a_big_table(tmp_path: Path, pg: str) -> None:
    index = 'op.create_index("ix_t_name", "t", ["name"])'
    pf = check(tmp_path, pg, [TABLE, index], (ROWS, "ANALYZE t"), big_table=2)
    [risk] = only(pf, LOCKS)
    assert "locks t against writes while the index builds (~2 rows estimated)" in risk.reason
    assert "postgresql_concurrently" in risk.safer


def test_index_on_a_small_table_is_no_alarm(tmp_path: Path, pg: str) -> None:
    index = 'op.create_index("ix_t_name", "t", ["name"])'
    assert not only(check(tmp_path, pg, [TABLE, index], (ROWS,), big_table=3), LOCKS)


def test_type_rewrite_and_volatile_default_lock_a_big_table(tmp_path: Path, pg: str) -> None:
    body = ('op.alter_column("t", "code", existing_type=sa.String(20), type_=sa.Integer,\n'
            '                postgresql_using="code::integer")\n'
            'op.add_column("t", sa.Column("token", sa.Text, '
            'server_default=sa.text("gen_random_uuid()::text")))\n'
            'op.alter_column("t", "name", existing_type=sa.String(50), type_=sa.String(80))')
    pf = check(tmp_path, pg, [TABLE, body], (ROWS,), big_table=2)
    reasons = [r.reason for r in only(pf, LOCKS)]
    assert len(reasons) == 2, reasons  # widening a VARCHAR rewrites nothing
    assert all("rewrites every row of t" in r for r in reasons)


def test_a_table_created_earlier_in_the_plan_is_empty(tmp_path: Path, pg: str) -> None:
    later = [TABLE, NOT_NULL_COLUMN, UNIQUE_INDEX, 'op.create_index("ix_c", "t", ["code"])']
    pf = check(tmp_path, pg, later, (), applied=0, big_table=0)
    assert not data_risks(pf)


# -- how the checks reach the database --------------------------------------------------


def test_url_computed_in_env_py(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFLIGHT_DB_URL", url)
    pf = check(tmp_path, url, [TABLE, 'op.drop_table("t")'], (ROWS,),
               url_from_env="PREFLIGHT_DB_URL")
    assert pf.checked_live
    assert only(pf, LOSES_DATA)[0].rows == 2


def test_quoted_identifiers(tmp_path: Path, url: str) -> None:
    table = ('op.create_table("Order Items", sa.Column("id", sa.Integer, primary_key=True), '
             'sa.Column("select", sa.String(5)))', "pass")
    body = ('with op.batch_alter_table("Order Items") as b:\n'
            '    b.alter_column("select", existing_type=sa.String(5), nullable=False)')
    pf = check(tmp_path, url, [table, body],
               ('INSERT INTO "Order Items" (id, "select") VALUES (1, NULL)',))
    [risk] = only(pf, WILL_FAIL)
    assert risk.rows == 1


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    write_project(tmp_path, url, chain(TABLE, 'op.drop_table("legacy")'))
    project = open_project(tmp_path)
    pf = check_plan(project, upgrade_plan(project), "sqlite")
    assert not pf.checked_live
    assert "does not exist yet" in pf.note
    assert not (tmp_path / "db.sqlite").exists()


def test_operations_are_recorded_not_just_read(tmp_path: Path, url: str) -> None:
    loop = ('for name in ("a", "b"):\n'
            '    op.add_column("t", sa.Column(name, sa.Integer))')
    revs = chain(TABLE, loop)
    write_project(tmp_path, url, revs)
    project = open_project(tmp_path)
    up, down = revision_operations(project, revs[1].revision, dialect(url))
    assert up.operations == ("add_column('t', 'a' INTEGER NULL)",
                             "add_column('t', 'b' INTEGER NULL)")
    assert down.operations == ()


def test_a_step_that_needs_a_connection_falls_back_to_the_source(tmp_path: Path,
                                                                 url: str) -> None:
    body = ('rows = op.get_bind().execute(sa.text("SELECT id FROM t")).fetchall()\n'
            'op.drop_table("t")')
    pf = check(tmp_path, url, [TABLE, body], (ROWS,))
    step = pf.steps[0]
    assert "read from the source" in step.note
    assert "drop_table('t')" in step.operations

