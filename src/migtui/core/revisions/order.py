"""The order of ``alembic history``: each branch's revisions kept together.

Alembic lists revisions with ``RevisionMap._topological_sort``: it walks down from the
heads (in the order the files were loaded), one line of history at a time, and leaves a
line for another only where a revision is still needed by a revision of another line
(an ancestor through ``down_revision`` or ``depends_on``). Alembic finds that out with
one ancestor set per line, which costs time and memory quadratic in the history; this
module gives the same order by counting, for each revision, the children not yet listed,
and by looking up from a revision only when it is held back (at branch points and
dependencies), so the cost stays about linear in the number of revisions.

Where the history is broken (cycles) or looking up would cost too much, ``history_order``
returns None and the caller falls back to a plain topological order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["history_order"]


def _normalized_deps(
    down: Mapping[str, Sequence[str]], deps: Mapping[str, Sequence[str]], budget: list[int]
) -> dict[str, tuple[str, ...]]:
    """Alembic's ``_normalized_resolved_dependencies``: a revision's dependencies minus
    those that a revision below it (through down_revision) already depends on.

    Only a dependency shared by several revisions can be dropped, so only those are
    looked up (a walk down from the revision, charged to ``budget``).
    """
    dependents: dict[str, list[str]] = {}
    for rev, ds in deps.items():
        for d in ds:
            dependents.setdefault(d, []).append(rev)
    out: dict[str, tuple[str, ...]] = {}
    for rev, ds in deps.items():
        if not ds:
            continue
        kept = []
        for d in ds:
            others = {x for x in dependents.get(d, ()) if x != rev}
            if not others or not _below(rev, others, down, budget):
                kept.append(d)
        out[rev] = tuple(kept)
    return out


def _below(rev: str, targets: set[str], down: Mapping[str, Sequence[str]],
           budget: list[int]) -> bool:
    """Whether one of ``targets`` lies below ``rev`` through down_revision."""
    seen = {rev}
    todo = list(down.get(rev, ()))
    while todo:
        budget[0] -= 1
        r = todo.pop()
        if r in targets:
            return True
        if r in seen or r not in down:
            continue
        seen.add(r)
        todo.extend(down[r])
    return False


def history_order(
    load_order: Sequence[str],
    down: Mapping[str, Sequence[str]],
    deps: Mapping[str, Sequence[str]],
) -> list[str] | None:
    """Revision ids newest first, in the order ``alembic history`` lists them.

    ``load_order`` is every revision id in the order Alembic loaded the files; ``down``
    and ``deps`` give each revision's down_revisions and resolved depends_on (ids that
    no file defines are ignored). None when the history has a cycle or the walk would
    cost much more than linear time.
    """
    known = set(load_order)
    budget = [50 * len(load_order) + 10_000]
    normalized = _normalized_deps(down, deps, budget)
    parents: dict[str, tuple[str, ...]] = {}  # Alembic's _normalized_down_revisions
    ups: dict[str, tuple[str, ...]] = {}  # every parent, through down_revision or depends_on
    all_next: dict[str, list[str]] = {rev: [] for rev in load_order}
    no_deps: tuple[str, ...] = ()
    for rev in load_order:
        ds = tuple(down.get(rev, ()))
        rev_deps = deps.get(rev, no_deps)
        if len(ds) == 1 and not rev_deps:  # the usual case, made cheap
            if ds[0] in known and ds[0] != rev:
                all_next[ds[0]].append(rev)
                parents[rev] = ups[rev] = ds
            else:
                parents[rev] = ups[rev] = ()
            continue
        ds = tuple(p for p in dict.fromkeys(ds) if p in known and p != rev)
        extra = tuple(p for p in normalized.get(rev, ()) if p in known and p != rev)
        parents[rev] = tuple(dict.fromkeys(ds + extra))
        ups[rev] = tuple(p for p in dict.fromkeys(ds + tuple(rev_deps)) if p in known and p != rev)
        for p in ups[rev]:
            all_next[p].append(rev)
    waiting = {rev: len(children) for rev, children in all_next.items()}

    # Alembic starts from the real heads: no child through down_revision or depends_on.
    current = [rev for rev in load_order if not waiting[rev]]
    in_current = set(current)
    emitted: set[str] = set()
    above: dict[str, set[str]] = {}
    output: list[str] = []
    idx = 0
    while current:
        candidate = current[idx]
        if waiting[candidate]:
            # Held back: go to the first line that still needs it.
            j = _first_line_needing(candidate, idx, current, all_next, emitted, above, budget)
            if j is None or budget[0] < 0:
                return None  # a cycle (nothing above is ever listed first), or too costly
            idx = j
            continue
        output.append(candidate)
        emitted.add(candidate)
        in_current.discard(candidate)
        for p in ups[candidate]:
            waiting[p] -= 1
        mine = parents[candidate]
        if len(mine) == 1 and mine[0] not in in_current and mine[0] not in emitted:  # a line
            current[idx] = mine[0]
            in_current.add(mine[0])
            continue
        to_add = [p for p in mine if p not in emitted and p not in in_current]
        if not to_add:
            del current[idx]
            idx = max(idx - 1, 0)
        else:
            current[idx] = to_add[0]
            current.extend(to_add[1:])
            in_current.update(to_add)
    if len(output) != len(load_order):
        return None
    return output


def _first_line_needing(
    candidate: str, idx: int, current: list[str], all_next: Mapping[str, list[str]],
    emitted: set[str], above: dict[str, set[str]], budget: list[int],
) -> int | None:
    """The index of the first current line (other than ``idx``) that reaches down to
    ``candidate``.

    The revisions above ``candidate`` not yet listed are found once (a walk up through
    the children) and kept in ``above``: a line's revision is never listed before it
    is current, so the set stays right for every later question about ``candidate``.
    """
    found = above.get(candidate)
    if found is None:
        found = set()
        todo = [c for c in all_next[candidate] if c not in emitted]
        while todo:
            budget[0] -= 1
            rev = todo.pop()
            if rev in found:
                continue
            found.add(rev)
            todo.extend(c for c in all_next[rev] if c not in emitted and c not in found)
        above[candidate] = found
    for j, rev in enumerate(current):
        if rev in found and j != idx:
            budget[0] -= j
            return j
    return None


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
