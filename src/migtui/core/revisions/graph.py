"""Build the RevisionGraph from revision headers, tolerating broken histories.

The result is what Alembic gives for the same files loaded through its ``RevisionMap``
(``tests/graph_oracle.py`` checks it: heads, bases, children, branch points, merge
points, branch labels spread the way Alembic spreads them, ``depends_on`` resolved to
revision ids, the same newest-first order), in time linear in the number of revisions.

Where Alembic would refuse the whole history (a file that cannot be read, a
``down_revision`` naming a missing revision, a cycle, a branch label used twice, a bad
revision id) this builder keeps every other revision and records one
:class:`ScriptProblem` per defect. Two files with the same revision id: the one Alembic
keeps (the last loaded) is shown, and a problem names both files.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from migtui.core.models import Revision, RevisionGraph, ScriptProblem
from migtui.core.revisions.headers import Header
from migtui.core.revisions.order import history_order, newest_first

_CREATE_DATE = re.compile(r"^Create Date:\s*(.+?)\s*$", re.MULTILINE)
_ILLEGAL = ("@", "-", "+", ":")  # alembic.script.revision._revision_illegal_chars
_MAX_CYCLE_MESSAGES = 20


class HeaderSource(Protocol):
    """One revision file as read: its path, its header (None if broken), its problem."""

    @property
    def path(self) -> str: ...

    @property
    def header(self) -> Header | None: ...

    @property
    def problem(self) -> ScriptProblem | None: ...


class _Node:
    __slots__ = ("all_next", "deps", "down", "header", "next", "path")

    def __init__(self, path: str, header: Header, down: tuple[str, ...]) -> None:
        self.path = path
        self.header = header
        self.down = down
        self.deps: tuple[str, ...] = ()  # resolved to revision ids
        self.next: list[str] = []  # children through down_revision
        self.all_next: list[str] = []  # ... and through depends_on


def _to_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _name(path: str) -> str:
    return os.path.basename(path)


def date_from_doc(doc: str | None) -> str | None:
    """The ``Create Date:`` line of a revision docstring (``_CREATE_DATE.search``, but
    trying the pattern only where a line starts with ``Create Date:``)."""
    if not doc:
        return None
    start = 0 if doc.startswith("Create Date:") else doc.find("\nCreate Date:") + 1
    if start == 0 and not doc.startswith("Create Date:"):
        return None
    while True:
        # The usual case without the regex: a value on the same line (the pattern's \s*
        # and .+? then take exactly that line's text, stripped).
        end = doc.find("\n", start)
        value = doc[start + 12:end if end >= 0 else len(doc)].strip()
        if value:
            return value
        match = _CREATE_DATE.match(doc, start)
        if match:
            return match.group(1)
        start = doc.find("\nCreate Date:", start) + 1
        if start == 0:
            return None


def new_revision(values: dict[str, object]) -> Revision:
    """``Revision(**values)`` without the cost of a frozen dataclass's __init__ (which
    sets each field through object.__setattr__): ~5x faster for 100,000 revisions."""
    if _PLAIN_REVISION:
        rev = object.__new__(Revision)
        rev.__dict__.update(_REVISION_DEFAULTS)
        rev.__dict__.update(values)
        return rev
    return Revision(**values)  # type: ignore[arg-type]


_REVISION_DEFAULTS = {
    f.name: f.default for f in dataclasses.fields(Revision) if f.default is not dataclasses.MISSING
}
# Only a plain dataclass (no __slots__, no __post_init__, every default a value) is safe.
_PLAIN_REVISION = (
    not hasattr(Revision, "__slots__") and not hasattr(Revision, "__post_init__")
    and all(f.default is not dataclasses.MISSING or f.default_factory is dataclasses.MISSING
            for f in dataclasses.fields(Revision))
)


_TEMPLATE_LINES = ("Revision ID:", "Revises:", "Create Date:")


def message_from_doc(doc: str | None) -> str:
    """Alembic's ``Script.doc``: the docstring's first paragraph; empty when that is only
    the template's own lines (``Revision ID: …``, a revision written without a message)."""
    first = (doc or "").strip().split("\n\n")[0].strip()
    if all(line.strip().startswith(_TEMPLATE_LINES) for line in first.splitlines()):
        return ""
    return first


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Building ~10 objects per revision makes the cyclic GC run over and over for
    nothing (nothing here forms a cycle): pause it for the build."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_graph(sources: Iterable[HeaderSource]) -> RevisionGraph:
    """The RevisionGraph of these files (in Alembic's load order), with every problem."""
    with _gc_paused():
        return _build(sources)


