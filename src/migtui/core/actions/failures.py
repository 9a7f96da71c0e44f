"""Explain a failed migration: which revision, which statement, what was left behind."""

from __future__ import annotations

import re
from collections.abc import Sequence

from migtui.core.errors import MigtuiError, from_exception, one_line
from migtui.core.secrets import scrub_secrets

# "Running upgrade a -> b, message" as Alembic logs each step ("a, b -> c" for a merge).
RUNNING_STEP = re.compile(r"Running (upgrade|downgrade)\s+(.*?)\s*->\s*(\S*?),?(?:\s|$)")


def failing_step(log: Sequence[str]) -> str | None:
    """The step that was running when the action failed, from Alembic's log lines."""
    for line in reversed(log):
        match = RUNNING_STEP.search(line)
        if match:
            direction, src, dst = match.groups()
            return f"{direction} {src or 'base'} -> {dst or 'base'}"
    return None


def _ran_before_failure(statements: Sequence[str] | None, failing: object) -> list[str]:
    if not statements:
        return []
    ran = list(statements)
    if isinstance(failing, str) and ran and " ".join(ran[-1].split()) == " ".join(failing.split()):
        ran.pop()
    return [s for s in ran if not s.lstrip().upper().startswith(("SELECT", "PRAGMA"))]


def explain_failure(
    exc: BaseException, action: str, log: Sequence[str], dialect: str,
    step: str | None = None, statements: Sequence[str] | None = None,
) -> MigtuiError:
    """A one-line error naming the failing step and statement; details keep everything.

    ``step`` is the step that was running (else it is read from the log) and
    ``statements`` what that step had sent to the database, the failing one last.
    """
    err = from_exception(exc, f"{action.capitalize()} failed")
    parts = [err.message]
    step = step or failing_step(log)
    statement = getattr(exc, "statement", None)
    notes = []
    if step:
        parts.insert(0, f"{action.capitalize()} failed in {step}:")
        parts[1] = from_exception(exc).message
    if isinstance(statement, str) and statement.strip():
        parts.append(f"[statement: {one_line(scrub_secrets(statement), 120)}]")
        notes.append(f"Failing statement:\n{scrub_secrets(statement)}")
    ran = _ran_before_failure(statements, statement)
    if ran:
        notes.append("Statements of this step that ran before the failure:\n"
                     + "\n".join(scrub_secrets(s) for s in ran))
    if dialect in ("sqlite", "mysql", "mariadb") and step and action in ("upgrade", "downgrade"):
        if statements is not None and not ran:
            parts.append("— nothing of this step had run before the failure")
        else:
            count = f"{len(ran)} statement{'s' * (len(ran) != 1)} of this step" if ran else \
                "the DDL that ran before the failure"
            name = {"sqlite": "SQLite", "mysql": "MySQL", "mariadb": "MariaDB"}[dialect]
            parts.append(f"— {name} could not roll back {count};"
                         " the graph shows what Alembic left (e: which)")
    details = "\n\n".join([*notes, err.details])
    return MigtuiError(" ".join(parts), details)
