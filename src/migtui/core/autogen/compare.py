"""The autogenerate comparison itself, run through the project's env.py.

``migtui.core.autogen.diff`` runs this in a child process (so the user's model modules are
imported fresh every time); the functions here only ever run in that child.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import util as alembic_util
from alembic.autogenerate import RevisionContext
from alembic.autogenerate.api import AutogenContext
from alembic.autogenerate.render import _render_python_into_templatevars, render_op
from alembic.operations import Operations, ops
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import tuple_rev_as_scalar
from mako.pygen import PythonPrinter  # type: ignore[import-untyped]
from mako.template import Template  # type: ignore[import-untyped]

from migtui.core.actions.project import Project
from migtui.core.autogen.choices import Choices, RenameCandidate
from migtui.core.autogen.diff import AutogenDiff, DiffState, PendingOperation, rename_hints
from migtui.core.autogen.edit import (
    Entry,
    Pair,
    apply_choices,
    make_key,
    postgresql_cast,
    rename_column_op,
    rename_pairs,
    type_narrowing,
)
from migtui.core.checks.typefit import type_fit
from migtui.core.env.looking import SqliteFileMissing
from migtui.core.env.runner import run_env
from migtui.core.env.urls import mask_url, remember_secret
from migtui.core.errors import from_exception

_COMMAND_ARGS: dict[str, Any] = dict(
    message=None, autogenerate=True, sql=False, head="head", splice=False,
    branch_label=None, version_path=None, rev_id=None, depends_on=None,
)
PREVIEW_MESSAGE = "(the message you give when writing it)"


def compare(project: Project, choices: Choices | None = None) -> AutogenDiff:
    """Run autogenerate's comparison through env.py and describe every operation.

    Works like ``alembic check``: nothing is written and the database is only read
    (``dont_mutate``: no alembic_version table is created). When the database is behind
    head the comparison still runs, against what the database has applied. The revision
    file is rendered with ``choices`` applied (those that still apply are kept).
    """
    graph = project.graph()
    script = project.script()
    env_file = str(Path(script.dir, "env.py"))
    revision_context = RevisionContext(project.config, script, dict(_COMMAND_ARGS))
    found: dict[str, Any] = {}

    def compare_fn(rev: Any, context: MigrationContext) -> list[Any]:
        conn = context.connection
        if conn is not None:
            remember_secret(conn.engine.url)
            found["url"] = mask_url(conn.engine.url)
        found["dialect"] = context.dialect.name
        found["current"] = tuple(context.get_current_heads())
        if context.opts.get("target_metadata") is None:
            found["no_metadata"] = True
            return []
        # Passing the script heads skips Alembic's "Target database is not up to date"
        # refusal: the comparison is against what the database has applied.
        revision_context.run_autogenerate(tuple(script.get_heads()), context)
        found.update(_describe(revision_context, context, script, choices or Choices()))
        return []

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
        return _replace(base, error=err.message, error_details=err.details,
                        url=found.get("url", ""), dialect=found.get("dialect", ""))
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
        model_files=_model_files(script.dir),
    )


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
    described = tuple(_operation(e, autogen_context, context, batch) for e in entries)
    pairs = rename_pairs(entries, context.dialect)
    renames = tuple(_candidate(p, autogen_context, context) for p in pairs)
    casts = {op.key: op.cast for op in described if op.cast}
    choices = choices.still_applying({e.key for e in entries}, {p.key for p in pairs},
                                     set(casts))
    apply_choices(migration_script, entries, pairs, choices, casts, context.dialect)
    revision_file = _render_file(revision_context, migration_script, autogen_context, script)
    return {"operations": described, "renames": renames, "choices": choices,
            "file": revision_file}


def entries_of(migration_script: ops.MigrationScript, context: MigrationContext) -> list[Entry]:
    """The upgrade's operations in order, each with the key the screen's choices use."""
    seen: dict[str, int] = {}
    entries: list[Entry] = []
    for upgrade_ops in migration_script.upgrade_ops_list:
        for op in upgrade_ops.ops:
            children = op.ops if isinstance(op, ops.ModifyTableOps) else [op]
            parent = op if isinstance(op, ops.ModifyTableOps) else None
            for child in children:
                kind, table, schema, name = _identify(child, parent, context)[:4]
                entries.append(Entry(make_key(kind, schema, table, name, seen), child, parent))
    return entries


def write_with_choices(project: Project, message: str, choices: Choices) -> Any:
    """``alembic revision --autogenerate`` with the user's choices applied to the
    directives (after env.py's own process_revision_directives)."""
    def edit(context: MigrationContext, _revision: Any, directives: list[Any]) -> None:
        if not directives:
            return
        migration_script = directives[-1]
        entries = entries_of(migration_script, context)
        pairs = rename_pairs(entries, context.dialect)
        casts = {e.key: cast for e in entries
                 if isinstance(e.op, ops.AlterColumnOp)
                 and (cast := postgresql_cast(e.op, context.dialect))}
        apply_choices(migration_script, entries, pairs, choices, casts, context.dialect)

    return project.new_revision(message, autogenerate=True, process_revision_directives=edit)


def _candidate(pair: Pair, autogen_context: AutogenContext,
               context: MigrationContext) -> RenameCandidate:
    """A rename offered, with its evidence read from the live database."""
    if pair.what == "table":
        rows = _count(context, pair.old, pair.schema)
        python = _python(ops.RenameTableOp(pair.old, pair.new, schema=pair.schema), None,
                         autogen_context)
        return RenameCandidate(pair.key, "table", pair.old, pair.schema, pair.old, pair.new,
                               pair.drop.key, pair.add.key, rows=rows, values=rows,
                               python=python)
    old, new = pair.drop.op.to_column(), pair.add.op.column
    rename = rename_column_op(pair, context.dialect)
    return RenameCandidate(
        pair.key, "column", pair.table, pair.schema, pair.old, pair.new,
        pair.drop.key, pair.add.key,
        old_type=_type_name(old.type, context), new_type=_type_name(new.type, context),
        old_nullable=bool(old.nullable), new_nullable=bool(new.nullable),
        old_position=_position(context, pair.table, pair.schema, pair.old),
        new_position=_new_position(new),
        rows=_count(context, pair.table, pair.schema),
        values=_count(context, pair.table, pair.schema, pair.old, not_null=True),
        python=_python(rename, pair.drop.parent, autogen_context),
        warning=type_narrowing(old.type, new.type))


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
    skip = [str(Path(s).resolve()) for s in (sys.prefix, sys.base_prefix, sys.exec_prefix)]
    skip += [str(Path(__file__).parents[2].resolve()), str(Path(script_dir).resolve())]
    files: set[str] = set()
    for name, module in list(sys.modules.items()):
        path = None if name == "__main__" else getattr(module, "__file__", None)
        if not path or not str(path).endswith(".py"):
            continue
        resolved = str(Path(path).resolve())
        if not any(resolved.startswith(s + os.sep) for s in skip):
            files.add(resolved)
    return tuple(sorted(files))


def _render_file(
    revision_context: RevisionContext, migration_script: ops.MigrationScript,
    autogen_context: AutogenContext, script: ScriptDirectory,
) -> str:
    """The revision file's text, rendered from script.py.mako as Alembic would write it."""
    try:
        template_args: dict[str, Any] = dict(revision_context.template_args)
        autogen_context.imports = set(migration_script.imports or ())
        _render_python_into_templatevars(autogen_context, migration_script, template_args)
        heads = script.revision_map.get_revisions(migration_script.head)
        template = Template(filename=str(Path(script.dir, "script.py.mako")))
        return str(template.render_unicode(
            up_revision=str(migration_script.rev_id),
            down_revision=tuple_rev_as_scalar(
                tuple(h.revision for h in heads if h and not isinstance(h, str))),
            branch_labels=alembic_util.to_tuple(migration_script.branch_label),
            depends_on=None,
            create_date=script._generate_create_date(),
            comma=alembic_util.format_as_comma,
            message=migration_script.message or PREVIEW_MESSAGE,
            **template_args,
        ))
    except Exception as exc:
        return f"# The revision file cannot be previewed: {from_exception(exc).message}\n"


def _python(op: Any, parent: ops.ModifyTableOps | None, autogen_context: AutogenContext) -> str:
    try:
        if parent is not None:
            op = ops.ModifyTableOps(parent.table_name, [op], schema=parent.schema)
        buffer = io.StringIO()
        printer = PythonPrinter(buffer)
        for line in render_op(autogen_context, op):
            printer.writeline(line)
        printer.close()
        return buffer.getvalue().rstrip()
    except Exception as exc:
        return f"# cannot render: {from_exception(exc).message}"


def _sql(op: Any, parent: ops.ModifyTableOps | None, context: MigrationContext,
         batch: bool) -> tuple[str, str]:
    """The op's SQL for the database's dialect, rendered offline: (sql, error)."""
    buffer = io.StringIO()
    offline = MigrationContext.configure(
        dialect=context.dialect,
        opts={"as_sql": True, "output_buffer": buffer, "literal_binds": True},
    )
    operations = Operations(offline)
    if isinstance(op, ops.AddColumnOp):  # the file renders the column without index=True
        column = op.column._copy()
        column.index = column.unique = None
        op = ops.AddColumnOp(op.table_name, column, schema=op.schema)
    try:
        if parent is not None and batch:
            copy_from = _reflect(context, parent.table_name, parent.schema)
            with operations.batch_alter_table(
                parent.table_name, schema=parent.schema, copy_from=copy_from
            ) as batch_op:
                batch_op.invoke(op)
        else:
            operations.invoke(op)
    except Exception as exc:
        return "", from_exception(exc).message
    return buffer.getvalue().strip(), ""


def _reflect(context: MigrationContext, table: str, schema: str | None) -> sa.Table | None:
    conn = context.connection
    if conn is None or not sa.inspect(conn).has_table(table, schema=schema):
        return None
    return sa.Table(table, sa.MetaData(), schema=schema, autoload_with=conn)


def _count(context: MigrationContext, table: str, schema: str | None,
           null_column: str | None = None, not_null: bool = False) -> int | None:
    """Rows of a table (with NULL in one column, if given; or not NULL), read with a
    quoted SELECT."""
    conn = context.connection
    if conn is None:
        return None
    columns: list[sa.ColumnClause[Any]] = [sa.column(null_column)] if null_column else []
    target = sa.table(table, *columns, schema=schema)
    query = sa.select(sa.func.count()).select_from(target)
    if null_column:
        column = target.c[null_column]
        query = query.where(column.is_not(None) if not_null else column.is_(None))
    try:
        return int(conn.execute(query).scalar_one())
    except Exception:
        return None


def _type_name(type_: Any, context: MigrationContext) -> str:
    if type_ is None:
        return "?"
    try:
        return str(type_.compile(dialect=context.dialect))
    except Exception:
        return repr(type_)


def _operation(entry: Entry, autogen_context: AutogenContext, context: MigrationContext,
               batch: bool) -> PendingOperation:
    """One operation as data: kind, name, details, Python, SQL and warnings."""
    op, parent = entry.op, entry.parent
    kind, table, schema, name, detail, warning, null_count = _identify(op, parent, context)
    sql, sql_error = _sql(op, parent, context, batch)
    cast, fit = "", ""
    if isinstance(op, ops.AlterColumnOp) and op.modify_type is not None:
        cast = postgresql_cast(op, context.dialect)
        fit = "; ".join(type_fit(op, context.connection, batch))
    return PendingOperation(
        kind=kind, table=table, schema=schema, name=name, detail=detail,
        python=_python(op, parent, autogen_context), sql=sql, sql_error=sql_error,
        warning=warning, null_count=null_count, key=entry.key, cast=cast, fit=fit,
    )


def _identify(op: Any, parent: ops.ModifyTableOps | None, context: MigrationContext
              ) -> tuple[str, str, str | None, str, str, str, int | None]:
    """kind, table, schema, name, detail, warning and NULL count of one operation."""
    table = str(getattr(op, "table_name", None) or getattr(parent, "table_name", "") or "")
    schema = getattr(op, "schema", None) or getattr(parent, "schema", None)
    kind, name, detail, warning = type(op).__name__, "", "", ""
    null_count: int | None = None
    if isinstance(op, ops.CreateTableOp):
        kind, name = "add table", op.table_name
        detail = ", ".join(c.name for c in op.columns if isinstance(c, sa.Column))
    elif isinstance(op, ops.DropTableOp):
        kind, name = "drop table", op.table_name
        rows = _count(context, op.table_name, schema)
        warning = f"drops the table and its {_rows(rows)}"
    elif isinstance(op, ops.AddColumnOp):
        column = op.column
        kind, name = "add column", column.name
        nullable = "NULL" if column.nullable else "NOT NULL"
        detail = f"{_type_name(column.type, context)} {nullable}"
        if not column.nullable and column.server_default is None:
            rows = _count(context, table, schema)
            if rows:
                warning = (f"NOT NULL without a server default on a table with {_rows(rows)}:"
                           " the upgrade fails unless you give a default")
    elif isinstance(op, ops.DropColumnOp):
        kind, name = "drop column", op.column_name
        warning = "drops the column and every value in it"
    elif isinstance(op, ops.AlterColumnOp):
        kind, name, detail, warning, null_count = _alter(op, context, table, schema)
    elif isinstance(op, ops.CreateIndexOp):
        kind = "add unique index" if op.unique else "add index"
        name = str(op.index_name or "")
        detail = ", ".join(str(getattr(c, "name", c)) for c in op.columns)
    elif isinstance(op, ops.DropIndexOp):
        kind, name = "drop index", str(op.index_name or "")
    elif isinstance(op, ops.CreateUniqueConstraintOp):
        kind, name = "add unique constraint", str(op.constraint_name or "")
        detail = ", ".join(str(c) for c in op.columns)
    elif isinstance(op, ops.CreateForeignKeyOp):
        kind, name = "add foreign key", str(op.constraint_name or "")
        detail = f"({', '.join(op.local_cols)}) → {op.referent_table}({', '.join(op.remote_cols)})"
    elif isinstance(op, ops.DropConstraintOp):
        what = {"foreignkey": "foreign key", "unique": "unique constraint",
                "check": "check constraint", "primary": "primary key"}
        kind = f"drop {what.get(str(op.constraint_type), 'constraint')}"
        name = str(op.constraint_name or "")
    elif isinstance(op, ops.AddConstraintOp):
        kind, name = "add constraint", str(getattr(op, "constraint_name", "") or "")
    elif isinstance(op, (ops.CreateTableCommentOp, ops.DropTableCommentOp)):
        kind, name = "table comment", table
    elif isinstance(op, ops.ExecuteSQLOp):
        kind = "execute SQL"
    return kind, table, schema, name, detail, warning, null_count


def _rows(count: int | None) -> str:
    if count is None:
        return "rows"
    return f"{count} row" if count == 1 else f"{count} rows"


def _alter(op: ops.AlterColumnOp, context: MigrationContext, table: str,
           schema: str | None) -> tuple[str, str, str, str, int | None]:
    changes: list[tuple[str, str]] = []
    warnings: list[str] = []
    null_count: int | None = None
    if op.modify_type is not None:
        old, new = _type_name(op.existing_type, context), _type_name(op.modify_type, context)
        changes.append(("type change", f"type {old} → {new}"))
        narrowing = type_narrowing(op.existing_type, op.modify_type)
        if narrowing:
            warnings.append(f"{narrowing} ({old} → {new})")
    if op.modify_nullable is not None:
        becomes = "NULL" if op.modify_nullable else "NOT NULL"
        changes.append(("nullable change", f"→ {becomes}"))
        if op.modify_nullable is False:
            null_count = _count(context, table, schema, op.column_name)
            if null_count:
                warnings.append(f"{_rows(null_count)} have NULL in {op.column_name}: "
                                "the upgrade fails unless they are filled first")
    if op.modify_server_default is not False:
        old_default = _default_text(op.existing_server_default)
        new_default = _default_text(op.modify_server_default)
        changes.append(("default change", f"default {old_default} → {new_default}"))
    if op.modify_comment is not False:
        changes.append(("comment change", "comment"))
    if op.modify_name is not None:
        changes.append(("rename column", f"→ {op.modify_name}"))
    kind = changes[0][0] if len(changes) == 1 else "alter column"
    detail = "; ".join(text for _, text in changes)
    return kind, op.column_name, detail, "; ".join(warnings), null_count


def _default_text(default: Any) -> str:
    if default is None or default is False:
        return "none"
    arg = getattr(default, "arg", default)
    return str(getattr(arg, "text", arg))
