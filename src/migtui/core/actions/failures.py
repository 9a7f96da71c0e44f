"""Explain a failed migration: which revision, which statement, what was left behind."""

from __future__ import annotations

import re
from collections.abc import Sequence

from migtui.core.env.urls import scrub_secrets
from migtui.core.errors import MigtuiError, from_exception, one_line

# "Running upgrade a -> b, message" as Alembic logs each step.
RUNNING_STEP = re.compile(r"Running (upgrade|downgrade)\s+(\S*)\s*->\s*(\S*?),?(?:\s|$)")


def failing_step(log: Sequence[str]) -> str | None:
    """The step that was running when the action failed, from Alembic's log lines."""
    for line in reversed(log):
        match = RUNNING_STEP.search(line)
        if match:
            direction, src, dst = match.groups()
            return f"{direction} {src or 'base'} -> {dst or 'base'}"
    return None


def explain_failure(
    exc: BaseException, action: str, log: Sequence[str], dialect: str
) -> MigtuiError:
    """A one-line error naming the failing step and statement; details keep everything."""
    err = from_exception(exc, f"{action.capitalize()} failed")
    parts = [err.message]
    step = failing_step(log)
    statement = getattr(exc, "statement", None)
    notes = []
    if step:
        parts.insert(0, f"{action.capitalize()} failed in {step}:")
        parts[1] = from_exception(exc).message
    if isinstance(statement, str) and statement.strip():
        parts.append(f"[statement: {one_line(scrub_secrets(statement), 120)}]")
        notes.append(f"Failing statement:\n{scrub_secrets(statement)}")
    if dialect == "sqlite" and step and action in ("upgrade", "downgrade"):
        parts.append("— SQLite could not roll back the DDL that ran before the failure;"
                     " the graph shows what Alembic left")
    details = "\n\n".join([*notes, err.details])
    return MigtuiError(" ".join(parts), details)
