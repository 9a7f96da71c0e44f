"""The graph lists revisions in the order of `alembic history` (issue #20, case 7).

Alembic's order is ``ScriptDirectory.walk_revisions()`` (``RevisionMap._topological_sort``):
each branch's revisions together, a branch left only where another still needs what
comes next. The production graph is built from headers; here it is compared with
Alembic's own walk on generated branched projects.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from loading_helpers import open_project
from projects import Rev, sqlite_url, write_project

from migtui.core.env.capture import captured
from migtui.core.revisions.order import history_order, newest_first
from projectkit.genproject import generate_project
from tests.real_projects import expand_contract


def _orders(folder: Path) -> tuple[list[str], list[str]]:
    """(Alembic's `alembic history` order, the order migtui's graph shows)."""
    project = open_project(folder)
    with captured():
        alembic_order = [
            sc.revision for sc in ScriptDirectory.from_config(project.config).walk_revisions()]
    return alembic_order, [r.revision for r in project.graph().revisions]


@pytest.mark.parametrize("every_depends", [1, 3])
def test_expand_contract_keeps_each_branch_together(tmp_path: Path, every_depends: int) -> None:
    revs = expand_contract(15, every_depends=every_depends)
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"),
                           revisions=revs)
    alembic_order, ours = _orders(folder)
    assert ours == alembic_order
    # Not interleaved: the contract chain, then the expand chain, then the base.
    kinds = "".join(rev[0] for rev in ours)
    assert kinds == "c" * 15 + "e" * 15 + "a"


def test_300_revisions_with_merges_and_two_branch_points(tmp_path: Path) -> None:
    generate_project(tmp_path / "p", 300, branch_every=120,
                     url=sqlite_url(tmp_path / "db.sqlite"))
    alembic_order, ours = _orders(tmp_path / "p")
    assert len(ours) == 300
    assert ours == alembic_order


def test_two_heads_left_unmerged(tmp_path: Path) -> None:
    generate_project(tmp_path / "p", 120, branch_every=40, heads=2,
                     url=sqlite_url(tmp_path / "db.sqlite"))
    alembic_order, ours = _orders(tmp_path / "p")
    assert ours == alembic_order


def test_dependencies_across_lines_and_several_bases(tmp_path: Path) -> None:
    # A second base whose line depends on the first line, a merge, a shared dependency.
    revs = [
        Rev("a1", None, "base one"), Rev("a2", "a1", ""), Rev("a3", "a2", ""),
        Rev("b1", None, "base two", branch_labels=("two",)),
        Rev("b2", "b1", "", depends_on=("a2",)), Rev("b3", "b2", "", depends_on=("a2",)),
        Rev("c1", "a1", "side"), Rev("m1", ("a3", "c1"), "merge"),
        Rev("b4", "b3", "", depends_on=("m1",)),
    ]
    folder = write_project(tmp_path / "p", url=sqlite_url(tmp_path / "db.sqlite"),
                           revisions=revs)
    alembic_order, ours = _orders(folder)
    assert ours == alembic_order


def test_long_expand_contract_stays_cheap() -> None:
    # 20,001 revisions where every contract revision depends on an expand one: Alembic's
    # own walk would take quadratic time here; ours still gives its order.
    n = 10_000
    load = ["a"]
    down: dict[str, tuple[str, ...]] = {"a": ()}
    deps: dict[str, tuple[str, ...]] = {}
    for i in range(n):
        for kind in "ec":
            rev = f"{kind}{i}"
            load.append(rev)
            down[rev] = (f"{kind}{i - 1}",) if i else ("a",)
        deps[f"c{i}"] = (f"e{i}",)
    order = history_order(load, down, deps)
    assert order == [f"c{i}" for i in reversed(range(n))] + [
        f"e{i}" for i in reversed(range(n))] + ["a"]


def test_a_cycle_falls_back_to_a_plain_order() -> None:
    down = {"a": ("b",), "b": ("a",), "c": ()}
    assert history_order(["a", "b", "c"], down, {}) is None
    assert sorted(newest_first(down)) == ["a", "b", "c"]
