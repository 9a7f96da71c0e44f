"""Projects with broken, odd or many revision files, for the loading tests."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from pathlib import Path

from alembic.script import ScriptDirectory
from projects import LINEAR, Rev, sqlite_url, write_project

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.env.capture import captured
from migtui.core.models import RevisionGraph
from tests.graph_oracle import read_graph

# A line of four revisions; tests break some of them.
CHAIN = (
    Rev("a1a1a1a1a1a1", None, "create widget", "widget"),
    Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "create gadget", "gadget"),
    Rev("c3c3c3c3c3c3", "b2b2b2b2b2b2", "create gizmo", "gizmo"),
    Rev("d4d4d4d4d4d4", "c3c3c3c3c3c3", "create doohickey", "doohickey"),
)

# Branch labels and depends_on in the ways Alembic spreads and resolves them.
LABELLED = (
    Rev("a1a1a1a1a1a1", None, "base"),
    Rev("b2b2b2b2b2b2", "a1a1a1a1a1a1", "core starts", branch_labels=("core",)),
    Rev("c3c3c3c3c3c3", "b2b2b2b2b2b2", "core goes on"),
    Rev("d4d4d4d4d4d4", "c3c3c3c3c3c3", "branch point"),
    Rev("e5e5e5e5e5e5", "d4d4d4d4d4d4", "feature one", branch_labels=("feat",)),
    Rev("f6f6f6f6f6f6", "d4d4d4d4d4d4", "feature two"),
    Rev("a7a7a7a7a7a7", ("e5e5e5e5e5e5", "f6f6f6f6f6f6"), "merge features"),
    Rev("b8b8b8b8b8b8", None, "second base", branch_labels=("extra", "more")),
    Rev("c9c9c9c9c9c9", "b8b8b8b8b8b8", "needs feat", depends_on=("feat",)),
    Rev("d0d0d0d0d0d0", "c9c9c9c9c9c9", "needs core by id", depends_on=("c3c3c3c3c3c3",)),
    Rev("1a1a1a1a1a1a", None, "third base"),
    Rev("2b2b2b2b2b2b", "1a1a1a1a1a1a", "lone line", branch_labels=("lone",)),
    Rev("3c3c3c3c3c3c", "2b2b2b2b2b2b", "lone line goes on"),
)


def rev_file(folder: Path, rev: Rev) -> Path:
    """Where write_project puts a revision's file."""
    return folder / "migrations" / "versions" / f"{rev.revision}_{rev.message.replace(' ', '_')}.py"


def make_project(folder: Path, revisions: Sequence[Rev] = LINEAR) -> Path:
    """A project on an SQLite file next to it."""
    return write_project(folder, url=sqlite_url(folder / "db.sqlite"), revisions=revisions)


def open_project(folder: Path) -> Project:
    """Project.open as `migtui` run in that folder does."""
    return Project.open(ProjectOptions(cwd=str(folder)))


def alembic_graph(folder: Path) -> RevisionGraph:
    """The graph built from Alembic's own ScriptDirectory (importing every file)."""
    project = open_project(folder)
    with captured():
        return read_graph(ScriptDirectory.from_config(project.config))


def write_revision(path: Path, revision: str, down: object, body: str = "", *,
                   message: str = "odd one", header: str | None = None) -> Path:
    """A revision file with free-form module code (``body``) after the header."""
    head = header if header is not None else (
        f"revision = {revision!r}\ndown_revision = {down!r}\n"
        "branch_labels = None\ndepends_on = None\n")
    path.write_text(
        f'"""{message}\n\nRevision ID: {revision}\nCreate Date: 2026-01-01 10:00:00\n"""\n'
        "from alembic import op\n\n" + head + textwrap.dedent(body)
        + "\n\ndef upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n"
    )
    return path


def same_stamp_rewrite(path: Path, text: str) -> None:
    """Replace a file's text keeping its size and mtime (a cache keyed by them misses it)."""
    st = path.stat()
    old = path.read_text()
    assert len(text.encode()) == len(old.encode()), "the new text must keep the size"
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def touch_later(path: Path) -> None:
    """Move a file's mtime forward (as an edit would)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
