"""Model edits and database set-up for the autogenerate (pending changes) tests."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from projects import data_engine

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project

# The sample's models with five changes: a column added (user.nickname), a column removed
# (user.ssn), a type changed (post.body VARCHAR -> TEXT), a new table (tag) and a new
# index (post.title).
CHANGED_MODELS = '''\
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    email: str = Field(index=True, unique=True)
    nickname: str | None = Field(default=None, max_length=40)
    created_at: datetime | None = Field(default=None)


class Post(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(index=True)
    body: str = Field(sa_type=Text)
    user_id: int = Field(foreign_key="user.id")


class Tag(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    label: str
'''

EXPECTED = {
    ("add table", "tag", "tag"),
    ("add column", "user", "nickname"),
    ("drop column", "user", "ssn"),
    ("type change", "post", "body"),
    ("add index", "post", "ix_post_title"),
}


def models_file(project: Path) -> Path:
    return project / "sampleapp" / "models.py"


def change_models(project: Path) -> None:
    """Write the five model changes into the project's models.py."""
    models_file(project).write_text(CHANGED_MODELS)


def edit_models(project: Path, old: str, new: str) -> None:
    """Replace one piece of the project's models.py."""
    path = models_file(project)
    text = path.read_text()
    assert old in text, f"{old!r} not in models.py"
    path.write_text(text.replace(old, new))


def open_project(project: Path) -> Project:
    return Project.open(ProjectOptions(cwd=str(project)))


def upgrade(project: Path, target: str = "heads") -> None:
    """Bring the project's database to ``target`` with the real Alembic (in this process)."""
    # env.py runs in this process here: forget cached directory listings of ".", which
    # may belong to another test's project folder (one with the same mtime).
    importlib.invalidate_caches()
    result = open_project(project).upgrade(target)
    assert result.ok, result.error_details


def run_sql(url: str, *statements: str) -> None:
    engine = data_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def current_heads(url: str) -> set[str]:
    engine = data_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return set()
            return {row[0] for row in conn.execute(sa.text("select version_num "
                                                           "from alembic_version"))}
    finally:
        engine.dispose()


def upgrade_source(project: Path, revision: str) -> str:
    """The upgrade() function of the revision file with this id."""
    [path] = (project / "migrations" / "versions").glob(f"{revision}_*.py")
    text = path.read_text()
    return text.split("def upgrade()", 1)[1].split("def downgrade()", 1)[0]


_TIMESTAMP = 'sa.Column("created_at", sa.DateTime(), nullable=True)'


def match_sample_timestamps(project: Path) -> None:
    """Make the copied sample's revision agree with its model on PostgreSQL.

    SQLModel maps ``datetime`` to a timezone-aware DateTime, while the sample's revision
    creates ``created_at`` as ``sa.DateTime()``: on PostgreSQL autogenerate then reports
    a type change on an untouched sample. A no-op once the sample itself agrees.
    """
    [path] = (project / "migrations" / "versions").glob("8c2e47d1a5f0_*.py")
    text = path.read_text()
    if _TIMESTAMP in text:
        path.write_text(text.replace(_TIMESTAMP, _TIMESTAMP.replace(
            "sa.DateTime()", "sa.DateTime(timezone=True)")))


@pytest.fixture(autouse=True)
def sample_matches_models(request: pytest.FixtureRequest) -> None:
    """Autouse (import it into a test module): apply match_sample_timestamps to the sample."""
    for name in ("sample_project", "sample_sqlite", "sample_pg"):
        if name in request.fixturenames:
            match_sample_timestamps(request.getfixturevalue(name))
            return


def full_schema(url: str) -> dict[str, dict[str, Any]]:
    """Every table as the database reports it: columns in order (name, type, nullable,
    default), primary key, indexes, unique constraints and foreign keys, with their names."""
    engine = data_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            schema: dict[str, dict[str, Any]] = {}
            for table in sorted(inspector.get_table_names()):
                pk = inspector.get_pk_constraint(table)
                schema[table] = {
                    "columns": [(c["name"], str(c["type"]), bool(c["nullable"]),
                                 str(c.get("default"))) for c in inspector.get_columns(table)],
                    "primary key": (pk.get("name"), tuple(pk["constrained_columns"])),
                    "indexes": sorted((i["name"] or "", tuple(i["column_names"]),
                                       bool(i["unique"])) for i in inspector.get_indexes(table)),
                    "unique": sorted((u["name"] or "", tuple(u["column_names"]))
                                     for u in inspector.get_unique_constraints(table)),
                    "foreign keys": sorted(
                        (f["name"] or "", tuple(f["constrained_columns"]), f["referred_table"],
                         tuple(f["referred_columns"]), tuple(sorted(f["options"].items())))
                        for f in inspector.get_foreign_keys(table)),
                }
            return schema
    finally:
        engine.dispose()


def revision_path(project: Path, revision: str) -> Path:
    [path] = (project / "migrations" / "versions").glob(f"{revision}_*.py")
    return path


def ruff_findings(path: Path) -> str:
    """What ``ruff check`` with its default rules (no project settings) says of a file
    ('' when it passes)."""
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache",
                           "--output-format", "concise", str(path)],
                          capture_output=True, text=True, check=False)
    return "" if done.returncode == 0 else done.stdout + done.stderr
