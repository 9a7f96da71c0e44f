"""Words for steps whose operations cannot be read offline (issue #20, case 5).

A revision whose upgrade() asks the live database first (inspect(op.get_bind())) and
keeps its op.* calls in a helper cannot be recorded offline: the details say the
operations are not known, why, and which calls the source makes, never
"(no operations)"; an op.create_table() whose name is computed says so.
"""

from __future__ import annotations

import io
from pathlib import Path

from loading_helpers import open_project, write_revision
from projects import sqlite_url, write_project
from rich.console import Console

from migtui.core.checks.preflight import revision_operations
from migtui.screens.preflight_text import describe_functions

HELPERS = '''
import sqlalchemy as sa
from sqlalchemy import inspect

NAME = "users"


def _create_users():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))
'''


def _shown(folder: Path, revision: str) -> str:
    project = open_project(folder)
    console = Console(width=200, file=io.StringIO(), record=True, color_system=None)
    console.print(describe_functions(revision_operations(project, revision, "sqlite")))
    return console.export_text()


def _users_revision(tmp_path: Path) -> tuple[Path, Path]:
    """A project with one revision a1 over HELPERS (its upgrade() to be written)."""
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"), revisions=())
    return folder, write_revision(folder / "migrations" / "versions" / "a1_users.py", "a1",
                                  None, HELPERS)


def test_operations_in_a_helper_behind_a_live_check(tmp_path: Path) -> None:
    folder, path = _users_revision(tmp_path)
    source = path.read_text().replace(
        "def upgrade() -> None:\n    pass",
        "def upgrade() -> None:\n    if not inspect(op.get_bind()).has_table('users'):\n"
        "        _create_users()")
    path.write_text(source)
    shown = _shown(folder, "a1")
    assert "operations not known: upgrade() calls code that needs a live connection (" in shown
    assert "calls inspect(), _create_users()" in shown
    assert "(no operations)" not in shown.split("downgrade()")[0]


def test_create_table_with_a_computed_name(tmp_path: Path) -> None:
    folder, path = _users_revision(tmp_path)
    path.write_text(path.read_text().replace(
        "def upgrade() -> None:\n    pass",
        "def upgrade() -> None:\n    op.get_bind().execute(sa.text('select 1')).scalar()\n"
        "    op.create_table(NAME, sa.Column('id', sa.Integer(), primary_key=True))"))
    shown = _shown(folder, "a1")
    assert "create_table(NAME (name not known until it runs))" in shown
    assert "create_table()" not in shown


def test_a_batch_under_any_name_and_a_helper_beside_operations(tmp_path: Path) -> None:
    """Read from the source (the step asks the live database first): the operations of
    a batch_alter_table bound to any name are listed, and a helper it calls beside its
    op.* calls is named, so that nothing it runs goes unsaid."""
    folder, path = _users_revision(tmp_path)
    path.write_text(path.read_text().replace(
        "def upgrade() -> None:\n    pass",
        "def upgrade() -> None:\n"
        "    op.get_bind().execute(sa.text('select 1')).scalar()\n"
        "    with op.batch_alter_table('users') as b:\n"
        "        b.add_column(sa.Column('age', sa.Integer()))\n"
        "    op.create_table('half', sa.Column('id', sa.Integer(), primary_key=True))\n"
        "    _create_users()"))
    shown = _shown(folder, "a1")
    assert "create_table('half')" in shown
    assert "'users': add_column('age')" in shown
    assert shown.index("'users': add_column('age')") < shown.index("create_table('half')") \
        < shown.index("also calls"), "in the order they run"
    assert "also calls _create_users(): what that runs is not known" in shown
    assert "Column()" not in shown.split("also calls")[1].split("\n")[0]
