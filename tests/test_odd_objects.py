"""One odd object never blanks the tables screen's data: each is read on its own and
marked with what went wrong; invalid UTF-8 shows with replacement characters."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from projects import LINEAR, sqlite_url, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.schema.inspector import DatabaseInspector
from migtui.core.schema.model import RowRequest, TableRef


def odd_database(tmp_path: Path) -> DatabaseInspector:
    db = tmp_path / "odd.db"
    folder = write_project(tmp_path / "proj", url=sqlite_url(db), revisions=LINEAR)
    project = Project.open(ProjectOptions(cwd=str(folder)))
    assert project.upgrade("heads").ok
    conn = sqlite3.connect(db)
    conn.executescript("""
        CREATE TABLE gone (a INTEGER);
        CREATE VIEW v_broken AS SELECT * FROM gone;
        DROP TABLE gone;
        CREATE TABLE bytes_t (id INTEGER PRIMARY KEY, x TEXT);
        INSERT INTO bytes_t VALUES (1, CAST(x'fffe41c328' AS TEXT)), (2, 'fine');
    """)
    conn.close()
    return DatabaseInspector(project)


def test_a_view_over_a_dropped_table_is_marked_and_the_rest_is_listed(tmp_path: Path) -> None:
    schema = odd_database(tmp_path).read_schema()
    names = {t.ref.name for t in schema.tables}
    assert {"widget", "gadget", "bytes_t", "v_broken", "alembic_version"} <= names
    broken = schema.get(TableRef("v_broken"))
    assert broken is not None and broken.problem == "view v_broken: no such table: main.gone"
    widget = schema.get(TableRef("widget"))
    assert widget is not None and not widget.problem and widget.columns


def test_invalid_utf8_text_shows_replacement_characters_and_its_bytes(tmp_path: Path) -> None:
    inspector = odd_database(tmp_path)
    table = inspector.read_schema().get(TableRef("bytes_t"))
    assert table is not None
    page = inspector.read_rows(RowRequest(None, "bytes_t", ("id", "x"), ("id",)))
    cells = [row[1] for row in page.rows]
    assert cells[0].text == b"\xff\xfeA\xc3(".decode("utf-8", "replace") == "\ufffd\ufffdA\ufffd("
    assert cells[0].raw == "fffe41c328"
    assert cells[1].text == "fine" and cells[1].raw == ""
    whole = inspector.read_value(table, "x", (1,))
    assert whole.raw == "fffe41c328"
