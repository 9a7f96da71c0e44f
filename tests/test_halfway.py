"""A step that fails halfway, told exactly on each database: which of its statements ran
and stayed, what alembic_version says, and the live schema against the schema read
just before the step (tables, columns, indexes added or dropped)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DATABASES, column_names, server_url, table_names
from projects import Rev, data_engine, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.revisions.touched import touched_tables

BASE = Rev("a1a1a1a1a1a1", None, "create widget", "widget")


def _project(folder: Path, url: str, upgrade: str) -> Project:
    """widget (id, name) applied; the next revision runs ``upgrade`` and fails."""
    failing = Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "half", upgrade=upgrade)
    write_project(folder, url=url, revisions=(BASE, failing))
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade("a1a1a1a1a1a1").ok
    return project


def _rows(url: str) -> list[int]:
    engine = data_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT id FROM widget ORDER BY id")).scalars())
    finally:
        engine.dispose()


def _indexes(url: str, table: str) -> set[str]:
    engine = data_engine(url)
    try:
        return {str(i["name"]) for i in sa.inspect(engine).get_indexes(table)}
    finally:
        engine.dispose()


SCHEMA_STEP = "\n".join([
    'op.add_column("widget", sa.Column("size", sa.Integer(), nullable=True))',
    'op.create_index("ix_widget_name", "widget", ["name"])',
    'op.create_table("extra", sa.Column("id", sa.Integer(), primary_key=True))',
    'op.execute("INSERT INTO no_such_table VALUES (1)")',
])


@pytest.mark.parametrize("dialect", DATABASES)
def test_the_schema_against_before_the_step(
        dialect: str, tmp_path: Path, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = server_url(request, dialect, tmp_path)
    monkeypatch.chdir(tmp_path)
    project = _project(tmp_path / "p", url, SCHEMA_STEP)
    result = project.upgrade("heads")
    assert not result.ok and result.heads_after == ("a1a1a1a1a1a1",)
    if dialect == "postgresql":  # transactional DDL: the whole step rolled back
        assert result.partial is None and "partially applied" not in result.error
        assert "size" not in column_names(url, "widget") and "extra" not in table_names(url)
        # ...and the error says so, from the schema read before the step and after it.
        assert ("— the 3 statements of this step that ran were rolled back (PostgreSQL ran "
                "them in the migration's transaction); alembic_version still says "
                "a1a1a1a1a1a1 (e: which)") in result.error
        assert "→ rolled back with the step's transaction" in result.error_details
        return
    # What the database holds, read by a query of the test's own...
    assert "size" in column_names(url, "widget") and "extra" in table_names(url)
    assert "ix_widget_name" in _indexes(url, "widget")
    # ...is what the error says, the new column, index and table against before.
    assert result.partial is not None
    size = "+ column widget.size " + ("INTEGER" if dialect == "sqlite" else "int(11)")
    assert result.partial.schema_changes == (
        "+ table extra (id)", size, "+ index ix_widget_name on widget (name)")
    # One line says the first of them (cut to fit), the details say all.
    assert (f"against the schema before the step: + table extra (id), {size} and 1 more "
            "(e: which)") in result.error
    assert "alembic_version still says a1a1a1a1a1a1: the database is partially applied " \
           "b2b2b2b2b2b2" in result.error
    assert len(result.partial.statements) == 3
    assert ("The schema now, against the schema read just before the step:\n"
            f"+ table extra (id)\n{size}\n+ index ix_widget_name on widget (name)\n"
            ) in result.error_details
    assert "alembic_version now says: a1a1a1a1a1a1 (b2b2b2b2b2b2 is not recorded as " \
           "applied)" in result.error_details


DATA_THEN_DDL = "\n".join([
    'op.execute("INSERT INTO widget (id, name) VALUES (1, \'kept?\')")',
    'op.create_table("extra", sa.Column("id", sa.Integer(), primary_key=True))',
    'op.execute("INSERT INTO widget (id, name) VALUES (2, \'after\')")',
    'op.execute("INSERT INTO no_such_table VALUES (1)")',
])


def test_mariadb_commits_data_before_ddl_only(tmp_path: Path, mariadb_url: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The CREATE TABLE commits the INSERT before it; the INSERT after it rolls back."""
    monkeypatch.chdir(tmp_path)
    result = _project(tmp_path / "p", mariadb_url, DATA_THEN_DDL).upgrade("heads")
    assert _rows(mariadb_url) == [1] and "extra" in table_names(mariadb_url)
    assert result.partial is not None and len(result.partial.statements) == 2
    assert "MariaDB could not roll back 2 statements of this step, 1 rolled back; " \
           "alembic_version still says a1a1a1a1a1a1" in result.error
    details = result.error_details
    assert "VALUES (1, 'kept?')\n  → stayed: committed by the DDL that came after it" in details
    assert "PRIMARY KEY (id)\n)\n  → stayed: MariaDB commits DDL as it runs" in details
    assert "VALUES (2, 'after')\n  → rolled back with the step's transaction" in details


