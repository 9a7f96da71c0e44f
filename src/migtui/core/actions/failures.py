"""Explain a failed migration: which revision, which statement, what was left behind."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from migtui.core.actions.halfway import (
    fates,
    halfway_details,
    halfway_tail,
    not_rolled_back,
    ran_before_failure,
    versions_text,
)
from migtui.core.env.mysql import display_name
from migtui.core.env.watch import Watch
from migtui.core.errors import MigtuiError, from_exception, one_line
from migtui.core.models import PartialStep
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


def failing_statement(exc: BaseException,
                      as_sent: Callable[[str], str] | None = None) -> str | None:
    """The statement the database refused, if the error names one (``as_sent``: as the
    database got it, Watch.as_sent)."""
    statement = getattr(exc, "statement", None)
    if not isinstance(statement, str):
        return None
    return as_sent(statement) if as_sent is not None else statement


def left_behind(exc: BaseException, action: str, dialect: str, step: str | None,
                statements: Sequence[str] | None, changes: Sequence[str] | None = None,
                as_sent: Callable[[str], str] | None = None) -> tuple[str, ...]:
    """The statements of the failing step that ran and stayed in the database."""
    if not ((not_rolled_back(dialect) or changes is not None) and step
            and action in ("upgrade", "downgrade")):
        return ()
    failing = failing_statement(exc, as_sent)
    ran = ran_before_failure(statements, failing)
    return tuple(r.statement for r in fates(ran, failing, dialect, changes) if r.stayed)


def step_revision(step: str) -> str:
    """The revision a step is about: the target of an upgrade, the one a downgrade undoes
    ("upgrade r1 -> r2" -> "r2", "downgrade r2 -> r1" -> "r2")."""
    direction, _, rest = step.partition(" ")
    sources, _, targets = rest.partition(" -> ")
    return (targets if direction == "upgrade" else sources).strip()


def explain_failure(
    exc: BaseException, action: str, log: Sequence[str], dialect: str,
    step: str | None = None, statements: Sequence[str] | None = None,
    heads: Sequence[str] | None = None, changes: Sequence[str] | None = None,
    as_sent: Callable[[str], str] | None = None,
) -> MigtuiError:
    """A one-line error naming the failing step and statement; details keep everything.

    ``step`` is the step that was running (else it is read from the log) and
    ``statements`` what that step had sent to the database, the failing one last;
    ``heads`` what alembic_version says after the failure, when it was read, and
    ``changes`` the schema after it compared with before the step, when both were read;
    ``as_sent`` gives the failing statement as the database got it (Watch.as_sent).
    """
    err = from_exception(exc, f"{action.capitalize()} failed")
    parts = [err.message]
    step = step or failing_step(log)
    statement = failing_statement(exc, as_sent)
    notes = []
    if step:
        parts.insert(0, f"{action.capitalize()} failed in {step}:")
        parts[1] = from_exception(exc).message
    if isinstance(statement, str) and statement.strip():
        # (A statement spans lines: its start on one line, not only its first line.)
        flat = " ".join(scrub_secrets(statement).split())
        parts.append(f"[statement: {one_line(flat, 120)}]")
        notes.append(f"Failing statement:\n{scrub_secrets(statement)}")
    ran = ran_before_failure(statements, statement)
    tail = ""  # what the database now holds: kept whole, the error is cut
    told = not_rolled_back(dialect) or changes is not None  # else: as the database says
    if told and step and action in ("upgrade", "downgrade"):
        revision = step_revision(step)
        if statements is None:
            tail = (f"— {display_name(dialect)} could not roll back the DDL that ran before "
                    "the failure; the graph shows what Alembic left (e: which)")
        else:
            found = fates(ran, statement, dialect, changes)
            tail = halfway_tail(dialect, revision, found, heads, changes)
            notes.extend(scrub_secrets(n) for n in halfway_details(found, heads, revision,
                                                                    changes))
    elif ran:
        notes.append("Statements of this step that ran before the failure:\n"
                     + "\n".join(scrub_secrets(s) for s in ran))
    tail = scrub_secrets(tail)
    details = "\n\n".join([*notes, err.details])
    end = tail
    message = " ".join(parts)
    if not end:
        return MigtuiError(message, details)
    # What the database now holds is kept whole: the error before it is cut to fit.
    failure = MigtuiError(one_line(message, max(_LONGEST - len(end) - 1, 160)), details)
    failure.message = one_line(f"{failure.message} {end}", _LONGEST)
    return failure


_LONGEST = 420  # a failure that left part of its step behind says a little more


def what_failed(failed: BaseException, action: str, lines: Sequence[str], dialect: str,
                watch: Watch, heads: tuple[str, ...] | None, changes: Sequence[str] | None,
                before: tuple[str, ...] | None = None
                ) -> tuple[str, str, PartialStep | None, bool]:
    """(error, details, the step left half done or None, whether the earlier steps of the
    run were undone too) for an action that raised ``failed``: ``watch`` saw its steps
    and statements, ``heads`` are the database's heads read after it (``before``: read
    before it; None: could not be read), ``changes`` the schema against the one read
    before the step."""
    step = watch.steps[-1] if watch.steps else None
    statements = watch.step_statements if watch.steps else None
    # Alembic runs every step of a run in one transaction (unless env.py asks for one
    # per migration): where DDL is transactional, the steps before the failing one went
    # with it, as alembic_version (read before and after, both) shows.
    earlier = watch.steps[:-1]
    undone = (bool(earlier) and not not_rolled_back(dialect) and heads is not None
              and before is not None and tuple(heads) == tuple(before))
    if undone:
        # The schema "before the step" was read inside that transaction, with the
        # earlier steps' uncommitted DDL in it: against it the rollback looks like changes.
        changes = None
    err = explain_failure(failed, action, lines, dialect, step=step, statements=statements,
                          heads=heads, changes=changes, as_sent=watch.as_sent)
    error = f"Cancelled as you asked; {err.message}" if watch.cancelled else err.message
    if undone:
        count = f"the {len(earlier)} earlier steps" if len(earlier) > 1 else "the earlier step"
        error = one_line(f"{error}; {count} of this run rolled back with it (one transaction):"
                         f" alembic_version says {versions_text(heads or ())}", _LONGEST + 120)
    stayed = left_behind(failed, action, dialect, step, statements, changes, watch.as_sent)
    partial = (PartialStep(step, step_revision(step), heads or (), stayed, tuple(changes or ()))
               if step and (stayed or changes) else None)
    return error, err.details, partial, undone
