"""What migtui applied to which database: the revision, its file's hash, the date.

Alembic keeps no checksums of applied migrations, so a revision edited after it was
applied silently disagrees with the database. When migtui applies a revision it
records, in ``state_dir()/applied.json``: the revision id, the SHA-256 of its file, the
database identity (the URL with its password masked, and the database name) and the
date. On every open, :func:`edited_revisions` compares the applied revisions with their
files now. A revision migtui did not apply (the alembic CLI, another machine) has no
record, and so no mark: no false alarm.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migtui.core.actions.plan import Plan
from migtui.core.actions.project import Project
from migtui.core.env.urls import database_identity
from migtui.core.folders import read_json, state_dir, write_json
from migtui.core.history import git
from migtui.core.models import ActionResult, DatabaseStatus, Snapshot
from migtui.core.revisions.reader import source_hash

_LOCK = threading.Lock()


@dataclass(frozen=True)
class AppliedRecord:
    """One revision migtui applied to one database."""

    revision: str
    sha256: str
    url: str  # password masked
    database: str
    date: str  # ISO date (YYYY-MM-DD) of the day it was applied
    path: str = ""  # the revision file it ran from


@dataclass(frozen=True)
class EditedRevision:
    """An applied revision whose file has changed since migtui applied it."""

    revision: str
    applied_on: str
    applied_sha256: str
    now_sha256: str
    path: str

    @property
    def mark(self) -> str:
        """What the graph row shows."""
        return f"✎ edited since applied to this database on {self.applied_on}"


def ledger_path() -> Path:
    """The file the records live in."""
    return state_dir() / "applied.json"


def _load() -> list[AppliedRecord]:
    data = read_json(ledger_path())
    records = []
    for item in data.get("records", []) if isinstance(data, dict) else []:
        with contextlib.suppress(TypeError, ValueError, AttributeError):
            records.append(AppliedRecord(**{k: str(v) for k, v in item.items()}))
    return records


def _save(records: list[AppliedRecord]) -> None:
    payload: dict[str, Any] = {"version": 1, "records": [r.__dict__ for r in records]}
    write_json(ledger_path(), payload)


def records_for(status: DatabaseStatus) -> dict[str, AppliedRecord]:
    """The records of one database, by revision id."""
    records = _load()
    if not records:  # (nothing recorded: no URL to parse, nothing to import for it)
        return {}
    url, name = database_identity(status.url)
    return {r.revision: r for r in records if r.url == url and r.database == name}


def _ran(result: ActionResult, plan: Plan) -> list[str]:
    """The revision ids of the plan's steps that ran to the end."""
    if result.ok:
        return [s.revision for s in plan.steps]
    ids: set[str] = set()
    for step in result.steps:  # "upgrade a, b -> c" ran c; "downgrade c -> a, b" undid c
        direction, _sep, rest = step.partition(" ")
        sources, _arrow, targets = rest.partition(" -> ")
        ids.update(x.strip() for x in (targets if direction == "upgrade" else sources)
                   .split(","))
    return [s.revision for s in plan.steps if s.revision[:12] in ids]


def record_applied(project: Project, result: ActionResult, plan: Plan,
                   status: DatabaseStatus | None = None, today: dt.date | None = None) -> None:
    """Remember what a finished write did to the database (call it after every write).

    Upgrades record each revision that ran with its file's hash; downgrades forget
    the revisions they undid. ``status`` is the database's (read again when None).
    Never raises: a ledger that cannot be written means no marks, not a failed write.
    """
    try:
        _record(project, result, plan, status, today)
    except Exception:  # the ledger is a help: it never turns a write into a failure
        return


def _record(project: Project, result: ActionResult, plan: Plan,
            status: DatabaseStatus | None, today: dt.date | None) -> None:
    if plan.action not in ("upgrade", "downgrade"):
        return
    ran = _ran(result, plan)
    if not ran:
        return
    if status is None or not status.url:
        status = project.status()
    url, name = database_identity(status.url)
    if not url:
        return
    day = (today or dt.date.today()).isoformat()
    hashes = {s.revision: s.sha256 for s in plan.steps}
    graph = project.graph()
    with _LOCK:
        records = [r for r in _load()
                   if not (r.url == url and r.database == name and r.revision in ran)]
        if plan.action == "upgrade":
            for revision in ran:
                rev = graph.get(revision)
                path = rev.path if rev is not None and rev.path else ""
                digest = hashes.get(revision) or (_hash(path) if path else "")
                if digest:
                    records.append(AppliedRecord(revision, digest, url, name, day, path))
        _save(records)


def _hash(path: str) -> str:
    try:
        return source_hash(path)
    except OSError:
        return ""


def edited_revisions(snapshot: Snapshot) -> tuple[EditedRevision, ...]:
    """Applied revisions whose file differs from the one migtui applied, newest first."""
    db = snapshot.database
    if not db.reachable or not db.current_heads:
        return ()
    records = records_for(db)
    if not records:
        return ()
    applied = snapshot.applied
    found = []
    for rev in snapshot.graph:
        record = records.get(rev.revision)
        if record is None or rev.revision not in applied or not rev.path:
            continue
        now = _hash(rev.path)
        if now and now != record.sha256:
            found.append(EditedRevision(rev.revision, record.date, record.sha256, now,
                                        rev.path))
    return tuple(found)


def applied_version_diff(edited: EditedRevision) -> str | None:
    """A unified diff from the applied version of the file (found in git by its hash)
    to the file now; None when git has no copy of the applied version."""
    try:
        root = git.repo_root(os.path.dirname(edited.path))
        relative = git.relative_path(root, edited.path)
        for commit in git.file_versions(root, edited.path):
            try:
                old = git.show(root, commit, relative)
            except git.GitUnavailable:
                continue
            if hashlib.sha256(old).hexdigest() == edited.applied_sha256:
                now = Path(edited.path).read_bytes()
                return "".join(difflib.unified_diff(
                    old.decode("utf-8", "replace").splitlines(keepends=True),
                    now.decode("utf-8", "replace").splitlines(keepends=True),
                    f"applied ({commit[:10]})", "now"))
    except (git.GitUnavailable, OSError):
        return None
    return None
