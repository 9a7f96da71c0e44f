"""The revision graph as plain data, read from Alembic's ScriptDirectory."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from alembic.script import Script, ScriptDirectory

from migtui.core.models import Revision, RevisionGraph, ScriptProblem

_CREATE_DATE = re.compile(r"^Create Date:\s*(.+?)\s*$", re.MULTILINE)


def _as_tuple(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(str(v) for v in value)
    return (str(value),)


def create_date(script: Script) -> str | None:
    """The ``Create Date:`` line of the revision file's docstring, if it has one."""
    doc = getattr(script.module, "__doc__", None) or ""
    match = _CREATE_DATE.search(doc)
    return match.group(1) if match else None


def newest_first(parents: Mapping[str, Sequence[str]]) -> list[str]:
    """A topological order, children before parents, in time linear in the graph.

    Heads come first; each line of history is kept together where possible (a
    depth-first Kahn walk). Revisions caught in a cycle are appended at the end so
    that every revision appears exactly once.
    """
    children_left: dict[str, int] = dict.fromkeys(parents, 0)
    for rev, ps in parents.items():
        for p in ps if len(ps) < 2 else set(ps):  # (no set() for the usual single parent)
            if p in children_left and p != rev:
                children_left[p] += 1
    stack = sorted((r for r, n in children_left.items() if n == 0), reverse=True)
    order: list[str] = []
    seen: set[str] = set()
    while stack:
        rev = stack.pop()
        if rev in seen:
            continue
        seen.add(rev)
        order.append(rev)
        ps = parents[rev]
        for p in ps if len(ps) < 2 else reversed(list(dict.fromkeys(ps))):
            if p in children_left and p != rev:
                children_left[p] -= 1
                if children_left[p] == 0:
                    stack.append(p)
    if len(order) < len(parents):
        order.extend(r for r in parents if r not in seen)
    return order


def build_graph(
    scripts: Iterable[Script], heads: Iterable[str], bases: Iterable[str],
    problems: Sequence[ScriptProblem] = (),
) -> RevisionGraph:
    """Turn Alembic Script objects into our frozen RevisionGraph, newest first."""
    by_id: dict[str, Script] = {}
    for sc in scripts:
        by_id[sc.revision] = sc
    parents = {rev: _as_tuple(sc.down_revision) for rev, sc in by_id.items()}
    children: dict[str, list[str]] = {rev: [] for rev in by_id}
    for rev, ps in parents.items():
        for p in ps:
            if p in children:
                children[p].append(rev)
    deps = {
        rev: _as_tuple(getattr(sc, "_resolved_dependencies", None) or sc.dependencies)
        for rev, sc in by_id.items()
    }
    head_set, base_set = set(heads), set(bases)
    revisions = []
    # depends_on orders too: a revision comes before (is newer than) what it depends on.
    for rev in newest_first({r: parents[r] + deps[r] for r in by_id}):
        sc = by_id[rev]
        revisions.append(
            Revision(
                revision=rev,
                down_revisions=parents[rev],
                children=tuple(sorted(children[rev])),
                dependencies=deps[rev],
                branch_labels=tuple(sorted(sc.branch_labels or ())),
                message=(sc.doc or "").strip(),
                date=create_date(sc),
                path=sc.path,
                is_head=rev in head_set,
                is_base=rev in base_set,
            )
        )
    return RevisionGraph(
        revisions=tuple(revisions),
        heads=tuple(h for h in (r.revision for r in revisions) if h in head_set),
        bases=tuple(sorted(base_set)),
        problems=tuple(problems),
    )


def read_graph(script: ScriptDirectory) -> RevisionGraph:
    """Load every revision of a script directory (imports each file once)."""
    revmap = script.revision_map
    all_scripts = [
        sc for sc in revmap._revision_map.values()  # no public "all revisions" accessor
        if isinstance(sc, Script)
    ]
    # Each revision is registered under its id and its branch labels: keep it once.
    unique = list({id(sc): sc for sc in all_scripts}.values())
    return build_graph(unique, revmap.heads, revmap.bases)
