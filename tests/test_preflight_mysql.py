"""The MySQL/MariaDB rules of the pre-flight (core/checks/mysql.py) on the real MariaDB
server: table copies with InnoDB's estimates, the implicit default of a NOT NULL column,
renames, utf8 vs utf8mb4; and the generic rules that hold there too."""

from __future__ import annotations

from pathlib import Path

from preflight_helpers import check, only, run_sql
from test_preflight import ROWS, TABLE

from migtui.core.checks.mysql import CHARSET, IMPLICIT_DEFAULT, RENAME, TABLE_COPY
from migtui.core.checks.risks import BAD_DATA, BREAKS_CODE, LOCKS, WILL_FAIL

MANY = ("INSERT INTO t (id, name, code) SELECT seq, 'x', 'y' FROM seq_1_to_300",
        "ANALYZE TABLE t")


def test_type_change_copies_the_table(tmp_path: Path, mariadb_url: str) -> None:
    body = 'op.alter_column("t", "name", existing_type=sa.String(50), type_=sa.Text())'
    pf = check(tmp_path, mariadb_url, [TABLE, body], MANY, big_table=100)
    [risk] = only(pf, LOCKS)
    assert risk.reason.startswith(f"{TABLE_COPY}: MySQL copies t to change the type of name: ~")
    assert "rows, " in risk.reason and "KB (estimated from information_schema)" in risk.reason
    assert risk.rows is not None and 150 <= risk.rows <= 600, "InnoDB's estimate"
    assert "pt-online-schema-change" in risk.safer


def test_a_small_table_copy_is_no_alarm(tmp_path: Path, mariadb_url: str) -> None:
    body = 'op.alter_column("t", "name", existing_type=sa.String(50), type_=sa.Text())'
    pf = check(tmp_path, mariadb_url, [TABLE, body], (ROWS,), big_table=100)
    assert not only(pf, LOCKS)


def test_primary_key_change_copies_the_table(tmp_path: Path, mariadb_url: str) -> None:
    body = ('op.drop_constraint("PRIMARY", "t", type_="primary")\n'
            'op.create_primary_key("pk_t", "t", ["id", "code"])')
    pf = check(tmp_path, mariadb_url, [TABLE, body], MANY, big_table=100)
    reasons = [r.reason for r in only(pf, LOCKS)]
    assert any("to drop the primary key" in r for r in reasons), reasons
    assert any("to add a primary key" in r for r in reasons), reasons


def test_add_column_is_instant_on_innodb(tmp_path: Path, mariadb_url: str) -> None:
    add = 'op.add_column("t", sa.Column("extra", sa.Integer))'
    pf = check(tmp_path, mariadb_url, [TABLE, add], MANY, big_table=100)
    assert not only(pf, LOCKS), "ALGORITHM=INSTANT: nothing is copied"


def test_add_column_copies_an_aria_table(tmp_path: Path, mariadb_url: str) -> None:
    aria = ('op.create_table("a", sa.Column("id", sa.Integer, primary_key=True), '
            'mysql_engine="Aria")', 'op.drop_table("a")')
    add = 'op.add_column("a", sa.Column("extra", sa.Integer))'
    pf = check(tmp_path, mariadb_url, [aria, add],
               ("INSERT INTO a (id) SELECT seq FROM seq_1_to_300", "ANALYZE TABLE a"),
               big_table=100)
    [risk] = only(pf, LOCKS)
    assert "MySQL copies a to add extra (Aria with ROW_FORMAT=" in risk.reason
    assert "cannot add a column instantly" in risk.reason


def test_not_null_column_gets_the_implicit_default(tmp_path: Path, mariadb_url: str) -> None:
    add = 'op.add_column("t", sa.Column("age", sa.Integer, nullable=False))'
    pf = check(tmp_path, mariadb_url, [TABLE, add], (ROWS,))
    assert not only(pf, WILL_FAIL), "MySQL does not refuse it"
    [risk] = only(pf, BAD_DATA)
    assert risk.rows == 2
    assert risk.reason.startswith(f"{IMPLICIT_DEFAULT}: age is NOT NULL without a server "
                                  "default: MySQL fills it in 2 rows of t with the type's "
                                  "implicit default")


def test_not_null_and_unique_that_the_data_violates(tmp_path: Path, mariadb_url: str) -> None:
    """The generic rules, on MariaDB: NULLs block NOT NULL, duplicates block a unique index."""
    body = ('op.alter_column("t", "code", existing_type=sa.String(20), nullable=False)\n'
            'op.create_index("ux_t_name", "t", ["name"], unique=True)')
    pf = check(tmp_path, mariadb_url, [TABLE, body], (
        "INSERT INTO t (id, name, code) VALUES (1, 'ann', NULL), (2, 'ann', '7'), "
        "(3, 'bob', NULL)",))
    reasons = sorted(r.reason for r in only(pf, WILL_FAIL))
    assert len(reasons) == 2, reasons
    assert "2 rows" in reasons[0] and "NULL" in reasons[0] + reasons[1]
    assert any("2 rows of t share their (name)" in r for r in reasons), reasons


def test_renames_break_running_code(tmp_path: Path, mariadb_url: str) -> None:
    body = ('op.alter_column("t", "code", new_column_name="zip", existing_type=sa.String(20))\n'
            'op.rename_table("t", "things")')
    pf = check(tmp_path, mariadb_url, [TABLE, body], (ROWS,))
    reasons = [r.reason for r in only(pf, BREAKS_CODE)]
    assert reasons == [
        f"{RENAME}: column t.code is renamed to zip as soon as the statement runs (MySQL "
        "commits DDL at once): application code still using the old name fails from then on",
        f"{RENAME}: table t is renamed to things as soon as the statement runs (MySQL "
        "commits DDL at once): application code still using the old name fails from then on",
    ]


def test_utf8_column_in_a_utf8mb4_table(tmp_path: Path, mariadb_url: str) -> None:
    add = ('op.add_column("t", sa.Column("nick", mysql.VARCHAR(20, charset="utf8mb3")))\n'
           'op.add_column("t", sa.Column("bio", sa.String(200)))')
    pf = check(tmp_path, mariadb_url, [TABLE, "from sqlalchemy.dialects import mysql\n" + add],
               (ROWS,))
    [risk] = [r for r in only(pf, BAD_DATA) if r.reason.startswith(CHARSET)]
    assert "nick of t is utf8mb3 next to utf8mb4 text" in risk.reason
    assert "emoji" in risk.reason and risk.rows is None


def test_utf8_table_in_a_utf8mb4_database(tmp_path: Path, mariadb_url: str) -> None:
    table = ('op.create_table("legacy", sa.Column("id", sa.Integer, primary_key=True), '
             'sa.Column("name", sa.String(50)), mysql_charset="utf8mb3")', "pass")
    pf = check(tmp_path, mariadb_url, [TABLE, table], ())
    [risk] = [r for r in only(pf, BAD_DATA) if r.reason.startswith(CHARSET)]
    assert "name of legacy is utf8mb3" in risk.reason


def test_no_rule_fires_on_a_plain_utf8mb4_step(tmp_path: Path, mariadb_url: str) -> None:
    add = 'op.add_column("t", sa.Column("bio", sa.String(200)))'
    pf = check(tmp_path, mariadb_url, [TABLE, add], (ROWS,))
    assert not [r for r in pf.risks if r.kind != "cannot be undone"], pf.risks
    run_sql(mariadb_url, "SELECT 1")