def _build(sources: Iterable[HeaderSource]) -> RevisionGraph:
    problems: list[ScriptProblem] = []
    nodes: dict[str, _Node] = {}
    for src in sources:
        if src.problem is not None:
            problems.append(src.problem)
        if src.header is None:
            continue
        node = _node(src.path, src.header, problems)
        if node is None:
            continue
        rev = src.header.revision
        if rev in nodes:
            problems.append(ScriptProblem(
                f"Revision {rev} is defined twice: {_name(nodes[rev].path)} and "
                f"{_name(src.path)} (Alembic uses {_name(src.path)})",
                path=src.path, details=f"{nodes[rev].path}\n{src.path}", kind="graph"))
        nodes[rev] = node  # like Alembic's map: the last one wins, in the first one's place

    labels = _branch_label_map(nodes, problems)
    _resolve(nodes, labels, problems)
    spread = _spread_labels(nodes)
    # depends_on orders too: a revision comes before (is newer than) what it depends on.
    # Each branch kept together, as `alembic history` lists them (a plain topological
    # order where the history has a cycle).
    order = history_order(
        list(nodes), {rev: n.down for rev, n in nodes.items()},
        {rev: n.deps for rev, n in nodes.items() if n.deps},
    ) or newest_first({rev: n.down + n.deps for rev, n in nodes.items()})
    if not _is_topological(order, nodes):
        _find_cycles(nodes, problems)

    revisions = []
    for rev in order:
        n = nodes[rev]
        doc = n.header.doc
        spread_labels = spread.get(rev)
        revisions.append(new_revision(dict(
            revision=rev,
            down_revisions=n.down,
            children=tuple(sorted(set(n.next))) if len(n.next) > 1 else tuple(n.next),
            dependencies=n.deps,
            branch_labels=tuple(sorted(spread_labels)) if spread_labels else (),
            message=message_from_doc(doc) if doc else "",
            date=date_from_doc(doc) if doc and "Create Date:" in doc else None,
            path=n.path,
            is_head=not n.next,
            is_base=not n.down,
        )))
    return RevisionGraph(
        revisions=tuple(revisions),
        heads=tuple(r.revision for r in revisions if r.is_head),
        bases=tuple(sorted(r.revision for r in revisions if r.is_base)),
        problems=tuple(problems),
    )


def _node(path: str, header: Header, problems: list[ScriptProblem]) -> _Node | None:
    """The node of a header, or None (and a problem) where Alembic's Revision would raise."""
    rev = header.revision
    value = header.down_revision
    down = () if value is None else (value,) if isinstance(value, str) else tuple(value)
    error = ""
    if not rev.strip():
        error = "the revision id is empty"
    elif "@" in rev or "-" in rev or "+" in rev or ":" in rev:  # _ILLEGAL
        bad = ", ".join(c for c in _ILLEGAL if c in rev)
        error = f"character(s) {bad} not allowed in revision id {rev!r}"
    elif rev in down:
        error = f"revision {rev} names itself as its down_revision"
    elif header.depends_on is not None and rev in _to_tuple(header.depends_on):
        error = f"revision {rev} depends on itself"
    if error:
        problems.append(ScriptProblem(f"{_name(path)}: {error}", path=path, details=path))
        return None
    return _Node(path, header, down)


def _is_topological(order: list[str], nodes: dict[str, _Node]) -> bool:
    """Whether every revision comes before all its parents (no cycle got in the way)."""
    position = {rev: i for i, rev in enumerate(order)}
    for rev, n in nodes.items():
        mine = position[rev]
        for parent in n.down:
            if position.get(parent, mine + 1) <= mine:
                return False
        for parent in n.deps:
            if position[parent] <= mine:
                return False
    return True


