"""Which configured environments stand on which revision: the graph's ``@dev`` marks,
and the choice (``E``) of the environment the graph and its actions refer to."""

from __future__ import annotations

from collections.abc import Sequence

from migtui.core.models import Snapshot
from migtui.screens.state import EnvironmentMark


def _where(mark: EnvironmentMark, chosen: str, snapshot: Snapshot) -> tuple[str, ...]:
    """The revisions an environment is on: the session's own snapshot for the chosen one
    (newer than the last read of the fleet), else its last read."""
    if mark.name == chosen:  # (not where env.py connects instead of its url)
        db = snapshot.database
        return db.current_heads if db.reachable and not db.unused_url else ()
    return mark.heads if mark.read and mark.reachable else ()


def environment_labels(marks: Sequence[EnvironmentMark], chosen: str,
                       snapshot: Snapshot) -> dict[str, str]:
    """Revision id -> ``"@dev @staging @tenants×3"``: each environment on it, in
    configuration order; the tenants of one group counted (named when only one is)."""
    names: dict[str, list[str]] = {}
    tenants: dict[str, dict[str, list[str]]] = {}
    for mark in marks:
        for head in _where(mark, chosen, snapshot):
            if mark.group:
                tenants.setdefault(head, {}).setdefault(mark.group, []).append(mark.name)
            else:
                names.setdefault(head, []).append(mark.name)
    out: dict[str, str] = {}
    for head in {*names, *tenants}:
        labels = [f"@{name}" for name in names.get(head, ())]
        for group, members in tenants.get(head, {}).items():
            labels.append(f"@{members[0]}" if len(members) == 1
                          else f"@{group}×{len(members)}")
        out[head] = " ".join(labels)
    return out


def choice_label(mark: EnvironmentMark, chosen: str) -> str:
    """One line of the environment chooser: name, where it is, protected, chosen."""
    if not mark.read:
        where = mark.problem or "not read yet"
    elif not mark.reachable:
        where = f"unreachable: {mark.problem}" if mark.problem else "unreachable"
    else:
        where = "at " + (", ".join(h[:12] for h in mark.heads) or "base")
    text = f"{mark.name}  {where}"
    if mark.protected:
        text += "  (protected)"
    if mark.name == chosen:
        text += "  ◀ now"
    return text
