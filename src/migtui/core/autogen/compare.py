"""The autogenerate comparison itself, run through the project's env.py.

``migtui.core.autogen.diff`` runs this in a child process (so the user's model modules are
imported fresh every time); the functions here only ever run in that child.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, cast

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
from migtui.core.autogen.diff import AutogenDiff, DiffState, PendingOperation, rename_hints
from migtui.core.env.looking import SqliteFileMissing
from migtui.core.env.runner import run_env
from migtui.core.env.urls import mask_url, remember_secret
from migtui.core.errors import from_exception

_COMMAND_ARGS: dict[str, Any] = dict(
    message=None, autogenerate=True, sql=False, head="head", splice=False,
    branch_label=None, version_path=None, rev_id=None, depends_on=None,
)
PREVIEW_MESSAGE = "(the message you give when writing it)"


def compare(project: Project) -> AutogenDiff:
    """Run autogenerate's comparison through env.py and describe every operation.

    Works like ``alembic check``: nothing is written and the database is only read
    (``dont_mutate``: no alembic_version table is created). When the database is behind
    head the comparison still runs, against what the database has applied.
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
        found["operations"], found["file"] = _describe(revision_context, context, script)
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
    operations: tuple[PendingOperation, ...] = found["operations"]
    return _replace(
        base,
        state=DiffState.DIFFERS if operations else DiffState.MATCHES,
        operations=operations,
        revision_file=found["file"],
        rename_hints=rename_hints(operations),
    )


def _replace(diff: AutogenDiff, **changes: Any) -> AutogenDiff:
    from dataclasses import replace

    return replace(diff, **changes)


def _describe(
    revision_context: RevisionContext, context: MigrationContext, script: ScriptDirectory
) -> tuple[tuple[PendingOperation, ...], str]:
    """Every upgrade operation as data, and the revision file that would be written."""
    scripts = revision_context.generated_revisions
    if not scripts:  # env.py's process_revision_directives dropped the revision
        return (), ""
    migration_script = scripts[-1]
    autogen_context: AutogenContext = revision_context._last_autogen_context
    revision_file = _render_file(revision_context, migration_script, autogen_context, script)
    batch = bool(autogen_context.opts.get("render_as_batch"))
    described: list[PendingOperation] = []
    for upgrade_ops in migration_script.upgrade_ops_list:
        for op in upgrade_ops.ops:
            if isinstance(op, ops.ModifyTableOps):
                for child in op.ops:
                    described.append(_operation(child, op, autogen_context, context, batch))
            else:
                described.append(_operation(op, None, autogen_context, context, batch))
    return tuple(described), revision_file


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
           null_column: str | None = None) -> int | None:
    """Rows of a table (with NULL in one column, if given), read with a quoted SELECT."""
    conn = context.connection
    if conn is None:
        return None
    columns: list[sa.ColumnClause[Any]] = [sa.column(null_column)] if null_column else []
    target = sa.table(table, *columns, schema=schema)
    query = sa.select(sa.func.count()).select_from(target)
    if null_column:
        query = query.where(target.c[null_column].is_(None))
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


def _operation(op: Any, parent: ops.ModifyTableOps | None, autogen_context: AutogenContext,
               context: MigrationContext, batch: bool) -> PendingOperation:
    """One operation as data: kind, name, details, Python, SQL and warnings."""
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
    sql, sql_error = _sql(op, parent, context, batch)
    return PendingOperation(
        kind=kind, table=table, schema=schema, name=name, detail=detail,
        python=_python(op, parent, autogen_context), sql=sql, sql_error=sql_error,
        warning=warning, null_count=null_count,
    )


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


_INT_RANK = {"SmallInteger": 0, "Integer": 1, "BigInteger": 2}


def type_narrowing(old: Any, new: Any) -> str:
    """Why changing a column from ``old`` to ``new`` may lose data ('' when it widens)."""
    if old is None or new is None:
        return ""
    if isinstance(old, sa.String) and isinstance(new, sa.String):
        old_len, new_len = old.length, new.length
        if new_len is not None and (old_len is None or new_len < old_len):
            return "narrows the type: longer values are cut or the upgrade fails"
        return ""
    if isinstance(old, sa.Integer) and isinstance(new, sa.Integer):
        def rank(t: Any) -> int:
            for cls in type(t).__mro__:
                if cls.__name__ in _INT_RANK:
                    return _INT_RANK[cls.__name__]
            return 1
        return "narrows the type: large values do not fit" if rank(new) < rank(old) else ""
    if isinstance(old, sa.Integer) and isinstance(new, (sa.Numeric, sa.String)):
        return ""
    if isinstance(old, sa.Numeric) and isinstance(new, sa.Numeric):
        narrower = any(
            getattr(new, attr, None) is not None
            and (getattr(old, attr, None) is None or getattr(new, attr) < getattr(old, attr))
            for attr in ("precision", "scale")
        )
        return "narrows the type: digits are lost" if narrower else ""
    if isinstance(old, sa.DateTime) and isinstance(new, sa.Date):
        return "narrows the type: the time of day is lost"
    if type(old) is type(new) or _affinity(old) is _affinity(new):
        return ""
    return "changes the kind of type: values that do not convert are lost or fail"


def _affinity(type_: Any) -> type:
    """The generic SQLAlchemy type a dialect type belongs to (TIMESTAMP -> DateTime)."""
    try:
        return cast(type, type_._type_affinity)
    except Exception:
        return type(type_)
