"""What an upgrade, downgrade or stamp will do, worked out before anything runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from migtui.core.models import Revision, RevisionGraph, Snapshot
from migtui.core.revisions.reader import source_hash
from migtui.core.revisions.source import read_function


@dataclass(frozen=True)
class PlanStep:
    """One revision that a plan runs, in one direction."""

    revision: str
    message: str
    direction: str  # "upgrade" or "downgrade"
    operations: tuple[str, ...]
    warnings: tuple[str, ...]
    sha256: str = ""  # of the revision file the operations were read from


@dataclass(frozen=True)
class Plan:
    """The steps an action runs, in order, and the Alembic target that runs them.

    A plan is frozen when it is made: ``heads`` are the database heads it was computed
    from and every step carries the hash of its file. Running it (``Project.run_plan``)
    refuses, before anything runs, when either differs.
    """

    action: str  # "upgrade", "downgrade" or "stamp"
    target: str  # what is passed to Alembic: a revision id, base, or REV@-1
    steps: tuple[PlanStep, ...]
    description: str
    heads: tuple[str, ...] = ()
    # How it was asked for, to make it again from a newer snapshot: "upgrade_to",
    # "downgrade_to", "step_down" (from ``steps[0]``'s revision) or "stamp".
    kind: str = ""
    # Which database it was made for (``DatabaseStatus.identity``; "" when not known):
    # it runs only if env.py connects to that one again.
    database: str = ""
    # The project's modules that had changed on disk since this process imported them
    # when the confirmation was shown (core/env/imported.py; None: not checked): it
    # runs only if no other has changed since.
    stale_modules: tuple[str, ...] | None = None

    @property
    def destructive(self) -> bool:
        return any(step.warnings for step in self.steps)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(f"{s.revision[:12]}: {w}" for s in self.steps for w in s.warnings)


def _step(rev: Revision, direction: str) -> PlanStep:
    info = read_function(rev.path, direction)
    warnings: list[str] = []
    operations: tuple[str, ...] = ()
    if info is not None:
        operations = info.operations
        warnings.extend(info.warnings)
        if direction == "downgrade" and info.empty and not _empty_upgrade(rev):
            warnings.append("downgrade() is empty: what the upgrade did stays in the database")
        if info.raises:
            warnings.append(f"{direction}() raises: this step cannot run")
    try:
        digest = source_hash(rev.path) if rev.path else ""
    except OSError:
        digest = ""
    return PlanStep(rev.revision, rev.message, direction, operations, tuple(warnings), digest)


def _empty_upgrade(rev: Revision) -> bool:
    """upgrade() does nothing (a merge point, say): an empty downgrade() loses nothing."""
    up = read_function(rev.path, "upgrade")
    return up is not None and up.empty


def upgrade_marks(rev: Revision) -> tuple[str, ...]:
    """Why upgrading to ``rev`` deserves a look, in a few words each, read from its
    source alone (no database, no import): the marks of pending rows in the graph."""
    up = read_function(rev.path, "upgrade")
    if up is None:
        return ()
    marks = [w.split(":", 1)[0].replace("drops ", "drops a ").replace("runs raw SQL", "raw SQL")
             for w in up.warnings]
    marks.extend(up.risks)
    if up.raises:
        marks.append("upgrade() raises")
    down = read_function(rev.path, "downgrade")
    if down is not None and (down.raises or down.empty) and not up.empty:
        marks.append("cannot be undone")
    return tuple(dict.fromkeys(marks))


def read_marks_ahead(graph: RevisionGraph, count: int, stop: Callable[[], bool]) -> None:
    """Read what :func:`upgrade_marks` needs for the first ``count`` revisions of
    ``graph`` (the rows a first frame shows) until ``stop()``, in a worker: the rows are
    then drawn without parsing revision files on the UI thread."""
    for rev in graph.revisions[:count]:
        if stop():
            return
        read_function(rev.path, "upgrade")


def descendants(snapshot: Snapshot, revision: str) -> frozenset[str]:
    """Every revision above ``revision`` (its children, their children, ...)."""
    return snapshot.graph.descendants((revision,))


def next_revisions(snapshot: Snapshot) -> tuple[Revision, ...]:
    """Pending revisions whose parents are all applied: the candidates for one step up
    (not a revision the database may already hold: :attr:`Snapshot.unknown`)."""
    applied, unknown = snapshot.applied, snapshot.unknown
    return tuple(
        rev for rev in snapshot.graph
        if rev.revision not in applied and rev.revision not in unknown
        and all(p in applied for p in (*rev.down_revisions, *rev.dependencies)
                if p in snapshot.graph)
    )


def plan_upgrade(snapshot: Snapshot, target: str) -> Plan:
    """Upgrade to ``target`` (a revision id): every pending ancestor, oldest first."""
    graph, applied = snapshot.graph, snapshot.applied
    needed = graph.ancestors((target,)) - applied
    steps = tuple(_step(r, "upgrade") for r in reversed(graph.revisions) if r.revision in needed)
    description = f"Upgrade to {target[:12]}"
    heads = _heads(snapshot)
    after = _heads_after(snapshot, applied | needed)
    if heads and len(after) > len(heads):  # (a branch started beside the applied one)
        description += f", leaving the database on {len(after)} heads"
    return Plan("upgrade", target, steps, description, heads, "upgrade_to",
                snapshot.database.identity)


def _heads_after(snapshot: Snapshot, applied: frozenset[str]) -> list[str]:
    """The heads of ``applied``: the rows ``alembic_version`` would hold (revisions
    no applied revision names as its down_revision)."""
    graph = snapshot.graph
    return [rev for rev in applied
            if not any(c in applied for c in getattr(graph.get(rev), "children", ()))]


def plan_downgrade(snapshot: Snapshot, target: str) -> Plan:
    """Downgrade to ``target`` (a revision id or ``base``): applied descendants, newest first."""
    graph, applied = snapshot.graph, snapshot.applied
    undo = set(applied) if target == "base" else set(descendants(snapshot, target) & applied)
    steps = tuple(_step(r, "downgrade") for r in graph.revisions if r.revision in undo)
    label = "base" if target == "base" else target[:12]
    description = f"Downgrade to {label}" + _on_heads(snapshot, applied - undo)
    return Plan("downgrade", target, steps, description, _heads(snapshot),
                "downgrade_to", snapshot.database.identity)


def _on_heads(snapshot: Snapshot, applied: set[str] | frozenset[str]) -> str:
    """", leaving the database on N heads" when a downgrade leaves it on more heads than
    it is on (down from a merge point to one of its parents): "" otherwise."""
    after = _heads_after(snapshot, frozenset(applied))
    if len(after) > max(len(_heads(snapshot)), 1):
        return f", leaving the database on {len(after)} heads"
    return ""


def plan_step_down(snapshot: Snapshot, head: str) -> Plan:
    """One step down from one of the database's current heads."""
    rev = snapshot.graph.get(head)
    several = len(snapshot.database.current_heads) > 1
    # Resolved now, not by Alembic when it runs: the parent revision itself, or base;
    # from a merge point one of its parents (REV@-1 is an ambiguous walk for Alembic
    # there; down to one parent undoes the merge alone: the other is not above it).
    # With several heads the step is named relative to this head (REV@-1), which
    # depends on the files alone, never on where the database is when it runs.
    parents = rev.down_revisions if rev is not None else ()
    target = f"{head}@-1" if several else (parents[0] if parents else "base")
    steps = (_step(rev, "downgrade"),) if rev is not None else ()
    description = (f"Downgrade one step from {head[:12]}"
                   + _on_heads(snapshot, snapshot.applied - {head}))
    return Plan("downgrade", target, steps, description,
                _heads(snapshot), "step_down", snapshot.database.identity)


