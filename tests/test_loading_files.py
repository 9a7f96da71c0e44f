"""Which files are revisions and what their headers say, exactly as Alembic decides."""

from __future__ import annotations

import py_compile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from hypothesis import given
from hypothesis import strategies as st
from loading_helpers import CHAIN, alembic_graph, make_project, open_project, rev_file

from migtui.core.env.capture import captured
from migtui.core.revisions.files import revision_paths
from migtui.core.revisions.graph import _CREATE_DATE, date_from_doc
from migtui.core.revisions.headers import Header, NotPlain, read_header


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own on-disk header cache."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MIGTUI_CACHE_DIR", str(folder))
    yield folder


def _set_options(folder: Path, *lines: str) -> None:
    ini = folder / "alembic.ini"
    text = ini.read_text()
    anchor = "script_location = %(here)s/migrations\n"
    ini.write_text(text.replace(anchor, anchor + "".join(f"{line}\n" for line in lines)))


def _alembic_paths(folder: Path) -> list[str]:
    project = open_project(folder)
    with captured():
        return [s.path for s in ScriptDirectory.from_config(project.config)._load_revisions()]


def test_several_version_locations_recursive(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN[:2])
    nested = folder / "more" / "deeper" / "still"
    nested.mkdir(parents=True)
    (nested / "c3.py").write_text(CHAIN[2].source())
    (folder / "more" / "d4.py").write_text(CHAIN[3].source())
    (folder / "more" / "deeper" / "notes.txt").write_text("not a revision")
    _set_options(folder, "version_locations = %(here)s/migrations/versions:%(here)s/more",
                 "recursive_version_locations = true")
    project = open_project(folder)
    paths = [str(p) for p in revision_paths(project.script())]
    assert paths == _alembic_paths(folder) and len(paths) == 4
    assert project.graph() == alembic_graph(folder)
    assert project.graph().heads == ("d4d4d4d4d4d4",)


def test_sourceless_revisions(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN[:3])
    compiled = rev_file(folder, CHAIN[1])
    py_compile.compile(str(compiled), cfile=str(compiled.with_suffix(".pyc")))
    compiled.unlink()  # only b2's .pyc is left: Alembic loads it in sourceless mode
    _set_options(folder, "sourceless = true")
    project = open_project(folder)
    paths = [str(p) for p in revision_paths(project.script())]
    assert paths == _alembic_paths(folder) and any(p.endswith(".pyc") for p in paths)
    graph = project.graph()
    assert graph == alembic_graph(folder) and len(graph) == 3 and not graph.problems


@pytest.mark.filterwarnings("ignore:File .* loaded twice")
def test_a_symlinked_revision_is_loaded_once(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN[:2])
    target = rev_file(folder, CHAIN[1])
    (target.parent / "zz_link.py").symlink_to(target)
    paths = [str(p) for p in revision_paths(open_project(folder).script())]
    assert paths == _alembic_paths(folder) and len(paths) == 2


# -- the header reader ---------------------------------------------------------------

_PLAIN = '''"""add things

Revision ID: abc
"""
from typing import Sequence, Union

from alembic import op

revision: str = "abc"
down_revision: Union[str, Sequence[str], None] = ("x", "y")
branch_labels = ["one"]
depends_on = None


def upgrade() -> None:
    op.execute("select 1")
'''


def test_a_plain_header() -> None:
    header = read_header(_PLAIN.encode())
    assert header == Header("abc", ("x", "y"), ("one",), None,
                            "add things\n\nRevision ID: abc\n")


@pytest.mark.parametrize("tail", [
    "revision = 'other'\n",  # bound twice
    "if True:\n    down_revision = None\n",  # bound again in a block
    "from somewhere import *\n",  # could bind anything
    "globals()['revision'] = 'x'\n",  # dynamic binding
    "def upgrade():\n    global revision\n    revision = 'x'\n",
    "import revision\n",
    "for revision in []:\n    pass\n",
    "__doc__ = 'changed'\n",
])
def test_anything_that_could_rebind_a_header_is_not_plain(tail: str) -> None:
    with pytest.raises(NotPlain):
        read_header((_PLAIN + tail).encode())


@pytest.mark.parametrize("header", [
    "revision = 'a' + 'b'\ndown_revision = None\n",  # computed
    "revision = 12\ndown_revision = None\n",  # not a string
    "down_revision = None\n",  # no revision: Alembic falls back to the file name
    "revision = 'abc'\n",  # no down_revision
    "revision: str\nrevision = 'abc'\ndown_revision = None\n",  # unusual: left to Alembic
])
def test_headers_that_need_importing(header: str) -> None:
    source = f'"""doc"""\n{header}\ndef upgrade():\n    pass\n'.encode()
    with pytest.raises(NotPlain):
        read_header(source)


def test_a_syntax_error_in_the_header_is_a_syntax_error() -> None:
    with pytest.raises(SyntaxError) as caught:
        read_header(b'"""doc"""\nrevision = (\ndown_revision = None\n')
    assert caught.value.lineno == 2


@given(st.lists(st.sampled_from(["Create Date:", "\n", " ", "x", "Create", "\r", "Date: 1",
                                 "\t", "\u2028", "\x0b", "\xa0", "\u3000"])).map("".join))
def test_the_create_date_is_read_as_the_pattern_reads_it(doc: str) -> None:
    match = _CREATE_DATE.search(doc)
    assert date_from_doc(doc) == (match.group(1) if match else None)
