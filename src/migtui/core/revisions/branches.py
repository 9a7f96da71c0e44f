"""Where a branch leads: what a "which branch?" choice says about each revision.

Most real revision messages are empty, so a bare id tells nothing: a choice names the
branch labels, the message, the head(s) the branch leads to and how many revisions of
it are not applied yet. The count is what Alembic runs to reach those heads: revisions
that they reach through ``depends_on`` (on other branches) run too, and are counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from migtui.core.models import RevisionGraph, Snapshot


@dataclass(frozen=True)
class BranchChoice:
    """One branch that can run next, seen from the revision that starts it."""

    revision: str
    labels: tuple[str, ...]
    message: str
    heads: tuple[str, ...]  # the heads this branch leads to (through down_revision)
    pending: int  # revisions that upgrading to those heads runs (depends_on included)
    elsewhere: int = 0  # of them, those on other branches (reached by depends_on or a merge)

    @property
    def label(self) -> str:
        """What the branch is, on one line: its first revision, labels and message."""
        parts = [self.revision[:12]]
        if self.labels:
            parts.append(" ".join(f"[{label}]" for label in self.labels))
        parts.append(self.message.splitlines()[0] if self.message.strip() else "(no message)")
        return "  ".join(parts)

    @property
    def leads_to(self) -> str:
        """Where it leads, on one line: its head(s) and what upgrading there runs."""
        heads = ", ".join(h[:12] for h in self.heads) or "?"
        word = "head" if len(self.heads) == 1 else "heads"
        count = f"{self.pending} pending up to there"
        if self.elsewhere:
            count += f", {self.elsewhere} of them on other branches"
        return f"→ {word} {heads} ({count})"


def branch_choice(snapshot: Snapshot, revision: str) -> BranchChoice:
    """What the branch starting at ``revision`` holds (a walk up through its children)."""
    graph = snapshot.graph
    applied = snapshot.applied
    start = graph.get(revision)
    seen: set[str] = set()
    heads: list[str] = []
    todo = [revision]
    while todo:
        rev = todo.pop()
        if rev in seen:
            continue
        seen.add(rev)
        node = graph.get(rev)
        if node is None:
            continue
        if node.is_head:
            heads.append(rev)
        todo.extend(c for c in node.children if c not in seen)
    order = {r.revision: i for i, r in enumerate(graph) if r.revision in heads}
    runs = graph.ancestors(tuple(heads)) - applied  # what `alembic upgrade HEAD` runs
    return BranchChoice(
        revision=revision,
        labels=start.branch_labels if start else (),
        message=start.message if start else "",
        heads=tuple(sorted(heads, key=lambda h: order.get(h, 0))),
        pending=len(runs),
        elsewhere=len(runs - seen),
    )


def head_labels(graph: RevisionGraph, head: str) -> tuple[str, ...]:
    """The branch labels a head carries: its own and those of the revisions below it, down
    to (not including) the branch point where its branch began."""
    labels: list[str] = []
    seen: set[str] = set()
    todo = [head]
    while todo:
        node = graph.get(todo.pop())
        if node is None or node.revision in seen or (node.is_branch_point and seen):
            continue
        seen.add(node.revision)
        labels.extend(label for label in node.branch_labels if label not in labels)
        todo.extend(node.down_revisions)
    return tuple(labels)


def labelled_heads(graph: RevisionGraph) -> tuple[str, ...] | None:
    """One label for each head when every head carries branch labels of its own (heads
    kept apart on purpose, as expand/contract): None when any head has none, or shares
    one with another (heads that wait for a merge)."""
    if len(graph.heads) < 2:
        return None
    names: list[str] = []
    taken: set[str] = set()
    for head in graph.heads:
        labels = head_labels(graph, head)
        if not labels or taken & set(labels):
            return None
        taken.update(labels)
        names.append(labels[0])
    return tuple(names)
