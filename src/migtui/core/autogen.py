"""What autogenerate would write for the models as they are on disk now.

The comparison (and writing a revision from it) runs in a child process of the same
interpreter, in the project's working folder, exactly like ``alembic revision
--autogenerate`` would: env.py imports the user's models fresh every time. Running it
in this process instead would reuse the model modules Python cached on the first run
(and SQLModel / declarative metadata is global, so re-importing a changed model class
fails with "Table already defined"): edits to the models would never show.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, fields
from enum import Enum
from pathlib import Path
from typing import Any

from migtui.core.config import ProjectOptions
from migtui.core.errors import MigtuiError, from_exception, one_line
from migtui.core.models import ActionResult
from migtui.core.project import Project
from migtui.core.urls import scrub_secrets

_MARK = "@@migtui-autogen@@ "
_TIMEOUT = 600.0


class DiffState(str, Enum):
    """What the comparison of the models with the database found."""

    DIFFERS = "differs"
    MATCHES = "matches"
    NO_METADATA = "no target_metadata"
    NO_DATABASE = "no database"
    ERROR = "error"


@dataclass(frozen=True)
class PendingOperation:
    """One operation autogenerate detected, as the revision file would hold it."""

    kind: str  # "add column", "drop table", "type change", ...
    table: str
    name: str  # the column, index, constraint or table the operation is about
    detail: str = ""
    python: str = ""  # the op.* call(s), as autogenerate renders them
    sql: str = ""  # for the database's dialect, rendered offline
    sql_error: str = ""
    warning: str = ""  # why it may lose data or fail; "" if it is safe
    null_count: int | None = None  # rows with NULL, for a change to NOT NULL
    schema: str | None = None

    @property
    def loses_data(self) -> bool:
        return bool(self.warning)


@dataclass(frozen=True)
class TableChanges:
    """The operations on one table, in the order autogenerate emits them."""

    table: str
    schema: str | None
    operations: tuple[PendingOperation, ...]

    @property
    def label(self) -> str:
        name = self.table or "(no table)"
        return f"{self.schema}.{name}" if self.schema else name


@dataclass(frozen=True)
class AutogenDiff:
    """The whole comparison: operations, the revision file, and the database's state."""

    state: DiffState
    operations: tuple[PendingOperation, ...] = ()
    revision_file: str = ""  # the file `n` would write (without its message and post-hooks)
    url: str = ""  # password masked
    dialect: str = ""
    current_heads: tuple[str, ...] = ()
    heads: tuple[str, ...] = ()
    behind: int = 0  # revisions between the database and head
    rename_hints: tuple[str, ...] = ()
    env_file: str = ""
    error: str = ""
    error_details: str = ""
    log: tuple[str, ...] = ()

    @property
    def at_head(self) -> bool:
        return self.behind == 0

    @property
    def tables(self) -> tuple[TableChanges, ...]:
        """The operations grouped by table, tables in the order they first appear."""
        groups: dict[tuple[str, str | None], list[PendingOperation]] = {}
        for op in self.operations:
            groups.setdefault((op.table, op.schema), []).append(op)
        return tuple(TableChanges(t, s, tuple(o)) for (t, s), o in groups.items())


def rename_hints(operations: tuple[PendingOperation, ...]) -> tuple[str, ...]:
    """Drops and adds on one table that may be renames, which autogenerate cannot see."""
    hints: list[str] = []
    tables: dict[str, tuple[list[str], list[str]]] = {}
    for op in operations:
        dropped, added = tables.setdefault(op.table, ([], []))
        if op.kind == "drop column":
            dropped.append(op.name)
        elif op.kind == "add column":
            added.append(op.name)
    for table, (dropped, added) in tables.items():
        if dropped and added:
            hints.append(
                f"{table}: {', '.join(dropped)} dropped and {', '.join(added)} added — "
                "possibly a rename, which autogenerate cannot detect; to keep the data, "
                f"edit the revision to op.alter_column({table!r}, {dropped[0]!r}, "
                f"new_column_name={added[0]!r})"
            )
    drops = [op.name for op in operations if op.kind == "drop table"]
    adds = [op.name for op in operations if op.kind == "add table"]
    if drops and adds:
        hints.append(
            f"table {', '.join(drops)} dropped and {', '.join(adds)} added — possibly a "
            f"rename (op.rename_table({drops[0]!r}, {adds[0]!r})), which autogenerate "
            "cannot detect"
        )
    return tuple(hints)


