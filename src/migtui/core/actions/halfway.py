"""A step that failed halfway where DDL is not rolled back: what stayed, told exactly.

Alembic runs every step of MySQL, MariaDB and SQLite in a transaction of its own
(``transactional_ddl`` is off for them) and rolls it back when the step fails. What
that rollback cannot undo:

- MySQL/MariaDB: every CREATE, ALTER, DROP, RENAME or TRUNCATE commits at once, and
  commits the data changes before it too. Data changes after the last DDL roll back.
- SQLite (the pysqlite driver): no transaction is open until the step's first data
  change (INSERT, UPDATE, DELETE, REPLACE) begins one, so DDL before it commits as it
  runs; from that change on, everything rolls back.

The statements are those the step executed (``Watch.step_statements``); the schema
read just before the step is compared with the schema after the failure, which is the
evidence for SQLite whatever env.py did with its transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from migtui.core.env.mysql import display_name, is_mysql
from migtui.core.models import PartialStep

_DDL = ("CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE")
_DATA = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def not_rolled_back(dialect: str) -> bool:
    """DDL commits as it runs here (Alembic's transactional_ddl is off for these)."""
    return dialect == "sqlite" or is_mysql(dialect)


def no_rollback(dialect: str) -> str:
    """What the confirmation says when a failed step is not rolled back whole on this
    database (a sentence, without its full stop), or "" when it is."""
    name = display_name(dialect)
    if is_mysql(dialect):
        return (f"Cannot be rolled back on this database: {name} commits each DDL statement "
                "as it runs (and the data changes before it): if a step fails halfway, "
                "what it ran stays applied and alembic_version still names the revision "
                "before it")
    if dialect == "sqlite":
        return ("Not always rolled back whole on this database: Alembic runs SQLite "
                "without transactional DDL, so the DDL a step runs before its first data "
                "change (INSERT, UPDATE, DELETE) commits at once; if the step fails after "
                "it, that DDL stays (a batch step's _alembic_tmp_ copy of its table too) "
                "and alembic_version still names the revision before it")
    return ""


def _verb(statement: str) -> str:
    words = statement.split(None, 1)
    return words[0].upper() if words else ""


@dataclass(frozen=True)
class Ran:
    """One statement of the failing step that ran to its end, and what became of it."""

    statement: str
    stayed: bool | None  # None: not known (nothing that was read can show it)
    why: str  # "MariaDB commits DDL as it runs", "rolled back with the step's transaction"


def ran_before_failure(statements: Sequence[str] | None, failing: object) -> list[str]:
    """The statements of the step that ran to their end (reads left out)."""
    if not statements:
        return []
    ran = list(statements)
    if isinstance(failing, str) and ran and " ".join(ran[-1].split()) == " ".join(failing.split()):
        ran.pop()
    return [s for s in ran if _verb(s) not in ("SELECT", "PRAGMA", "SHOW")]


def fates(ran: Sequence[str], failing: object, dialect: str,
          changes: Sequence[str] | None = None) -> tuple[Ran, ...]:
    """What became of each statement that ran, on this dialect.

    ``changes`` is the schema comparison, when it was made: on SQLite an empty one
    means env.py's own transaction rolled the DDL back too."""
    name = display_name(dialect)
    back = "rolled back with the step's transaction"
    if is_mysql(dialect):
        verbs = [_verb(s) for s in ran]
        failing_ddl = isinstance(failing, str) and _verb(failing) in _DDL
        found = []
        for i, statement in enumerate(ran):
            if verbs[i] in _DDL:
                found.append(Ran(statement, True, f"{name} commits DDL as it runs"))
            elif any(v in _DDL for v in verbs[i + 1:]) or failing_ddl:
                found.append(Ran(statement, True, "committed by the DDL that came after it"))
            else:
                found.append(Ran(statement, False, back))
        return tuple(found)
    if dialect == "sqlite":
        if changes is not None and not changes:
            return tuple(Ran(s, False, back) for s in ran)
        found, began = [], False
        for statement in ran:
            began = began or _verb(statement) in _DATA
            found.append(Ran(statement, False, back) if began else Ran(
                statement, True, "ran outside a transaction: Alembic runs SQLite without "
                "transactional DDL, and a transaction begins only at the step's first "
                "data change"))
        return tuple(found)
    if dialect == "postgresql" and changes:  # env.py committed outside the step's transaction
        return tuple(Ran(s, None, _NOT_SHOWN) if _verb(s) in _DATA else
                     Ran(s, True, "committed before the failure: the schema shows it")
                     for s in ran)
    return tuple(Ran(s, False, back) for s in ran)


_NOT_SHOWN = ("not verifiable from the schema: a data change (INSERT, UPDATE, DELETE) "
              "leaves no mark on the tables' structure, and env.py ends transactions on "
              "its own here, so whether it remains cannot be told (check the rows by hand)")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _short(statement: str, limit: int = 32) -> str:
    """A statement on one line, cut: "CREATE TABLE half_done ( id INTEGER …"."""
    text = " ".join(statement.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _listed(changes: Sequence[str], most: int) -> str:
    shown = ", ".join(changes[:most])
    return shown + (f" and {len(changes) - most} more" if len(changes) > most else "")


def versions_text(heads: Sequence[str]) -> str:
    """What alembic_version says, for a sentence: "a1b2c3d4e5f6" or "nothing (base)"."""
    return ", ".join(h[:12] for h in heads) or "nothing (base)"


def halfway_tail(dialect: str, revision: str, found: Sequence[Ran],
                 heads: Sequence[str] | None, changes: Sequence[str] | None,
                 limit: int = 260) -> str:
    """The end of the one-line error: what the database now holds (``limit`` long at
    most, unless what must be said is longer)."""
    name = display_name(dialect)
    stayed = [r for r in found if r.stayed]
    unknown = sum(r.stayed is None for r in found)
    back = len(found) - len(stayed) - unknown
    if not found:
        return "— nothing of this step had run before the failure"
    version = versions_text(heads) if heads is not None else None
    if not stayed and unknown:
        said = f"; alembic_version still says {version}" if version is not None else ""
        return (f"— whether the {_plural(unknown, 'data change')} of this step that ran "
                f"stayed is not verifiable from the schema{said} (e: which)")
    if not stayed:
        them = "it" if len(found) == 1 else "them"
        why = (f"SQLite ran {them} in the transaction the step's first data change began"
               if dialect == "sqlite" else f"no DDL came after {them}" if is_mysql(dialect)
               else f"{name} ran {them} in the migration's transaction")
        said = f"; alembic_version still says {version}" if version is not None else ""
        what = ("the statement of this step that ran was" if len(found) == 1 else
                f"the {len(found)} statements of this step that ran were")
        return f"— {what} rolled back ({why}){said} (e: which)"
    # Shortened until it fits: the first statement goes, then the changes listed.
    for first, most in ((True, 3), (False, 3), (False, 2), (False, 1)):
        text = _stayed_text(name, stayed, back, unknown, first, version, revision, changes,
                            most)
        if len(text) <= limit:
            break
    return text


def _stayed_text(name: str, stayed: Sequence[Ran], back: int, unknown: int, first: bool,
                 version: str | None, revision: str, changes: Sequence[str] | None,
                 most: int) -> str:
    more = f" and {len(stayed) - 1} more" if len(stayed) > 1 else ""
    which = f" ({_short(stayed[0].statement)}{more})" if first else ""
    tail = [f"— {name} could not roll back {_plural(len(stayed), 'statement')} of this "
            f"step{which}" + (f", {back} rolled back" if back else "")
            + (f", {unknown} not verifiable from the schema" if unknown else "") + ";"]
    if version is not None:
        tail.append(f"alembic_version still says {version}: the database is partially "
                    f"applied {revision[:12]};")
    if changes:
        tail.append(f"against the schema before the step: {_listed(changes, most)}")
    elif changes is not None:
        tail.append("no table, column or index differs from before the step (data only)")
    return " ".join(tail).rstrip(";") + " (e: which)"


def halfway_details(found: Sequence[Ran], heads: Sequence[str] | None, revision: str,
                    changes: Sequence[str] | None) -> list[str]:
    """The sections of the error details: each statement and its fate, alembic_version,
    and the schema compared with before the step."""
    notes = []
    if found:
        notes.append("Statements of this step that ran before the failure:\n\n" + "\n\n".join(
            f"{r.statement.strip()}\n  → {_fate(r)}{r.why}"
            for r in found))
    if heads is not None:
        notes.append(f"alembic_version now says: {versions_text(heads)} "
                     f"({revision[:12]} is not recorded as applied)")
    if changes:
        notes.append("The schema now, against the schema read just before the step:\n"
                     + "\n".join(changes))
    elif changes is not None:
        notes.append("The schema now, against the schema read just before the step: "
                     "no table, column or index differs.")
    return notes


def _fate(ran: Ran) -> str:
    return "stayed: " if ran.stayed else "unknown: " if ran.stayed is None else ""


FORGET_COMMAND = "Forget the 'partially applied' mark"


def partial_text(partial: PartialStep) -> tuple[str, str]:
    """(one line, details) about a database left partially applied, for ``e`` in a
    later run, when the failure itself is no longer on screen."""
    revision = partial.revision[:12]
    when = f" on {partial.date.replace('T', ' ')}" if partial.date else ""
    line = (f"The database is partially applied {revision}: its step failed halfway"
            f"{when} and alembic_version still says {versions_text(partial.heads)}")
    notes = [f"{partial.step} failed halfway{when}:\n{partial.error}" if partial.error
             else f"{partial.step} failed halfway{when}."]
    if partial.statements:
        notes.append("Statements of this step that stayed in the database:\n\n"
                     + "\n\n".join(s.strip() for s in partial.statements))
    if partial.schema_changes:
        notes.append("The schema after the failure, against the schema read just before "
                     "the step:\n" + "\n".join(partial.schema_changes))
    notes.append(
        f"alembic_version said {versions_text(partial.heads)} then and still does, so "
        f"Alembic thinks {revision} is not applied; upgrading runs its whole step again. "
        "Undo or finish what stayed by hand first. The mark goes as soon as "
        "alembic_version changes; after repairing by hand, clear it with ctrl+p: "
        f"{FORGET_COMMAND}.")
    return line, "\n\n".join(notes)
