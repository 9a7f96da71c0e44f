"""The revision files listed and stated by a child forked at launch (issue 15): the same
listing as the app's own, used for the first frame's graph only if it is of the same
locations, and the child never left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from loading_helpers import CHAIN, make_project, open_project, rev_file, write_revision

from migtui.core.revisions.files import Locations, revision_files
from migtui.core.revisions.listing_ahead import ListingAhead

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")


def _locations(folder: Path) -> Locations:
    return Locations.of(open_project(folder).script())


def _gone(pid: int) -> bool:
    """The child was reaped (it is not a zombie of this process any more)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_child_lists_what_the_app_would(tmp_path: Path) -> None:
    where = _locations(make_project(tmp_path / "p", CHAIN))
    ahead = ListingAhead.start(where)
    assert ahead is not None
    listing = ahead.take(where)
    assert listing == revision_files(where) and len(listing) == len(CHAIN)
    assert _gone(ahead.pid)


def test_a_listing_of_other_locations_is_not_used(tmp_path: Path) -> None:
    where = _locations(make_project(tmp_path / "p", CHAIN))
    other = _locations(make_project(tmp_path / "q", CHAIN[:2]))
    ahead = ListingAhead.start(where)
    assert ahead is not None
    assert ahead.take(other) is None
    assert _gone(ahead.pid)


def test_the_first_frame_from_the_listing_ahead(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    built = open_project(folder).graph()
    project = open_project(folder)
    project.list_ahead()
    assert project.graph_at_hand() == built  # the last start's graph, for the same files


def test_a_file_edited_since_the_last_start_is_in_the_first_frame(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", CHAIN)
    open_project(folder).graph()
    head = CHAIN[-1]
    write_revision(rev_file(folder, head), head.revision, head.down,
                   message="renamed after the last start")
    project = open_project(folder)
    project.list_ahead()
    preview = project.graph_at_hand()
    assert preview is not None
    assert preview.get(head.revision).message == "renamed after the last start"
