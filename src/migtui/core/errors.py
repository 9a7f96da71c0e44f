"""One error type for everything the core reports, with a one-line message."""

from __future__ import annotations

import traceback

from migtui.core.secrets import scrub_secrets


class MigtuiError(Exception):
    """An error with a one-line, actionable message and the details kept aside."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.message = one_line(message)
        self.details = details

    def __str__(self) -> str:
        return self.message


class PlanChanged(MigtuiError):
    """A confirmed plan no longer matches the database or the files: nothing ran.
    ``rewritten``: revision files whose bytes changed while their (size, mtime) stayed,
    to be read again before anything is planned from them."""

    def __init__(self, message: str, details: str = "",
                 rewritten: tuple[str, ...] = ()) -> None:
        super().__init__(message, details)
        self.rewritten = rewritten


def one_line(text: str, limit: int = 300) -> str:
    """Collapse text to its first meaningful line, trimmed to ``limit`` characters (at
    the end of a word, when one ends in its second half)."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    first = lines[0] if lines else "Unknown error"
    # SQLAlchemy appends "(Background on this error at: ...)" on its own line.
    if len(first) <= limit:
        return first
    cut = first[: limit - 1]
    inside_a_word = not first[limit - 1].isspace() and not cut[-1:].isspace()
    words = cut.rsplit(None, 1)[0] if inside_a_word else cut
    return (words if len(words) > limit // 2 else cut).rstrip() + "…"


_MULTIPLE_HEADS = "Multiple heads: upgrade to a specific head or merge them first"
_HINTS: tuple[tuple[str, str], ...] = (
    ("Multiple head revisions are present", _MULTIPLE_HEADS),
    ("Multiple heads are present", _MULTIPLE_HEADS),
    ("Target database is not up to date", "The database is not at head: upgrade it first"),
    ("Can't locate revision identified by", "Unknown revision: no revision file defines it"),
    ("Ambiguous walk", _MULTIPLE_HEADS),
    ("Ambiguous upgrade from multiple current revisions",
     "The database has several heads: upgrade to a specific revision or to heads"),
    ("Relative revision", "No revision that far away"),
)


def from_exception(exc: BaseException, context: str = "") -> MigtuiError:
    """Turn any exception raised by Alembic, SQLAlchemy or env.py into a MigtuiError."""
    if isinstance(exc, MigtuiError):
        return exc
    details = scrub_secrets("".join(traceback.format_exception(exc)))
    raw = scrub_secrets(one_line(str(exc) or type(exc).__name__))
    message = raw
    for needle, hint in _HINTS:
        if needle in raw:
            message = f"{hint} ({raw})"
            break
    else:
        name = type(exc).__name__
        if name not in ("CommandError",) and not raw.startswith(name):
            message = f"{name}: {raw}"
    if context:
        message = f"{context}: {message}"
    return MigtuiError(message, details)


def exception_chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it was raised from or while handling, in order."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
