"""Tests for the revision-graph lane layout."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from migtui.core.revisions.layout import LaneRow, layout

Nodes = list[tuple[str, list[str]]]

# Which glyphs have a line going up / down out of their cell ("●" is checked separately).
_UP = set("│┤├┼┴╯╰")
_DOWN = set("│┤├┼┬╮╭")
_ALLOWED = set(" ●─") | _UP | _DOWN


def _glyphs(nodes: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    return [row.glyphs for row in layout(nodes)]


def test_empty() -> None:
    assert layout([]) == []


def test_linear_chain() -> None:
    nodes: Nodes = [("c", ["b"]), ("b", ["a"]), ("a", [])]
    assert layout(nodes) == [LaneRow(0, "●"), LaneRow(0, "●"), LaneRow(0, "●")]


def test_branch_point_and_merge() -> None:
    nodes: Nodes = [
        ("merge", ["a", "b"]),
        ("a", ["bp"]),
        ("b", ["bp"]),
        ("bp", ["base"]),
        ("base", []),
    ]
    rows = layout(nodes)
    assert [row.glyphs for row in rows] == ["●─╮", "● │", "│ ●", "●─╯", "●"]
    assert [row.lane for row in rows] == [0, 0, 1, 0, 0]


def test_two_unmerged_heads_share_a_base() -> None:
    nodes: Nodes = [("h1", ["base"]), ("h2", ["base"]), ("base", [])]
    rows = layout(nodes)
    assert [row.glyphs for row in rows] == ["●", "│ ●", "●─╯"]
    assert [row.lane for row in rows] == [0, 1, 0]


def test_unknown_parent_gets_no_lane() -> None:
    nodes: Nodes = [("a", ["missing"]), ("m", ["b", "nope"]), ("b", [])]
    rows = layout(nodes)
    assert [row.glyphs for row in rows] == ["●", "●", "●"]
    assert [row.lane for row in rows] == [0, 0, 0]


def test_unknown_parent_next_to_a_live_lane() -> None:
    nodes: Nodes = [("h", ["base"]), ("x", ["ghost"]), ("base", [])]
    assert _glyphs(nodes) == ["●", "│ ●", "●"]


def test_three_way_merge_and_three_way_branch() -> None:
    nodes: Nodes = [
        ("m", ["x", "y", "z"]),
        ("x", ["b"]),
        ("y", ["b"]),
        ("z", ["b"]),
        ("b", []),
    ]
    assert _glyphs(nodes) == ["●─┬─╮", "● │ │", "│ ● │", "│ │ ●", "●─┴─╯"]


def test_merge_joins_a_lane_already_waiting_for_its_parent() -> None:
    nodes: Nodes = [
        ("h", ["m"]),
        ("k", ["y"]),
        ("m", ["x", "y"]),
        ("x", ["b"]),
        ("y", ["b"]),
        ("b", []),
    ]
    assert _glyphs(nodes) == ["●", "│ ●", "●─┤", "● │", "│ ●", "●─╯"]


def test_extra_parent_opens_to_the_left_of_the_node() -> None:
    # "x" ends lane 0; on the next row the merge "m" (lane 1) reuses lane 0 for its parent "z".
    nodes: Nodes = [
        ("h1", ["x"]),
        ("h2", ["m"]),
        ("x", []),
        ("m", ["y", "z"]),
        ("y", []),
        ("z", []),
    ]
    rows = layout(nodes)
    assert [row.glyphs for row in rows] == ["●", "│ ●", "● │", "╭─●", "│ ●", "●"]
    assert [row.lane for row in rows] == [0, 1, 0, 1, 1, 0]


def test_lanes_keep_their_column_until_they_end() -> None:
    nodes: Nodes = [("h", ["p"]), ("m", ["p", "q"]), ("p", []), ("q", [])]
    assert _glyphs(nodes) == ["●", "│ ●─╮", "●─╯ │", "    ●"]


def test_merge_crosses_a_passing_lane() -> None:
    nodes: Nodes = [
        ("h", ["base"]),
        ("k", ["base"]),
        ("m", ["a", "b"]),
        ("a", ["base"]),
        ("b", ["base"]),
        ("base", []),
    ]
    rows = layout(nodes)
    assert [row.glyphs for row in rows] == ["●", "│ ●", "│ │ ●─╮", "│ │ ● │", "│ │ │ ●", "●─┴─┴─╯"]


def test_freed_lanes_are_reused() -> None:
    # A long chain with a branch + merge every 10 revisions never needs more than 2 lanes.
    oldest_first: Nodes = [("r0", [])]
    for i in range(1, 200):
        parents = [f"r{i - 1}"]
        if i % 10 == 5:
            oldest_first.append((f"s{i}", [f"r{i - 1}"]))
        if i % 10 == 8:
            parents.append(f"s{i - 3}")
        oldest_first.append((f"r{i}", parents))
    rows = layout(oldest_first[::-1])
    assert len(rows) == len(oldest_first)
    assert max(row.lane for row in rows) == 1
    assert max(len(row.glyphs) for row in rows) == 3


def test_duplicates_self_loops_cycles_and_bad_order() -> None:
    nodes: Nodes = [
        ("a", ["a", "b", "b"]),
        ("b", ["a"]),
        ("a", ["c"]),
        ("c", []),
        ("d", ["c"]),
    ]
    rows = layout(nodes)
    assert len(rows) == len(nodes)
    assert [row.glyphs for row in rows] == ["●", "●", "●", "●", "●"]


def _check_rows(nodes: Sequence[tuple[str, Sequence[str]]], rows: list[LaneRow]) -> None:
    assert len(rows) == len(nodes)
    for row in rows:
        assert row.lane >= 0
        assert row.glyphs.count("●") == 1
        assert row.glyphs[2 * row.lane] == "●"
        assert row.glyphs == row.glyphs.rstrip()
        assert set(row.glyphs) <= _ALLOWED
    # Vertical lines are continuous: a line leaving a cell downwards enters the cell below.
    for upper, lower in pairwise(rows):
        width = max(len(upper.glyphs), len(lower.glyphs))
        top = upper.glyphs.ljust(width)
        bottom = lower.glyphs.ljust(width)
        for col in range(0, width, 2):
            if top[col] != "●" and bottom[col] != "●":
                assert (top[col] in _DOWN) == (bottom[col] in _UP), (col, top, bottom)


_ids = st.sampled_from([f"r{i}" for i in range(12)])


@st.composite
def _broken_graphs(draw: st.DrawFn) -> Nodes:
    """Arbitrary (revision, parents) lists: unknown ids, duplicates, cycles, any order."""
    return draw(
        st.lists(st.tuples(_ids, st.lists(_ids | st.text(max_size=3), max_size=4)), max_size=30)
    )


@st.composite
def _dags(draw: st.DrawFn) -> Nodes:
    """Valid DAGs newest first, then optionally broken: unknown parents, shuffled, duplicated."""
    count = draw(st.integers(min_value=0, max_value=40))
    oldest_first: Nodes = []
    for i in range(count):
        parents = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        oldest_first.append((f"n{i}", [f"n{p}" for p in parents]))
    nodes = oldest_first[::-1]
    if draw(st.booleans()) and nodes:
        victim = draw(st.integers(0, len(nodes) - 1))
        nodes[victim] = (nodes[victim][0], [*nodes[victim][1], "unknown"])
    if draw(st.booleans()) and nodes:
        nodes.insert(draw(st.integers(0, len(nodes))), draw(st.sampled_from(nodes)))
    if draw(st.booleans()):
        nodes = draw(st.permutations(nodes))
    return nodes


@settings(max_examples=300, deadline=None)
@given(_broken_graphs())
def test_property_arbitrary_input(nodes: Nodes) -> None:
    _check_rows(nodes, layout(nodes))


@settings(max_examples=300, deadline=None)
@given(_dags())
def test_property_dags(nodes: Nodes) -> None:
    _check_rows(nodes, layout(nodes))
