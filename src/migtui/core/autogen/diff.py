"""What autogenerate would write for the models as they are on disk now.

The comparison (and writing a revision from it) runs in a fresh process of the same
interpreter (``migtui.core.autogen.fresh_process``), in the project's working folder, as
``alembic revision --autogenerate`` would: env.py imports the user's models anew every
time. Running it in this process instead would reuse the model modules Python cached
on the first run (and SQLModel / declarative metadata is global, so re-importing a
changed model class fails with "Table already defined"): edits would never show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from migtui.core.actions.config import ProjectOptions
from migtui.core.actions.project import Project
from migtui.core.autogen.choices import Choices, RenameCandidate
from migtui.core.autogen.fresh_process import payload_fields, run_fresh
from migtui.core.errors import MigtuiError
from migtui.core.models import ActionResult


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
    key: str = ""  # names the operation across comparisons (Choices use it)
    cast: str = ""  # the postgresql_using a type change needs on PostgreSQL ('' if none)
    fit: str = ""  # a type change: values of the live data that do not fit the new type

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
    renames: tuple[RenameCandidate, ...] = ()  # drops + adds that may be renames
    choices: Choices = field(default_factory=Choices)  # those applied to revision_file
    # What revision_file's upgrade and downgrade hold (render.body_digest): `n` writes
    # the file only if the operations it would write still give the same.
    body_digest: str = ""
    model_files: tuple[str, ...] = ()  # source files of the user's modules env.py imported
    env_file: str = ""
    reused_schema: bool = False  # the database's schema as the last comparison read it
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


def compute_diff(project: Project, cancelled: Callable[[], bool] | None = None,
                 choices: Choices | None = None) -> AutogenDiff:
    """Compare the models on disk with the database through env.py; never raises.

    The revision file is rendered with ``choices`` (those that still apply) applied.

    Blocks for as long as env.py and the comparison take (run it in a worker), or until
    ``cancelled()`` turns true (the comparison's process is killed: an ERROR diff).
    """
    options = project.options
    request = {"task": "diff", "choices": _choices(choices),
               "reflection": _reflections.get(options, "")}
    try:
        payload = _run_child(options, request, cancelled)
    except MigtuiError as exc:
        return AutogenDiff(DiffState.ERROR, error=exc.message, error_details=exc.details)
    if "error" in payload:
        return AutogenDiff(DiffState.ERROR, error=payload["error"],
                           error_details=payload.get("details", ""))
    if payload.get("reflection"):
        _reflections[options] = payload["reflection"]
    else:
        _reflections.pop(options, None)
    return diff_from_dict(payload["diff"])


# What the last comparison of each project read of its (SQLite) schema, handed to the
# next one: reused only if the schema is still the same (core.autogen.reflection_cache).
_reflections: dict[ProjectOptions, str] = {}


def write_revision(project: Project, message: str,
                   cancelled: Callable[[], bool] | None = None,
                   choices: Choices | None = None, reviewed: str = "") -> ActionResult:
    """``alembic revision --autogenerate -m MESSAGE`` on the models as they are on disk,
    with the user's ``choices`` (rejected operations, renames, casts) applied.

    ``reviewed``: the ``body_digest`` of the diff the user saw. If the models (or the
    database) changed since, so that the file would hold other operations, nothing is
    written and the result says so (``plan_changed``).

    ``cancelled()`` turning true kills the process that writes it (a failed result).
    """
    if project.options.read_only:
        raise MigtuiError("This session is read-only (--read-only): nothing was written")
    if not message.strip():
        raise MigtuiError("A revision needs a message")
    try:
        payload = _run_child(project.options, {"task": "write", "message": message,
                                               "choices": _choices(choices),
                                               "reviewed": reviewed}, cancelled)
    except MigtuiError as exc:
        payload = {"error": exc.message, "details": exc.details}
    project.reload()
    if "error" in payload:
        return ActionResult("revision", message, False, (), (), (), 0.0,
                            error=payload["error"], error_details=payload.get("details", ""))
    return _result_from_dict(payload["result"])


def diff_from_dict(data: dict[str, Any]) -> AutogenDiff:
    """Rebuild an AutogenDiff from its JSON form."""
    values = payload_fields(AutogenDiff, data)
    values["state"] = DiffState(data["state"])
    values["operations"] = tuple(PendingOperation(**op) for op in data["operations"])
    values["renames"] = tuple(RenameCandidate(**{**r, "carried": tuple(r.get("carried", ()))})
                              for r in data.get("renames", ()))
    values["choices"] = Choices.from_dict(data.get("choices"))
    return AutogenDiff(**values)


def _result_from_dict(data: dict[str, Any]) -> ActionResult:
    return ActionResult(**payload_fields(ActionResult, data))


def _choices(choices: Choices | None) -> dict[str, Any]:
    return (choices or Choices()).to_dict()


def _run_child(options: ProjectOptions, request: dict[str, Any],
               cancelled: Callable[[], bool] | None) -> dict[str, Any]:
    """Run one task of this module in a fresh process in the project's folder."""
    return run_fresh("migtui.core.autogen.diff:run_task",
                     {**request, "options": asdict(options)}, options.cwd, cancelled=cancelled)


def run_task(request: dict[str, Any]) -> dict[str, Any]:
    """In the fresh process: compare (``diff``) or write a revision (``write``)."""
    from migtui.core.autogen.compare import Reflection, compare, write_with_choices

    options = ProjectOptions(**payload_fields(ProjectOptions, request["options"]))
    project = Project.open(options)
    choices = Choices.from_dict(request.get("choices"))
    if request["task"] == "write":
        result = write_with_choices(project, request["message"], choices,
                                    str(request.get("reviewed", "")))
        return {"result": asdict(result)}
    reflection = Reflection(request.get("reflection", ""))
    diff = compare(project, choices, reflection)
    return {"diff": {**asdict(diff), "choices": diff.choices.to_dict()},
            "reflection": reflection.blob}
