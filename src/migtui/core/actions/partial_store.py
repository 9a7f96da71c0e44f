"""Remember, between runs, that a database is "partially applied" a revision.

A step that failed halfway where DDL is not rolled back leaves part of itself in the
database, and ``alembic_version`` does not say so. migtui keeps the step, what stayed
and what ``alembic_version`` said then in ``state_dir()/partial.json``, by database
(masked URL and database name). The mark holds while ``alembic_version`` says exactly
that, and goes as soon as it says anything else (a later upgrade, a downgrade, a stamp,
another tool) or when the user clears it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from migtui.core.folders import read_json, state_dir, write_json
from migtui.core.models import PartialStep

_LOCK = threading.Lock()
Identity = tuple[str, str]  # (masked URL, database name)


def store_path() -> Path:
    """The file the marks live in."""
    return state_dir() / "partial.json"


def _entries() -> list[dict[str, Any]]:
    data = read_json(store_path())
    found = data.get("databases", []) if isinstance(data, dict) else []
    return [e for e in found if isinstance(e, dict)]


def _mine(entry: dict[str, Any], identity: Identity) -> bool:
    return (entry.get("url"), entry.get("database")) == identity


def _step(entry: dict[str, Any]) -> PartialStep | None:
    try:
        return PartialStep(
            step=str(entry["step"]), revision=str(entry["revision"]),
            heads=tuple(str(h) for h in entry["heads"]),
            statements=tuple(str(s) for s in entry.get("statements", ())),
            schema_changes=tuple(str(c) for c in entry.get("schema_changes", ())),
            error=str(entry.get("error", "")), date=str(entry.get("date", "")))
    except (KeyError, TypeError):
        return None


def kept_for(masked_url: str) -> bool:
    """Whether a mark may be kept for a database of this masked URL (if not, it needs no
    identity: working that out imports SQLAlchemy). The URL is compared as text: a
    status's URL is masked where it was read, and masking it again gives the same text."""
    return any(e.get("url") == masked_url for e in _entries())


def recall(identity: Identity) -> PartialStep | None:
    """The mark kept for this database, if any (whatever its heads say now)."""
    return next((p for e in _entries() if _mine(e, identity)
                 if (p := _step(e)) is not None), None)


def still_partial(identity: Identity, heads: tuple[str, ...],
                  this_run: PartialStep | None = None) -> PartialStep | None:
    """The mark of this database (kept, else ``this_run``'s) while alembic_version says
    ``heads``, as it did after the failure; else None, and the kept mark is dropped."""
    partial = recall(identity) or this_run
    if partial is not None and partial.heads != heads:
        forget(identity)  # moved on since (by migtui or another tool)
        return None
    return partial


def remember(identity: Identity, partial: PartialStep) -> PartialStep:
    """Keep the mark for this database (replacing any older one); the mark as kept,
    with today's date. Never raises: a mark that cannot be kept lasts for this run."""
    kept = partial if partial.date else PartialStep(
        **{**asdict(partial), "date": dt.datetime.now().isoformat(timespec="minutes")})
    if not identity[0]:
        return kept
    with _LOCK, contextlib.suppress(OSError):
        entries = [e for e in _entries() if not _mine(e, identity)]
        entries.append({"url": identity[0], "database": identity[1], **asdict(kept)})
        write_json(store_path(), {"version": 1, "databases": entries})
    return kept


def forget(identity: Identity) -> None:
    """Drop this database's mark (its heads moved, or the user repaired it)."""
    with _LOCK, contextlib.suppress(OSError):
        entries = _entries()
        if any(_mine(e, identity) for e in entries):
            write_json(store_path(), {"version": 1, "databases": [
                e for e in entries if not _mine(e, identity)]})