def _branch_label_map(nodes: dict[str, _Node], problems: list[ScriptProblem]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for rev, n in nodes.items():
        for label in _to_tuple(n.header.branch_labels):
            used = label if label in nodes else labels.get(label)
            if used is not None:
                problems.append(ScriptProblem(
                    f"Branch name {label!r} in revision {rev} ({_name(n.path)}) is already "
                    f"used by revision {used}", path=n.path, details=n.path, kind="graph"))
            else:
                labels[label] = rev
    return labels


def _resolve(nodes: dict[str, _Node], labels: dict[str, str],
             problems: list[ScriptProblem]) -> None:
    """Resolve depends_on to ids, link children, report names no file defines."""
    for rev, n in nodes.items():
        if n.header.depends_on is None:
            continue  # n.deps stays ()
        deps = []
        for dep in _to_tuple(n.header.depends_on):
            target = dep if dep in nodes else labels.get(dep)
            if target is None:
                problems.append(ScriptProblem(
                    f"Revision {rev} ({_name(n.path)}) depends on {dep!r}, which no readable "
                    "file defines", path=n.path, details=n.path, kind="graph"))
            else:
                deps.append(target)
        n.deps = tuple(deps)
    for rev, n in nodes.items():
        for down in n.down:
            if down not in nodes:
                problems.append(ScriptProblem(
                    f"{rev} names a parent {down} that no readable file defines (file "
                    f"{_name(n.path)})", path=n.path, details=n.path, kind="graph"))
        if len(n.down) == 1 and not n.deps:  # the common case, made cheap
            parent_node = nodes.get(n.down[0])
            if parent_node is not None:
                parent_node.all_next.append(rev)
                parent_node.next.append(rev)
            continue
        for parent in _dedupe(n.down + n.deps):
            if parent in nodes:
                nodes[parent].all_next.append(rev)
                if parent in n.down:
                    nodes[parent].next.append(rev)


def _find_cycles(nodes: dict[str, _Node], problems: list[ScriptProblem]) -> None:
    """One problem per cycle through down_revision / depends_on (iterative DFS)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    found = 0
    for start in nodes:
        if start in state:
            continue
        path: list[str] = [start]
        state[start] = 1
        stack = [iter(_dedupe(nodes[start].down + nodes[start].deps))]
        while stack:
            advanced = False
            for parent in stack[-1]:
                if parent not in nodes:
                    continue
                if state.get(parent) == 1:
                    found += 1
                    if found <= _MAX_CYCLE_MESSAGES:
                        loop = [*path[path.index(parent):], parent]
                        problems.append(ScriptProblem(
                            "Revisions form a cycle: " + " → ".join(loop),
                            path=nodes[parent].path,
                            details="\n".join(f"{r}  {nodes[r].path}" for r in loop[:-1]),
                            kind="graph"))
                    continue
                if parent not in state:
                    state[parent] = 1
                    path.append(parent)
                    stack.append(iter(_dedupe(nodes[parent].down + nodes[parent].deps)))
                    advanced = True
                    break
            if not advanced:
                stack.pop()
                state[path.pop()] = 2
    if found > _MAX_CYCLE_MESSAGES:
        problems.append(ScriptProblem(
            f"… and {found - _MAX_CYCLE_MESSAGES} more cycles", kind="graph"))


def _spread_labels(nodes: dict[str, _Node]) -> dict[str, set[str]]:
    """Branch labels as Alembic's RevisionMap spreads them (``_add_branches``).

    A label covers its revision's descendants and, when those form a single line, the
    revisions below it down to the nearest branch point or merge point.
    """
    regions: list[tuple[str, list[str]]] = []
    spread: dict[str, set[str]] = {}
    for rev, n in nodes.items():
        if n.header.branch_labels is not None and _to_tuple(n.header.branch_labels):
            regions.append((rev, _label_region(nodes, rev)))
            spread[rev] = set(_to_tuple(n.header.branch_labels))
    for _rev, region in regions:
        for other in region:
            spread.setdefault(other, set())
    changed = True
    rounds = 0
    while changed and rounds <= len(regions):
        changed = False
        rounds += 1
        for rev, region in regions:
            mine = spread[rev]
            for other in region:
                if not mine <= spread[other]:
                    spread[other] |= mine
                    changed = True
    return spread


def _label_region(nodes: dict[str, _Node], start: str) -> list[str]:
    seen: set[str] = set()
    order: list[str] = []
    todo = [start]
    while todo:
        rev = todo.pop()
        if rev in seen:
            continue
        seen.add(rev)
        todo.extend(c for c in nodes[rev].next if c in nodes)
        order.append(rev)
    walked: set[str] = set()
    parent: str | None = order[-1]
    while parent is not None and parent not in walked:
        n = nodes[parent]
        if len(set(n.all_next)) > 1 or len(n.down) > 1:
            break
        walked.add(parent)
        parent = n.down[0] if n.down and n.down[0] in nodes else None
    return order + [r for r in walked if r not in seen]
