"""The read-only schema inspector, on real SQLite files and the real PostgreSQL server."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import column_names, copy_sample, database_url, table_names
from projects import data_engine
from tables_helpers import (
    WEIRD,
    WEIRD_COLUMNS,
    execute,
    inspector,
    make_async,
    make_big_table,
    make_weird_table,
    open_project,
)

from migtui.core.errors import MigtuiError
from migtui.core.schema.inspector import DatabaseInspector
from migtui.core.schema.model import (
    HOLD_BYTES,
    HOLD_CHARS,
    Cell,
    CellKind,
    RowPage,
    RowRequest,
    SchemaInfo,
    TableInfo,
    TableRef,
    compare,
    full_text,
    grid_text,
    to_cell,
)
from migtui.core.schema.rows import COUNT_LIMIT


def _table(schema: SchemaInfo, name: str) -> TableInfo:
    found = schema.get(TableRef(name))
    assert found is not None, f"{name} not in {[t.ref.label for t in schema.tables]}"
    return found


def _request(table: TableInfo, **kw: object) -> RowRequest:
    return RowRequest(table.ref.schema, table.ref.name, tuple(c.name for c in table.columns),
                      table.key_columns, **kw)  # type: ignore[arg-type]


def _page_all(insp: DatabaseInspector, table: TableInfo, limit: int) -> list[RowPage]:
    pages = [insp.read_rows(_request(table, limit=limit))]
    while pages[-1].more_after:
        last = pages[-1]
        pages.append(insp.read_rows(_request(
            table, key=last.last_key, offset=last.offset + len(last.rows), limit=limit)))
    return pages


def test_a_table_renamed_is_marked_renamed_not_dropped(sample_project: Path) -> None:
    """The review's case: a rename (rename_table, or by hand) showed the old name as
    dropped and the new one as new, which reads as data lost."""
    project = open_project(sample_project)
    assert project.upgrade("head").ok
    insp = DatabaseInspector(project)
    before = insp.read_schema()
    engine = data_engine(database_url(sample_project))
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE post RENAME TO article"))
    engine.dispose()
    after = insp.read_schema()
    insp.close()
    changes = compare(before, after)
    assert changes.table_mark(TableRef("article")) == "renamed"
    assert changes.renamed == {TableRef("article"): TableRef("post")}
    assert changes.table_mark(TableRef("post")) == "" and not changes.dropped_tables
    assert changes.column_mark(TableRef("article"), "title") == ""
    # Not the same columns: a table dropped and another created, as before.
    other = replace(after, tables=tuple(
        replace(t, columns=t.columns[:-1]) if t.ref.name == "article" else t
        for t in after.tables))
    changes = compare(before, other)
    assert changes.table_mark(TableRef("article")) == "new"
    assert changes.table_mark(TableRef("post")) == "dropped"


def test_schema_step_by_step_and_changes(sample_project: Path) -> None:
    project = open_project(sample_project)
    insp = DatabaseInspector(project)
    before = insp.read_schema()
    assert [t.ref.name for t in before.tables] == []

    assert project.upgrade("+1").ok
    first = insp.read_schema()
    assert [t.ref.name for t in first.tables] == ["alembic_version", "user"]
    user = _table(first, "user")
    assert [c.name for c in user.columns] == ["id", "name", "email"]
    assert user.key_columns == ("id",)
    assert user.columns[0].primary_key and not user.columns[1].nullable
    assert {(i.name, i.columns, i.unique) for i in user.indexes} == {
        ("ix_user_email", ("email",), True), ("ix_user_name", ("name",), False)}
    assert str(user.rows) == "0"
    assert _table(first, "alembic_version").revisions == ("3f1a2c9d0b11",)
    changes = compare(before, first)
    assert changes.table_mark(TableRef("user")) == "new"
    assert changes.column_mark(TableRef("user"), "email") == "new"

    assert project.upgrade("+1").ok
    second = insp.read_schema()
    changes = compare(first, second)
    assert changes.table_mark(TableRef("user")) == "changed"
    assert changes.column_mark(TableRef("user"), "ssn") == "new"
    assert changes.column_mark(TableRef("user"), "created_at") == "new"
    assert changes.column_mark(TableRef("user"), "name") == ""
    ssn = next(c for c in _table(second, "user").columns if c.name == "ssn")
    assert ssn.nullable and "11" in ssn.type

    assert project.upgrade("+1").ok
    third = insp.read_schema()
    post = _table(third, "post")
    (fk,) = post.foreign_keys
    assert fk.columns == ("user_id",) and fk.target == TableRef("user")
    assert fk.target_columns == ("id",)
    assert compare(second, third).table_mark(TableRef("post")) == "new"
    assert compare(second, third).table_mark(TableRef("user")) == ""

    assert project.downgrade("-1").ok
    assert project.downgrade("-1").ok
    fifth = insp.read_schema()
    changes = compare(third, fifth)
    assert changes.table_mark(TableRef("post")) == "dropped"
    assert [t.ref.name for t in changes.dropped_tables] == ["post"]
    assert changes.column_mark(TableRef("user"), "ssn") == "dropped"
    assert [c.name for c in changes.dropped_columns[TableRef("user")]] == ["ssn", "created_at"]
    # Reading never wrote anything: the next upgrade works and the schema is as Alembic left it.
    assert project.upgrade("heads").ok
    assert column_names(database_url(sample_project), "user") >= {"ssn", "created_at"}


def test_missing_sqlite_file_is_not_created(sample_sqlite: Path) -> None:
    schema = inspector(sample_sqlite).read_schema()
    assert schema.tables == () and "does not exist yet" in schema.missing
    assert not (sample_sqlite / "sample.db").exists()


def test_keyset_paging_forward_and_back(sample_project: Path) -> None:
    url = database_url(sample_project)
    assert open_project(sample_project).upgrade("heads").ok
    make_big_table(url, "numbers", 1_050)
    insp = inspector(sample_project)
    table = _table(insp.read_schema(), "numbers")
    assert str(table.rows) == "1,050"
    pages = _page_all(insp, table, 200)
    assert [len(p.rows) for p in pages] == [200] * 5 + [50]
    ids = [int(row[0].text) for page in pages for row in page.rows]
    assert ids == list(range(1, 1_051))
    assert [p.offset for p in pages] == [0, 200, 400, 600, 800, 1000]
    # Backwards from the last page's first row.
    back = insp.read_rows(_request(table, key=pages[-1].first_key, offset=1000, backwards=True,
                                   limit=200))
    assert back.offset == 800 and [int(r[0].text) for r in back.rows] == list(range(801, 1001))
    assert back.more_before and back.more_after


def test_paging_100000_rows_to_the_end(sample_project: Path) -> None:
    make_big_table(database_url(sample_project), "numbers", 100_000)
    insp = inspector(sample_project)
    table = _table(insp.read_schema(), "numbers")
    pages, rows, expected = 0, 0, 1
    page = insp.read_rows(_request(table))
    while True:
        pages += 1
        assert len(page.rows) <= 200
        assert [int(r[0].text) for r in page.rows] == list(range(expected, expected + 200))
        expected += len(page.rows)
        rows += len(page.rows)
        if not page.more_after:
            break
        page = insp.read_rows(_request(table, key=page.last_key, offset=rows))
    assert (pages, rows, page.offset) == (500, 100_000, 99_800)


def test_offset_paging_without_primary_key(sample_project: Path) -> None:
    url = database_url(sample_project)
    make_big_table(url, "heap", 450, primary_key=False)
    insp = inspector(sample_project)
    table = _table(insp.read_schema(), "heap")
    assert table.key_columns == ()
    pages = _page_all(insp, table, 200)
    assert sum(len(p.rows) for p in pages) == 450
    assert sorted(int(row[0].text) for p in pages for row in p.rows) == list(range(1, 451))
    back = insp.read_rows(_request(table, offset=400, backwards=True, limit=200))
    assert back.offset == 200 and len(back.rows) == 200


def test_composite_primary_key_pages(sample_project: Path) -> None:
    url = database_url(sample_project)
    execute(url, "CREATE TABLE pairs (a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b))",
            *[f"INSERT INTO pairs VALUES ({a}, {b})" for a in range(1, 8) for b in range(1, 8)])
    insp = inspector(sample_project)
    table = _table(insp.read_schema(), "pairs")
    assert table.key_columns == ("a", "b")
    pages = _page_all(insp, table, 10)
    got = [(int(r[0].text), int(r[1].text)) for p in pages for r in p.rows]
    assert got == [(a, b) for a in range(1, 8) for b in range(1, 8)]


def test_weird_names_are_quoted_and_user_survives(sample_project: Path) -> None:
    url = database_url(sample_project)
    assert open_project(sample_project).upgrade("heads").ok
    make_weird_table(url)
    insp = inspector(sample_project)
    schema = insp.read_schema()
    weird = _table(schema, WEIRD)
    assert tuple(c.name for c in weird.columns) == WEIRD_COLUMNS
    assert str(weird.rows) == "450"
    pages = _page_all(insp, weird, 200)
    assert sum(len(p.rows) for p in pages) == 450
    assert pages[0].rows[0][1].text == "row 1" and pages[-1].rows[-1][1].text == "row 450"
    assert "user" in table_names(url)
    assert insp.read_rows(_request(_table(schema, "user"))).rows == ()


def test_binary_values_render(sample_project: Path) -> None:
    url = database_url(sample_project)
    execute(url, "CREATE TABLE blobs (id INTEGER PRIMARY KEY, data {})".format(
        "BYTEA" if url.startswith("postgresql") else "BLOB"))
    engine = data_engine(url)
    blobs = sa.table("blobs", sa.column("id"), sa.column("data", sa.LargeBinary))
    big = bytes(range(256)) * 40  # 10,240 bytes: more than a cell holds
    with engine.begin() as conn:
        conn.execute(blobs.insert(), [{"id": 1, "data": b"\x00\x01\xfe\xff"},
                                      {"id": 2, "data": big}, {"id": 3, "data": None}])
    engine.dispose()
    insp = inspector(sample_project)
    table = _table(insp.read_schema(), "blobs")
    rows = insp.read_rows(_request(table)).rows
    small, large, empty = (row[1] for row in rows)
    assert small.kind is CellKind.BINARY and grid_text(small) == "<4 bytes> 0001feff"
    assert grid_text(large).startswith("<10,240 bytes> 000102")
    assert large.truncated and len(bytes.fromhex(large.text)) == HOLD_BYTES
    assert empty.kind is CellKind.NULL
    dump = full_text(small)
    assert dump.splitlines()[1].startswith("00000000  00 01 fe ff")
    whole = insp.read_value(table, "data", (2,))
    assert not whole.truncated and bytes.fromhex(whole.text) == big


def test_long_text_is_cut_in_cells_and_read_whole(sample_sqlite: Path) -> None:
    url = database_url(sample_sqlite)
    long = "line one\nline two\t" + "x" * (HOLD_CHARS + 500)
    engine = data_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        conn.execute(sa.text("INSERT INTO notes VALUES (1, :b)"), {"b": long})
    engine.dispose()
    insp = inspector(sample_sqlite)
    table = _table(insp.read_schema(), "notes")
    cell = insp.read_rows(_request(table)).rows[0][1]
    assert cell.truncated and cell.size == len(long) and len(cell.text) == HOLD_CHARS
    shown = grid_text(cell, 20)
    assert shown == "line one↵line two⇥x…" and len(shown) == 20
    assert insp.read_value(table, "body", (1,)).text == long


def test_cells_never_fail() -> None:
    class Odd:
        def __str__(self) -> str:
            raise ValueError("no")

    assert to_cell(Odd()) == Cell("<Odd>", CellKind.OTHER)
    assert to_cell(True).text == "true"
    assert to_cell({"a": [1, "é"]}).text == '{"a": [1, "é"]}'
    assert grid_text(to_cell("bell\x07")) == "bell·"


def test_reads_are_read_only(sample_project: Path) -> None:
    url = database_url(sample_project)
    project = open_project(sample_project)
    assert project.upgrade("heads").ok
    insp = DatabaseInspector(project)
    insp.read_schema()
    users = sa.table("user", sa.column("name"), sa.column("email"))
    with pytest.raises(MigtuiError, match=r"(?i)read.?only"):
        insp._run(lambda conn: conn.execute(users.insert().values(name="x", email="y")))
    # Nothing was written, and the connection is usable for migrations afterwards.
    engine = data_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text('SELECT count(*) FROM "user"')).scalar() == 0
    engine.dispose()
    assert project.downgrade("base").ok and project.upgrade("heads").ok


def test_counts_exact_or_estimated(sample_project: Path) -> None:
    url = database_url(sample_project)
    make_big_table(url, "big", COUNT_LIMIT + 20_000)
    make_big_table(url, "small", 10)
    schema = inspector(sample_project).read_schema()
    assert str(_table(schema, "small").rows) == "10"
    big = _table(schema, "big").rows
    assert big is not None
    if url.startswith("sqlite"):  # from the rowid range
        assert big.estimate and big.value == COUNT_LIMIT + 20_000
        assert str(big) == "~120,000"
    elif url.startswith("mysql"):  # InnoDB's estimate from information_schema.tables
        execute(url, "ANALYZE TABLE big")
        big = _table(inspector(sample_project).read_schema(), "big").rows
        assert big is not None and big.estimate and str(big).startswith("~")
        assert COUNT_LIMIT < big.value < 2 * (COUNT_LIMIT + 20_000), "an estimate, not a bound"
    else:  # never analyzed: no statistics to trust, so "at least" what was counted
        assert big.at_least and str(big) == "≥100,000"
        execute(url, "ANALYZE big")
        big = _table(inspector(sample_project).read_schema(), "big").rows
        assert big is not None and big.estimate and big.value == COUNT_LIMIT + 20_000


def test_mariadb_engines_and_only_its_own_database(
        sample_mariadb: Path, mariadb_url: str, mariadb_server_url: str) -> None:
    """Other databases of the server are not this project's schemas; engines are shown."""
    other = f"other_{sa.make_url(mariadb_url).database}"
    admin = data_engine(mariadb_server_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {other}"))
        conn.execute(sa.text(f"CREATE TABLE {other}.elsewhere (id int PRIMARY KEY)"))
    try:
        project = open_project(sample_mariadb)
        assert project.upgrade("heads").ok
        execute(mariadb_url, "CREATE TABLE notes (id int PRIMARY KEY) ENGINE=Aria")
        schema = DatabaseInspector(project).read_schema()
        assert schema.dialect == "mariadb"
        assert [t.ref.label for t in schema.tables] == [
            "alembic_version", "notes", "post", "user"]
        assert _table(schema, "user").engine == "InnoDB"
        assert _table(schema, "notes").engine == "Aria"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE {other}"))
        admin.dispose()


def test_views_and_other_schemas_on_postgresql(sample_pg: Path) -> None:
    url = database_url(sample_pg)
    execute(url, "CREATE SCHEMA extra", "CREATE TABLE extra.things (id int PRIMARY KEY)",
            "CREATE TABLE plain (id int PRIMARY KEY, thing_id int REFERENCES extra.things(id),"
            " price numeric CHECK (price > 0))",
            "COMMENT ON COLUMN plain.price IS 'in cents'", "CREATE VIEW cheap AS SELECT 1 AS one")
    schema = inspector(sample_pg).read_schema()
    assert [t.ref.label for t in schema.tables] == ["cheap", "plain", "extra.things"]
    cheap = _table(schema, "cheap")
    assert cheap.kind == "view" and cheap.rows is None
    plain = _table(schema, "plain")
    assert plain.foreign_keys[0].target == TableRef("things", "extra")
    assert any(c.kind == "check" and "price" in c.definition for c in plain.constraints)
    assert next(c for c in plain.columns if c.name == "price").comment == "in cents"


def test_password_is_never_shown(pg_url: str, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    url = sa.make_url(pg_url).set(password="s3cr3t-pw")  # the test server trusts anyone
    project = copy_sample(tmp_path / "sample", url.render_as_string(hide_password=False))
    monkeypatch.chdir(project)
    schema = inspector(project).read_schema()
    assert "s3cr3t-pw" not in schema.url and "***" in schema.url


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_async_env_py(dialect: str, tmp_path: Path, request: pytest.FixtureRequest,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    if dialect == "sqlite":
        project = copy_sample(tmp_path / "sample")
        async_url = f"sqlite+aiosqlite:///{project}/async.db"
    else:
        pg = sa.make_url(request.getfixturevalue("pg_url"))
        project = copy_sample(tmp_path / "sample")
        async_url = pg.set(drivername="postgresql+psycopg_async").render_as_string(
            hide_password=False)
    make_async(project, async_url)
    monkeypatch.chdir(project)
    core = open_project(project)
    assert core.upgrade("heads").ok
    insp = DatabaseInspector(core)
    schema = insp.read_schema()
    assert schema.dialect == dialect
    assert [t.ref.name for t in schema.tables] == ["alembic_version", "post", "user"]
    user = _table(schema, "user")
    assert insp.read_rows(_request(user)).rows == ()
    assert core.downgrade("-1").ok  # nothing left the database read-only
    assert os.path.exists(project / "async.db") == (dialect == "sqlite")