def plan_stamp(snapshot: Snapshot, target: str) -> Plan:
    """Stamp ``target``: alembic_version changes, no migration runs. Alembic replaces
    the heads in ``target``'s lineage (its ancestors and descendants) and keeps the
    others: the title says when the database is left on several heads."""
    heads = _heads(snapshot)
    description = f"Stamp {target[:12]} (no migration runs)"
    if target != "base" and target in snapshot.graph and all(
            h in snapshot.graph for h in heads):
        lineage = snapshot.graph.ancestors((target,)) | descendants(snapshot, target)
        kept = [h for h in heads if h not in lineage and h != target]
        if kept:
            description += f", leaving the database on {len(kept) + 1} heads"
    return Plan("stamp", target, (), description, heads, "stamp", snapshot.database.identity)


def replan(plan: Plan, snapshot: Snapshot) -> Plan | None:
    """The same request made again from a newer snapshot (after a refused plan), or None
    when it no longer means the same (env.py connects to another database; its revision
    is gone; one step down from a database that moved, or that has several heads)."""
    graph = snapshot.graph
    if plan.database and plan.database != snapshot.database.identity:
        return None  # env.py now connects elsewhere: the request was for that database
    if plan.kind == "upgrade_to" and plan.target in graph:
        return plan_upgrade(snapshot, plan.target)
    if plan.kind == "downgrade_to" and (plan.target == "base" or plan.target in graph):
        return plan_downgrade(snapshot, plan.target)
    if plan.kind == "stamp" and plan.target in graph:
        return plan_stamp(snapshot, plan.target)
    heads = snapshot.database.current_heads
    # One step down is relative: from another head it would undo another revision than
    # the one confirmed. Offered again only from the same head (a file changed).
    if (plan.kind == "step_down" and len(heads) == 1 and heads == plan.heads
            and heads[0] in graph):
        return plan_step_down(snapshot, heads[0])
    return None


def _heads(snapshot: Snapshot) -> tuple[str, ...]:
    return snapshot.database.current_heads
