"""The autogenerate comparison itself, run through the project's env.py.

``migtui.core.autogen.diff`` runs this in a child process (so the user's model modules are
imported fresh every time); the functions here only ever run in that child.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import RevisionContext
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from migtui.core.actions.project import Project
from migtui.core.autogen.choices import Choices, RenameCandidate
from migtui.core.autogen.diff import AutogenDiff, DiffState, PendingOperation, rename_hints
from migtui.core.autogen.edit import apply_choices, postgresql_cast, type_narrowing
from migtui.core.autogen.reflection_cache import dump, load, reusing, schema_key
from migtui.core.autogen.renames import Entry, Pair, make_key, rename_column_op, rename_pairs
from migtui.core.autogen.render import (
    body_digest,
    count,
    identify,
    operation,
    render_file,
    type_name,
)
from migtui.core.autogen.render import python as render_python
from migtui.core.env.imported import failed_files, project_files
from migtui.core.env.looking import SqliteFileMissing
from migtui.core.env.runner import run_env
from migtui.core.env.status import context_url
from migtui.core.errors import PlanChanged, from_exception

_COMMAND_ARGS: dict[str, Any] = dict(
    message=None, autogenerate=True, sql=False, head="head", splice=False,
    branch_label=None, version_path=None, rev_id=None, depends_on=None,
)


class Reflection:
    """What a comparison read of the schema, for the next one (``reflection_cache``)."""

    def __init__(self, blob: str = "") -> None:
        self.blob = blob
        self.reused = False  # this comparison started from the last one's reading


def compare(project: Project, choices: Choices | None = None,
            reflection: Reflection | None = None) -> AutogenDiff:
    """Run autogenerate's comparison through env.py and describe every operation.

    Works like ``alembic check``: nothing is written and the database is only read
    (``dont_mutate``: no alembic_version table is created). When the database is behind
    head the comparison still runs, against what the database has applied. The revision
    file is rendered with ``choices`` applied (those that still apply are kept).
    With ``reflection``, what the last comparison read of an SQLite schema is reused if
    the schema is the same, and what this one read is left there.
    """
    graph = project.graph()
    script = project.script()
    env_file = str(Path(script.dir, "env.py"))
    revision_context = RevisionContext(project.config, script, dict(_COMMAND_ARGS))
    found: dict[str, Any] = {}

    def compare_fn(rev: Any, context: MigrationContext) -> list[Any]:
        url = context_url(context)
        if url is not None:
            found["url"] = url
        found["dialect"] = context.dialect.name
        found["current"] = tuple(context.get_current_heads())
        if context.opts.get("target_metadata") is None:
            found["no_metadata"] = True
            return []
        key = _schema_key(context) if reflection is not None else None
        if key is None or reflection is None or context.connection is None:
            _run_autogenerate(context)
            return []
        entries = load(reflection.blob, key)
        with reusing(context.connection, entries) as cache:
            _run_autogenerate(context)
        # Kept only if nobody changed the schema while it was read.
        reflection.blob = dump(cache, key) if _schema_key(context) == key else ""
        reflection.reused = bool(entries)
        return []

    def _run_autogenerate(context: MigrationContext) -> None:
        # Passing the script heads skips Alembic's "Target database is not up to date"
        # refusal: the comparison is against what the database has applied.
        revision_context.run_autogenerate(tuple(script.get_heads()), context)
        found.update(_describe(revision_context, context, script, choices or Choices()))

    base = AutogenDiff(state=DiffState.ERROR, heads=graph.heads, env_file=env_file)
    try:
        out = run_env(
            project.config, script, compare_fn, as_sql=False, dont_mutate=True,
            template_args=revision_context.template_args,
            revision_context=revision_context,
        )
    except SqliteFileMissing as exc:
        return _replace(base, state=DiffState.NO_DATABASE, behind=len(graph), dialect="sqlite",
                        url=exc.url, error=f"{exc.path} does not exist yet")
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # env.py and the models may raise anything
        err = from_exception(exc, "Cannot compare the models with the database")
        # The files to watch: saving the broken one again compares again.
        watched = {*_model_files(script.dir), *failed_files(exc, [script.dir])}
        return _replace(base, error=err.message, error_details=err.details,
                        url=found.get("url", ""), dialect=found.get("dialect", ""),
                        model_files=tuple(sorted(watched)))
    log = tuple(out.lines)
    if "current" not in found:
        return _replace(base, log=log,
                        error="env.py did not connect to the database (is it in offline mode?)")
    current = found["current"]
    behind = len(graph.ancestors(graph.heads) - graph.ancestors(current))
    base = _replace(base, url=found.get("url", ""), dialect=found["dialect"],
                    current_heads=current, behind=behind, log=log)
    if found.get("no_metadata"):
        return _replace(base, state=DiffState.NO_METADATA)
    operations: tuple[PendingOperation, ...] = found.get("operations", ())
    renames: tuple[RenameCandidate, ...] = found.get("renames", ())
    return _replace(
        base,
        state=DiffState.DIFFERS if operations else DiffState.MATCHES,
        operations=operations,
        revision_file=found.get("file", ""),
        rename_hints=rename_hints(operations),
        renames=renames,
        choices=found.get("choices", Choices()),
        body_digest=found.get("body", ""),
        model_files=_model_files(script.dir),
        reused_schema=reflection is not None and reflection.reused,
    )


def _schema_key(context: MigrationContext) -> str | None:
    """The key of the schema the comparison reads (None: no reuse; see reflection_cache)."""
    if context.connection is None:
        return None
    try:
        return schema_key(context.connection)
    except Exception:  # it cannot be read: read the schema afresh, as always
        return None


def _replace(diff: AutogenDiff, **changes: Any) -> AutogenDiff:
    from dataclasses import replace

    return replace(diff, **changes)


def _describe(revision_context: RevisionContext, context: MigrationContext,
              script: ScriptDirectory, choices: Choices) -> dict[str, Any]:
    """Every upgrade operation as data, the renames offered, and the revision file that
    would be written with the choices that still apply."""
    scripts = revision_context.generated_revisions
    if not scripts:  # env.py's process_revision_directives dropped the revision
        return {}
    migration_script = scripts[-1]
    autogen_context: AutogenContext = revision_context._last_autogen_context
    batch = bool(autogen_context.opts.get("render_as_batch"))
    entries = entries_of(migration_script, context)
    described = tuple(operation(e, autogen_context, context, batch) for e in entries)
    pairs = rename_pairs(entries, context)
    renames = tuple(_candidate(p, autogen_context, context) for p in pairs)
    casts = {op.key: op.cast for op in described if op.cast}
    choices = choices.still_applying({e.key for e in entries}, {p.key for p in pairs},
                                     set(casts))
    apply_choices(migration_script, entries, pairs, choices, casts, context)
    if choices.casts:  # a chosen cast's operation as the file holds it: with the cast
        described = tuple(operation(e, autogen_context, context, batch)
                          if e.key in choices.casts else op
                          for e, op in zip(entries, described, strict=True))
    body = body_digest(migration_script, autogen_context)
    revision_file = render_file(revision_context, migration_script, autogen_context, script)
    return {"operations": described, "renames": renames, "choices": choices,
            "file": revision_file, "body": body}


def entries_of(migration_script: ops.MigrationScript, context: MigrationContext) -> list[Entry]:
    """The upgrade's operations in order, each with the key the screen's choices use."""
    seen: dict[str, int] = {}
    entries: list[Entry] = []
    for upgrade_ops in migration_script.upgrade_ops_list:
        for op in upgrade_ops.ops:
            children = op.ops if isinstance(op, ops.ModifyTableOps) else [op]
            parent = op if isinstance(op, ops.ModifyTableOps) else None
            for child in children:
                kind, table, schema, name = identify(child, parent, context)[:4]
                entries.append(Entry(make_key(kind, schema, table, name, seen), child, parent))
    return entries


CHANGED_SINCE_REVIEW = (
    "The models or the database changed after you reviewed the operations: nothing was "
    "written. The list shows them as they are now; press n to write those")


def write_with_choices(project: Project, message: str, choices: Choices,
                       reviewed: str = "") -> Any:
    """``alembic revision --autogenerate`` with the user's choices applied to the
    directives after env.py's own process_revision_directives, as the preview applies
    them. With ``reviewed`` (the preview's body_digest), PlanChanged is raised before
    anything is written unless the file would hold exactly what the preview showed."""
    def edit(context: MigrationContext, _revision: Any, directives: list[Any]) -> None:
        if not directives:
            return
        migration_script = directives[-1]
        entries = entries_of(migration_script, context)
        pairs = rename_pairs(entries, context)
        casts = {e.key: cast for e in entries
                 if isinstance(e.op, ops.AlterColumnOp)
                 and (cast := postgresql_cast(e.op, context.dialect))}
        apply_choices(migration_script, entries, pairs, choices, casts, context)
        if reviewed and body_digest(migration_script, AutogenContext(context)) != reviewed:
            raise PlanChanged(CHANGED_SINCE_REVIEW, "The operations autogenerate found as "
                              "the file was about to be written differ from the ones shown.")

    def first(context: MigrationContext, revision: Any, directives: list[Any]) -> None:
        # Alembic calls the command's hook before env.py's (RevisionContext), and reads
        # env.py's from the context's options after this returns: chained there, the
        # choices are applied, and the operations checked, after env.py's hook.
        own = context.opts.get("process_revision_directives")

        def env_py_then_edit(ctx: MigrationContext, rev: Any, found: list[Any]) -> None:
            if own is not None:
                own(ctx, rev, found)
            edit(ctx, rev, found)

        context.opts["process_revision_directives"] = env_py_then_edit

    # (tests/test_autogen_review.py fails if an Alembic calls the hooks otherwise)
    return project.new_revision(message, autogenerate=True, process_revision_directives=first)


def _candidate(pair: Pair, autogen_context: AutogenContext,
               context: MigrationContext) -> RenameCandidate:
    """A rename offered, with its evidence read from the live database."""
    if pair.what == "table":
        rows = count(context, pair.old, pair.schema)
        python = render_python(ops.RenameTableOp(pair.old, pair.new, schema=pair.schema),
                               None, autogen_context)
        return RenameCandidate(pair.key, "table", pair.old, pair.schema, pair.old, pair.new,
                               pair.drop.key, pair.add.key, rows=rows, values=rows,
                               python=python, carried=tuple(e.key for e in pair.carried))
    old, new = pair.drop.op.to_column(), pair.add.op.column
    rename = rename_column_op(pair, context)
    return RenameCandidate(
        pair.key, "column", pair.table, pair.schema, pair.old, pair.new,
        pair.drop.key, pair.add.key,
        old_type=type_name(old.type, context), new_type=type_name(new.type, context),
        old_nullable=bool(old.nullable), new_nullable=bool(new.nullable),
        old_position=_position(context, pair.table, pair.schema, pair.old),
        new_position=_new_position(new),
        rows=count(context, pair.table, pair.schema),
        values=count(context, pair.table, pair.schema, pair.old, not_null=True),
        python=render_python(rename, pair.drop.parent, autogen_context),
        warning=type_narrowing(old.type, new.type),
        carried=tuple(e.key for e in pair.carried))


def _position(context: MigrationContext, table: str, schema: str | None,
              column: str) -> int | None:
    conn = context.connection
    try:
        names = [c["name"] for c in sa.inspect(conn).get_columns(table, schema=schema)]
        return names.index(column) + 1
    except Exception:
        return None


def _new_position(column: sa.Column[Any]) -> int | None:
    table = getattr(column, "table", None)
    if not isinstance(table, sa.Table):
        return None
    names = [c.name for c in table.columns]
    return names.index(column.name) + 1 if column.name in names else None


def _model_files(script_dir: str) -> tuple[str, ...]:
    """The source files of the user's modules env.py imported (the models), outside
    Python's own folders and this package; revision files excluded."""
    return tuple(sorted(project_files(exclude=[script_dir])))
