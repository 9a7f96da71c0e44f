"""Helpers for the tables inspector tests: odd tables, big tables, an async env.py."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from projects import data_engine

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.schema.inspector import DatabaseInspector
from projectkit.templates import ASYNC_ONLINE, ini_escape

WEIRD = 'weird "name"; drop table user --'
WEIRD_COLUMNS = ("id", "select", 'a "quoted" col', "semi;colon", "with space")


def open_project(project: Path) -> Project:
    """The core Project of a copied sample, as migtui opens it."""
    return Project.open(ProjectOptions(cwd=str(project)))


def inspector(project: Path) -> DatabaseInspector:
    """An inspector on a copied sample project."""
    return DatabaseInspector(open_project(project))


def make_weird_table(url: str, rows: int = 450) -> None:
    """A table whose name and columns need quoting, with some rows and a binary column."""
    meta = sa.MetaData()
    table = sa.Table(
        WEIRD, meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("select", sa.Text),
        sa.Column('a "quoted" col', sa.Integer),
        sa.Column("semi;colon", sa.LargeBinary),
        sa.Column("with space", sa.String(20)),
    )
    engine = data_engine(url)
    with engine.begin() as conn:
        meta.create_all(conn)
        conn.execute(table.insert(), [
            {"id": i, "select": f"row {i}", 'a "quoted" col': i * 2,
             "semi;colon": bytes([i % 256, 0, 255]) * (i % 5), "with space": "x"}
            for i in range(1, rows + 1)
        ])
    engine.dispose()


def make_big_table(url: str, name: str, rows: int, *, primary_key: bool = True) -> None:
    """A table of ``rows`` rows (id, label), filled on the server side."""
    engine = data_engine(url)
    meta = sa.MetaData()
    id_column = sa.Column("id", sa.Integer, primary_key=primary_key, autoincrement=False)
    table = sa.Table(name, meta, id_column, sa.Column("label", sa.String(40)))
    with engine.begin() as conn:
        meta.create_all(conn)
        if engine.dialect.name == "postgresql":
            numbers = sa.select(sa.func.generate_series(1, rows).label("n")).subquery()
        else:
            seq = sa.select(sa.literal(1).label("n")).cte("seq", recursive=True)
            seq = seq.union_all(sa.select(seq.c.n + 1).where(seq.c.n < rows))
            numbers = sa.select(seq.c.n).subquery()
        conn.execute(table.insert().from_select(
            ["id", "label"], sa.select(numbers.c.n, sa.literal("row ") + sa.cast(
                numbers.c.n, sa.String))))
    engine.dispose()


def execute(url: str, *statements: str) -> None:
    """Run a few statements in one transaction."""
    engine = data_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    engine.dispose()


def make_async(project: Path, async_url: str) -> None:
    """Turn a copied sample into the async env.py template on ``async_url``."""
    env = project / "migrations" / "env.py"
    text = env.read_text()
    start = text.index("def run_migrations_online()")
    end = text.index("if context.is_offline_mode():")
    env.write_text(text[:start] + ASYNC_ONLINE.lstrip("\n") + text[end + len(
        "if context.is_offline_mode():\n"):])
    ini = project / "alembic.ini"
    lines = [
        "sqlalchemy.url = " + ini_escape(async_url) if line.startswith("sqlalchemy.url")
        else line for line in ini.read_text().splitlines()
    ]
    ini.write_text("\n".join(lines) + "\n")