# -- the parent side ----------------------------------------------------------


def compute_diff(project: Project) -> AutogenDiff:
    """Compare the models on disk with the database through env.py; never raises.

    Blocks for as long as env.py and the comparison take (run it in a worker).
    """
    try:
        payload = _run_child(project.options, {"task": "diff"})
    except MigtuiError as exc:
        return AutogenDiff(DiffState.ERROR, error=exc.message, error_details=exc.details)
    if "error" in payload:
        return AutogenDiff(DiffState.ERROR, error=payload["error"],
                           error_details=payload.get("details", ""))
    return diff_from_dict(payload["diff"])


def write_revision(project: Project, message: str) -> ActionResult:
    """``alembic revision --autogenerate -m MESSAGE`` on the models as they are on disk."""
    if project.options.read_only:
        raise MigtuiError("This session is read-only (--read-only): nothing was written")
    if not message.strip():
        raise MigtuiError("A revision needs a message")
    try:
        payload = _run_child(project.options, {"task": "write", "message": message})
    except MigtuiError as exc:
        payload = {"error": exc.message, "details": exc.details}
    project.reload()
    if "error" in payload:
        return ActionResult("revision", message, False, (), (), (), 0.0,
                            error=payload["error"], error_details=payload.get("details", ""))
    return _result_from_dict(payload["result"])


def diff_from_dict(data: dict[str, Any]) -> AutogenDiff:
    """Rebuild an AutogenDiff from its JSON form."""
    values = _tuples(data, AutogenDiff)
    values["state"] = DiffState(data["state"])
    values["operations"] = tuple(PendingOperation(**op) for op in data["operations"])
    return AutogenDiff(**values)


def _result_from_dict(data: dict[str, Any]) -> ActionResult:
    return ActionResult(**_tuples(data, ActionResult))


def _tuples(data: dict[str, Any], cls: type) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONIOENCODING", "utf-8")
    return env


def _run_child(options: ProjectOptions, request: dict[str, Any]) -> dict[str, Any]:
    """Run one task in a fresh interpreter in the project's folder; its JSON answer."""
    request = {**request, "options": asdict(options)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from migtui.core.autogen import child_main; child_main()"],
            input=json.dumps(request), capture_output=True, text=True, cwd=options.cwd,
            env=_child_env(), timeout=_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise MigtuiError(f"autogenerate did not finish within {_TIMEOUT:.0f} s") from exc
    except OSError as exc:
        raise from_exception(exc, "Cannot start the autogenerate process") from exc
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(_MARK):
            answer: dict[str, Any] = json.loads(line[len(_MARK):])
            return answer
    details = scrub_secrets((done.stderr or "") + (done.stdout or ""))
    last = details.strip().splitlines()[-1] if details.strip() else ""
    raise MigtuiError(
        f"The autogenerate process ended without an answer (exit status {done.returncode})"
        + (f": {one_line(last)}" if last else ""), details)


# -- the child side -----------------------------------------------------------


def child_main() -> None:
    """Entry point of the child process: read the request on stdin, answer on stdout."""
    answer_to = sys.stdout
    request = json.loads(sys.stdin.read())
    options = ProjectOptions(**_tuples(request["options"], ProjectOptions))
    payload: dict[str, Any]
    try:
        project = Project.open(options)
        if request["task"] == "write":
            result = project.new_revision(request["message"], autogenerate=True)
            payload = {"result": asdict(result)}
        else:
            from migtui.core.autogen_compare import compare

            payload = {"diff": asdict(compare(project))}
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        err = from_exception(exc, "" if isinstance(exc, MigtuiError) else "autogenerate failed")
        payload = {"error": err.message, "details": err.details}
    answer_to.write(_MARK + json.dumps(payload, default=str) + "\n")
    answer_to.flush()
