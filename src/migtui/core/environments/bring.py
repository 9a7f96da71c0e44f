"""Bring one environment (or every tenant of a group) to another's revision.

A plan is made per environment from its own snapshot (its heads as read), frozen as
every plan is, and run with ``Project.run_plan`` on that environment alone: nothing is
applied to two environments in one transaction. Tenants run in order and the run stops
at the first failure; every result is read back from the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from migtui.core.actions.plan import Plan, plan_downgrade, plan_upgrade
from migtui.core.env.capture import LineSink
from migtui.core.environments.config import Environment
from migtui.core.environments.fleet import Fleet
from migtui.core.errors import MigtuiError, from_exception
from migtui.core.models import ActionResult, Snapshot, heads_label


def revision_label(heads: Sequence[str] | None) -> str:
    """Revisions for a sentence: "a1b2c3, d4e5f6", "base", or (None) that they are not
    known: "unknown (the database could not be read)"."""
    return heads_label(heads)


def plan_bring(target: Snapshot, heads: tuple[str, ...], target_name: str,
               source_name: str) -> Plan:
    """The upgrade or downgrade from ``target``'s heads to ``heads``; MigtuiError when the
    two are not on one line of history (or already equal)."""
    current = target.database.current_heads
    label = revision_label(heads)
    if not target.database.reachable:
        raise MigtuiError(f"{target_name} cannot be read: {target.database.error}")
    if target.database.write_refusal:
        raise MigtuiError(f"{target_name}: {target.database.write_refusal}")
    if set(current) == set(heads):
        raise MigtuiError(f"{target_name} is already at {label}")
    if len(heads) > 1:
        raise MigtuiError(f"{source_name} has several heads ({label}): bring it to one "
                          "revision at a time from the graph")
    if heads and heads[0] not in target.graph:
        raise MigtuiError(f"{source_name} is on {label}, which no revision file defines")
    if not heads:
        plan = plan_downgrade(target, "base")
    elif heads[0] in target.applied:
        plan = plan_downgrade(target, heads[0])
    else:
        if not set(current) <= target.graph.ancestors(heads):
            raise MigtuiError(f"{target_name} ({revision_label(current)}) is on a branch that "
                              f"{label} does not contain: bring it by hand from the graph")
        plan = plan_upgrade(target, heads[0])
    verb = "upgrade" if plan.action == "upgrade" else "downgrade"
    return replace(plan, description=f"Bring {target_name} to "
                                     f"{brought_to(source_name, label)} ({verb}, "
                                     f"{len(plan.steps)} step"
                                     f"{'s' if len(plan.steps) != 1 else ''})")


def brought_to(source_name: str, label: str) -> str:
    """Where a bring goes, for its title: "dev's revision a1b2c3", or (the environments
    screen's "(head)": the files' newest revision) "the head, a1b2c3"."""
    if source_name == "(head)":
        return f"the head, {label}"
    return f"{source_name}'s revision {label}"


@dataclass(frozen=True)
class Outcome:
    """How one environment of a run ended."""

    name: str
    ran: bool  # False: not run (a tenant after the failure)
    ok: bool
    heads: tuple[str, ...] | None  # read back from the database afterwards (None: could not)
    error: str = ""
    result: ActionResult | None = None


@dataclass(frozen=True)
class FleetRun:
    """The outcome of bringing several environments, in order."""

    outcomes: tuple[Outcome, ...]
    target: str  # the revision label they were brought to

    @property
    def failed(self) -> Outcome | None:
        return next((o for o in self.outcomes if o.ran and not o.ok), None)

    def summary(self) -> str:
        """Which environments are where, in one line."""
        done = [o.name for o in self.outcomes if o.ran and o.ok]
        skipped = [o.name for o in self.outcomes if not o.ran]
        failed = self.failed
        parts = [f"{len(done)} at {self.target}" + (f" ({_names(done)})" if done else "")]
        if failed is not None:
            parts.append(f"{failed.name} failed ({failed.error}) and is at "
                         f"{revision_label(failed.heads)}")
        if skipped:
            where = sorted({revision_label(o.heads) for o in self.outcomes if not o.ran})
            parts.append(f"{len(skipped)} not run, still at {', '.join(where)} "
                         f"({_names(skipped)})")
        return "; ".join(parts)


def _names(names: list[str]) -> str:
    short = [n.split(":", 1)[-1] for n in names]
    return ", ".join(short) if len(short) <= 4 else f"{short[0]} … {short[-1]}"


def bring_all(fleet: Fleet, items: Sequence[tuple[Environment, Plan]], target: str,
              on_line: LineSink | None = None,
              on_outcome: Callable[[Outcome], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> FleetRun:
    """Run each environment's plan, in order, each on its own; stop at the first failure.

    Each result's heads are read back from its database (``ActionResult.heads_after``);
    the environments not run are read again for the summary.
    """
    outcomes: list[Outcome] = []
    stopped = False
    for env, plan in items:
        if stopped or (should_stop is not None and should_stop()):
            stopped = True
            outcome = Outcome(env.name, False, False, _heads_now(fleet, env))
        else:
            try:
                result = fleet.project_for(env).run_plan(plan, on_line)
                outcome = Outcome(env.name, True, result.ok, result.heads_after,
                                  result.error, result)
            except Exception as exc:
                err = from_exception(exc, f"{env.name} failed")
                outcome = Outcome(env.name, True, False, _heads_now(fleet, env), err.message)
            stopped = not outcome.ok
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return FleetRun(tuple(outcomes), target)


def _heads_now(fleet: Fleet, env: Environment) -> tuple[str, ...] | None:
    """The environment's heads as read now; None when it cannot be read."""
    status = fleet.read(env).status
    return status.current_heads if status.reachable else None


def furthest_behind(plans: Sequence[Plan]) -> Plan:
    """The plan with the most steps: the one a single confirmation shows for a group."""
    return max(plans, key=lambda p: len(p.steps))