def test_sqlite_keeps_ddl_before_the_first_data_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pysqlite begins a transaction at the first INSERT: DDL before it stayed, the
    rest rolled back with the step."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    monkeypatch.chdir(tmp_path)
    step = "\n".join([
        'op.create_table("early", sa.Column("id", sa.Integer(), primary_key=True))',
        'op.execute("INSERT INTO widget (id, name) VALUES (1, \'x\')")',
        'op.create_table("late", sa.Column("id", sa.Integer(), primary_key=True))',
        'op.execute("INSERT INTO no_such_table VALUES (1)")',
    ])
    result = _project(tmp_path / "p", url, step).upgrade("heads")
    assert "early" in table_names(url) and "late" not in table_names(url)
    assert _rows(url) == []
    assert result.partial is not None
    assert result.partial.schema_changes == ("+ table early (id)",)
    assert "SQLite could not roll back 1 statement of this step (CREATE TABLE early" \
        in result.error
    assert ", 2 rolled back; alembic_version still says a1a1a1a1a1a1" in result.error
    assert "against the schema before the step: + table early (id) (e: which)" in result.error
    assert "→ stayed: ran outside a transaction: Alembic runs SQLite without " \
           "transactional DDL" in result.error_details


@pytest.mark.parametrize("dialect", DATABASES)
def test_nothing_stayed_is_not_partial(
        dialect: str, tmp_path: Path, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Only data changes ran, and they rolled back: not partially applied."""
    url = server_url(request, dialect, tmp_path)
    monkeypatch.chdir(tmp_path)
    step = "\n".join([
        'op.execute("INSERT INTO widget (id, name) VALUES (1, \'x\')")',
        'op.execute("INSERT INTO no_such_table VALUES (1)")',
    ])
    project = _project(tmp_path / "p", url, step)
    result = project.upgrade("heads")
    assert _rows(url) == [] and not result.ok
    assert result.partial is None and project.snapshot().partial is None
    why = {"sqlite": "SQLite ran it in the transaction the step's first data change began",
           "postgresql": "PostgreSQL ran it in the migration's transaction"}.get(
               dialect, "no DDL came after it")
    assert f"— the statement of this step that ran was rolled back ({why})" in result.error
    assert "alembic_version still says a1a1a1a1a1a1" in result.error


@pytest.mark.parametrize("dialect", ["sqlite", "mariadb"])
def test_a_downgrade_failing_halfway_names_what_it_dropped(
        dialect: str, tmp_path: Path, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = server_url(request, dialect, tmp_path)
    monkeypatch.chdir(tmp_path)
    up = "\n".join([
        'op.create_table("extra", sa.Column("id", sa.Integer(), primary_key=True))',
        'op.create_index("ix_widget_name", "widget", ["name"])',
    ])
    down = "\n".join([
        'op.drop_index("ix_widget_name", table_name="widget")',
        'op.drop_table("extra")',
        *(['op.alter_column("widget", "name", type_=sa.String(80))']
          if dialect == "mariadb" else []),
        'op.execute("INSERT INTO no_such_table VALUES (1)")',
    ])
    write_project(tmp_path / "p", url=url, revisions=(
        BASE, Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "half", upgrade=up, downgrade=down)))
    project = Project.open(ProjectOptions(cwd=str(tmp_path / "p")))
    assert project.upgrade("heads").ok
    result = project.downgrade("-1")
    assert not result.ok and result.heads_after == ("b2b2b2b2b2b2",)
    assert "extra" not in table_names(url) and "ix_widget_name" not in _indexes(url, "widget")
    assert result.partial is not None and result.partial.revision == "b2b2b2b2b2b2"
    expected = ["- table extra", "- index ix_widget_name on widget"]
    if dialect == "mariadb":
        expected.insert(1, "~ column widget.name: varchar(50) -> varchar(80)")
    assert list(result.partial.schema_changes) == expected
    assert "alembic_version still says b2b2b2b2b2b2: the database is partially applied " \
           "b2b2b2b2b2b2" in result.error
    assert "\n".join(expected) in result.error_details
    assert project.snapshot().partial == result.partial


def test_sqlite_batch_step_failing_leaves_its_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch step copies the table: CREATE TABLE _alembic_tmp_widget commits before the
    INSERT … SELECT that fails (NULLs into NOT NULL); the copy stays, and is named."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path / "p", url=url, revisions=(
        BASE,
        Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "null row",
            upgrade='op.execute("INSERT INTO widget (id, name) VALUES (1, NULL)")'),
        Rev("c3c3c3c3c3c3", "b2b2b2b2b2b2", "not null", upgrade="\n".join([
            'with op.batch_alter_table("widget", recreate="always") as batch:',
            '    batch.alter_column("name", existing_type=sa.String(50), nullable=False)']))))
    project = Project.open(ProjectOptions(cwd=str(tmp_path / "p")))
    assert project.upgrade("b2b2b2b2b2b2").ok
    result = project.upgrade("heads")
    assert not result.ok and result.heads_after == ("b2b2b2b2b2b2",)
    assert "_alembic_tmp_widget" in table_names(url), "the copy committed before the INSERT"
    assert _rows(url) == [1], "the table itself is as before"
    assert result.partial is not None and result.partial.revision == "c3c3c3c3c3c3"
    assert result.partial.schema_changes == ("+ table _alembic_tmp_widget (id, name)",)
    assert "SQLite could not roll back 1 statement of this step" in result.error
    assert "_alembic_tmp_widget (\n" in result.partial.statements[0]


@pytest.mark.parametrize("dialect", ["sqlite", "mariadb"])
def test_only_the_tables_the_step_names_are_read_in_full(
        dialect: str, tmp_path: Path, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A step of literal op.* calls only: its tables are read in full before it, the
    others by name; what it changed is told the same."""
    url = server_url(request, dialect, tmp_path)
    monkeypatch.chdir(tmp_path)
    step = "\n".join([
        'op.create_table("extra", sa.Column("id", sa.Integer(), primary_key=True))',
        'op.add_column("widget", sa.Column("size", sa.Integer(), nullable=True))',
        'op.add_column("no_such_table", sa.Column("size", sa.Integer(), nullable=True))',
    ])
    project = _project(tmp_path / "p", url, step)
    path = str(next((tmp_path / "p" / "migrations" / "versions").glob("b2b2*.py")))
    assert touched_tables(path, "upgrade") == {"extra", "widget", "no_such_table"}
    result = project.upgrade("heads")
    assert not result.ok and result.partial is not None
    size = "+ column widget.size " + ("INTEGER" if dialect == "sqlite" else "int(11)")
    assert result.partial.schema_changes == ("+ table extra (id)", size)
    assert "extra" in table_names(url) and "size" in column_names(url, "widget")


def test_touched_tables_from_the_source(tmp_path: Path) -> None:
    path = tmp_path / "r.py"
    path.write_text("\n".join([
        "import sqlalchemy as sa",
        "from alembic import op",
        "def upgrade():",
        "    op.create_index(op.f('ix_a_x'), 'a', ['x'])",
        "    op.rename_table('b', 'c')",
        "    op.create_foreign_key('fk', 'd', 'e', ['e_id'], ['id'])",
        "    with op.batch_alter_table('f') as batch_op:",
        "        batch_op.add_column(sa.Column('y', sa.Integer()))",
        "    op.drop_index('ix_g', table_name='g')",
        "def downgrade():",
        "    op.execute('DROP TABLE a')",
    ]))
    assert touched_tables(str(path), "upgrade") == {
        "a", "b", "c", "d", "e", "f", "_alembic_tmp_f", "g"}
    assert touched_tables(str(path), "downgrade") is None, "raw SQL: not known"


def test_postgresql_ddl_that_env_py_commits_is_told_as_stayed(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An env.py that connects in autocommit: each DDL statement commits as it runs, so
    "rolled back" would be a lie; the schema read after the failure says what stayed."""
    from projectkit.templates import ENV_STOCK

    monkeypatch.chdir(tmp_path)
    env_py = ENV_STOCK.replace("create_engine(url, poolclass=pool.NullPool)",
                               'create_engine(url, poolclass=pool.NullPool, '
                               'isolation_level="AUTOCOMMIT")')
    assert env_py != ENV_STOCK
    failing = Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "half", upgrade=SCHEMA_STEP)
    folder = write_project(tmp_path / "p", env_py, url=pg_url, revisions=(BASE, failing))
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade("a1a1a1a1a1a1").ok
    result = project.upgrade("heads")
    assert not result.ok and result.heads_after == ("a1a1a1a1a1a1",)
    assert "size" in column_names(pg_url, "widget") and "extra" in table_names(pg_url)
    assert result.partial is not None
    assert result.partial.schema_changes == (
        "+ table extra (id)", "+ column widget.size integer",
        "+ index ix_widget_name on widget (name)")
    assert "rolled back" not in result.error
    assert "the database is partially applied b2b2b2b2b2b2" in result.error


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_earlier_steps_of_the_run_undone_with_the_failing_one_are_said(
        dialect: str, tmp_path: Path, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Alembic runs a whole upgrade in one transaction: on PostgreSQL a step that fails
    takes the steps before it in the same run with it."""
    url = server_url(request, dialect, tmp_path)
    monkeypatch.chdir(tmp_path)
    fine = Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "fine",
               upgrade='op.add_column("widget", sa.Column("size", sa.Integer()))')
    bad = Rev("c3c3c3c3c3c3", "b2b2b2b2b2b2", "bad",
              upgrade='op.execute("INSERT INTO no_such_table VALUES (1)")')
    folder = write_project(tmp_path / "p", url=url, revisions=(BASE, fine, bad))
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade("a1a1a1a1a1a1").ok
    result = project.upgrade("heads")
    assert not result.ok
    if dialect == "postgresql":
        assert result.heads_after == ("a1a1a1a1a1a1",)
        assert "size" not in column_names(url, "widget")
        assert ("; the earlier step of this run rolled back with it (one transaction): "
                "alembic_version says a1a1a1a1a1a1") in result.error
        assert result.steps == ()
        assert result.partial is None and project.snapshot().partial is None
    else:  # SQLite: the first step stayed, and alembic_version says so
        assert result.heads_after == ("b2b2b2b2b2b2",)
        assert "size" in column_names(url, "widget")
        assert "rolled back with it" not in result.error
        assert result.steps == ("upgrade a1a1a1a1a1a1 -> b2b2b2b2b2b2",)


def test_a_run_rolled_back_whole_on_postgresql_leaves_nothing_partial(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The schema read before the failing step is read inside the run's one transaction
    (the earlier step's table in it): after the rollback neither table is there, and
    nothing may be told as having stayed."""
    monkeypatch.chdir(tmp_path)
    fine = Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "fine",
               upgrade='op.create_table("extra", sa.Column("id", sa.Integer(), primary_key=True))')
    bad = Rev("c3c3c3c3c3c3", "b2b2b2b2b2b2", "bad", upgrade="\n".join([
        'op.create_table("extra2", sa.Column("id", sa.Integer(), primary_key=True))',
        'op.execute("INSERT INTO no_such_table VALUES (1)")']))
    folder = write_project(tmp_path / "p", url=pg_url, revisions=(BASE, fine, bad))
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade("a1a1a1a1a1a1").ok
    result = project.upgrade("heads")
    assert not result.ok and result.heads_after == ("a1a1a1a1a1a1",)
    assert not {"extra", "extra2"} & table_names(pg_url)
    assert result.partial is None and project.snapshot().partial is None
    assert "could not roll back" not in result.error
    assert "partially applied" not in result.error
    assert ("; the earlier step of this run rolled back with it (one transaction): "
            "alembic_version says a1a1a1a1a1a1") in result.error


def test_heads_not_read_after_a_failure_are_not_taken_for_a_rollback(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a transaction per migration the first step stays; when alembic_version
    cannot be read after the failure, its empty answer must not read as "nothing
    changed, so everything rolled back"."""
    from projectkit.templates import ENV_STOCK

    monkeypatch.chdir(tmp_path)
    broken = tmp_path / "env-py-broken"
    env_py = ENV_STOCK.replace(
        "context.configure(connection=connection)",
        "context.configure(connection=connection, transaction_per_migration=True)",
    ).replace("url = config", f"import pathlib\nif pathlib.Path({str(broken)!r}).exists():\n"
              "    raise RuntimeError('env.py cannot connect now')\nurl = config")
    assert env_py.count("transaction_per_migration") == 1 and "cannot connect" in env_py
    first = Rev("a1a1a1a1a1a1", None, "create widget", "widget")
    bad = Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "bad", upgrade="\n".join([
        f"open({str(broken)!r}, 'w').close()",
        'op.execute("INSERT INTO no_such_table VALUES (1)")']))
    folder = write_project(tmp_path / "p", env_py, url=pg_url, revisions=(first, bad))
    project = Project.open(ProjectOptions(cwd=str(folder)))
    result = project.upgrade("heads")
    assert not result.ok and broken.exists()
    assert "widget" in table_names(pg_url), "the first step committed on its own"
    assert "rolled back with it" not in result.error
    assert "alembic_version still says nothing" not in result.error
    assert result.steps == ("upgrade base -> a1a1a1a1a1a1",)


def test_a_first_run_failing_on_postgresql_is_rolled_back_whole(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """On an empty database the run creates alembic_version in its own transaction: the
    failure takes it away again, which is no change of the step's to tell as stayed."""
    monkeypatch.chdir(tmp_path)
    bad = Rev("a1a1a1a1a1a1", None, "bad", upgrade="\n".join([
        'op.create_table("extra", sa.Column("id", sa.Integer(), primary_key=True))',
        'op.execute("INSERT INTO no_such_table VALUES (1)")']))
    folder = write_project(tmp_path / "p", url=pg_url, revisions=(bad,))
    project = Project.open(ProjectOptions(cwd=str(folder)))
    result = project.upgrade("heads")
    assert not result.ok and result.heads_after == ()
    assert not {"extra", "alembic_version"} & table_names(pg_url)
    assert result.partial is None and "partially applied" not in result.error
    assert ("— the statement of this step that ran was rolled back (PostgreSQL ran it in "
            "the migration's transaction)") in result.error


def test_postgresql_data_changes_that_env_py_commits_are_not_told_as_stayed(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With env.py in autocommit, the schema shows the DDL that stayed, but an INSERT,
    UPDATE or DELETE leaves no mark on it: those are said to be unknown, not committed."""
    from projectkit.templates import ENV_STOCK

    monkeypatch.chdir(tmp_path)
    env_py = ENV_STOCK.replace("create_engine(url, poolclass=pool.NullPool)",
                               'create_engine(url, poolclass=pool.NullPool, '
                               'isolation_level="AUTOCOMMIT")')
    step = "\n".join([
        'op.add_column("widget", sa.Column("size", sa.Integer(), nullable=True))',
        "op.execute(\"INSERT INTO widget (id, name) VALUES (7, 'seven')\")",
        'op.execute("INSERT INTO no_such_table VALUES (1)")',
    ])
    failing = Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "half", upgrade=step)
    folder = write_project(tmp_path / "p", env_py, url=pg_url, revisions=(BASE, failing))
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade("a1a1a1a1a1a1").ok
    result = project.upgrade("heads")
    assert not result.ok and result.partial is not None
    assert result.partial.schema_changes == ("+ column widget.size integer",)
    assert result.partial.statements == (
        "ALTER TABLE widget ADD COLUMN size INTEGER",)  # the INSERT: not known to stay
    assert "could not roll back 1 statement of this step" in result.error
    assert "1 not verifiable from the schema" in result.error
    insert = result.error_details.split("INSERT INTO widget", 1)[1].split("\n\n", 1)[0]
    assert "→ unknown: not verifiable from the schema" in insert
    assert "committed" not in insert and "stayed" not in insert


def test_a_failing_statement_over_several_lines_is_named_by_more_than_its_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    monkeypatch.chdir(tmp_path)
    step = 'op.execute("CREATE TABLE orders (\\n    id integer,\\n    total nonsense here(\\n)")'
    result = _project(tmp_path / "p", url, step).upgrade("heads")
    assert not result.ok
    assert "[statement: CREATE TABLE orders ( id integer, total nonsense here( )]" \
        in result.error


@pytest.mark.parametrize("dialect", DATABASES)
def test_a_failing_statement_with_a_percent_sign_is_shown_as_written(
        dialect: str, tmp_path: Path, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """psycopg and PyMySQL get % doubled by SQLAlchemy (and turn it back): the error names
    the statement as the revision file has it, and as the database ran it."""
    url = server_url(request, dialect, tmp_path)
    monkeypatch.chdir(tmp_path)
    step = "\n".join([
        "op.execute(\"UPDATE widget SET name = '100%' WHERE name LIKE 'a%'\")",
        "op.execute(\"INSERT INTO no_such_table VALUES ('50%')\")",
    ])
    result = _project(tmp_path / "p", url, step).upgrade("heads")
    assert not result.ok
    assert "[statement: INSERT INTO no_such_table VALUES ('50%')]" in result.error
    assert "%%" not in result.error
    assert "Failing statement:\nINSERT INTO no_such_table VALUES ('50%')\n" in result.error_details
    ran = result.error_details.split("Statements of this step that ran", 1)[-1]
    assert "UPDATE widget SET name = '100%' WHERE name LIKE 'a%'" in result.error_details
    assert "'100%%'" not in ran.split("Traceback", 1)[0]
