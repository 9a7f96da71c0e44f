"""Where a branch leads: what a "which branch?" choice says about each revision.

Most real revision messages are empty, so a bare id tells nothing: a choice names the
branch labels, the message, the head(s) the branch leads to and how many revisions of
it are not applied yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from migtui.core.models import Snapshot


@dataclass(frozen=True)
class BranchChoice:
    """One branch that can run next, seen from the revision that starts it."""

    revision: str
    labels: tuple[str, ...]
    message: str
    heads: tuple[str, ...]  # the heads this branch leads to (through down_revision)
    pending: int  # revisions from this one up to those heads not applied yet

    @property
    def label(self) -> str:
        """One line for a list of choices."""
        parts = [self.revision[:12]]
        if self.labels:
            parts.append(" ".join(f"[{label}]" for label in self.labels))
        parts.append(self.message.splitlines()[0] if self.message.strip() else "(no message)")
        heads = ", ".join(h[:12] for h in self.heads) or "?"
        word = "head" if len(self.heads) == 1 else "heads"
        count = f"{self.pending} revision{'s' if self.pending != 1 else ''}"
        parts.append(f"→ {word} {heads} ({count} to run)")
        return "  ".join(parts)


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
    return BranchChoice(
        revision=revision,
        labels=start.branch_labels if start else (),
        message=start.message if start else "",
        heads=tuple(sorted(heads, key=lambda h: order.get(h, 0))),
        pending=sum(1 for r in seen if r not in applied and r in graph),
    )
