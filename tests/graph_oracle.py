"""The test oracle: the revision graph read through Alembic's own ScriptDirectory.

Production builds its graph from headers (``migtui.core.revisions.graph``); tests compare
that with this one, built from the Script objects Alembic imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from alembic.script import Script, ScriptDirectory

from migtui.core.models import Revision, RevisionGraph, ScriptProblem
from migtui.core.revisions.graph import date_from_doc
from migtui.core.revisions.order import newest_first


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
    return date_from_doc(getattr(script.module, "__doc__", None))


def build_graph(
    scripts: Iterable[Script], heads: Iterable[str], bases: Iterable[str],
    problems: Sequence[ScriptProblem] = (),
    order: Sequence[str] | None = None,
) -> RevisionGraph:
    """Turn Alembic Script objects into our frozen RevisionGraph, newest first (in
    ``order`` when given: the order of ``alembic history``)."""
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
    if order is None:
        order = newest_first({r: parents[r] + deps[r] for r in by_id})
    for rev in order:
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
    # The order `alembic history` lists them in (RevisionMap._topological_sort).
    order = [sc.revision for sc in script.walk_revisions()]
    return build_graph(unique, revmap.heads, revmap.bases, order=order)
