"""How a pending operation is shown: its Python as autogenerate renders it, its SQL for
the database's dialect, the live rows it touches, and the revision file as a whole.

Runs in the comparison's child process, with the live MigrationContext of env.py.
"""

from __future__ import annotations

import hashlib
import io
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

from migtui.core.autogen.diff import PendingOperation
from migtui.core.autogen.edit import postgresql_cast, type_narrowing
from migtui.core.autogen.renames import Entry, type_text
from migtui.core.checks.batch_sql import live_table
from migtui.core.checks.typefit import type_fit
from migtui.core.errors import from_exception

_COMMAND_ARGS: dict[str, Any] = dict(
    message=None, autogenerate=True, sql=False, head="head", splice=False,
    branch_label=None, version_path=None, rev_id=None, depends_on=None,
)
def render_file(
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


PREVIEW_MESSAGE = "(the message you give when writing it)"


def body_digest(migration_script: ops.MigrationScript, autogen_context: AutogenContext) -> str:
    """A digest of what the revision file's upgrade and downgrade hold (their bodies and
    imports, as Alembic renders them): equal for the preview and the file written from
    the same operations, whatever their revision id and date."""
    template_args: dict[str, Any] = {}
    saved = autogen_context.imports
    autogen_context.imports = set(migration_script.imports or ())
    try:
        _render_python_into_templatevars(autogen_context, migration_script, template_args)
    finally:
        autogen_context.imports = saved
    text = "\n".join(f"{key}\n{value}" for key, value in sorted(template_args.items()))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()

def python(op: Any, parent: ops.ModifyTableOps | None, autogen_context: AutogenContext) -> str:
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
            conn = context.connection
            copy_from = live_table(conn, parent.table_name, parent.schema) if conn else None
            with operations.batch_alter_table(
                parent.table_name, schema=parent.schema, copy_from=copy_from
            ) as batch_op:
                batch_op.invoke(op)
        else:
            operations.invoke(op)
    except Exception as exc:
        return "", from_exception(exc).message
    return buffer.getvalue().strip(), ""


def count(context: MigrationContext, table: str, schema: str | None,
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


def type_name(type_: Any, context: MigrationContext) -> str:
    """The type as the database's dialect writes it."""
    return type_text(type_, context.dialect)


def operation(entry: Entry, autogen_context: AutogenContext, context: MigrationContext,
               batch: bool) -> PendingOperation:
    """One operation as data: kind, name, details, Python, SQL and warnings."""
    op, parent = entry.op, entry.parent
    kind, table, schema, name, detail, warning, null_count = identify(op, parent, context)
    if context.dialect.name == "sqlite" and not batch:
        warning = "; ".join(w for w in (warning, _sqlite_needs_batch(op)) if w)
    sql, sql_error = _sql(op, parent, context, batch)
    cast, fit = "", ""
    if isinstance(op, ops.AlterColumnOp) and op.modify_type is not None:
        cast = postgresql_cast(op, context.dialect)
        fit = "; ".join(type_fit(op, context.connection, batch))
    return PendingOperation(
        kind=kind, table=table, schema=schema, name=name, detail=detail,
        python=python(op, parent, autogen_context), sql=sql, sql_error=sql_error,
        warning=warning, null_count=null_count, key=entry.key, cast=cast, fit=fit,
    )


def identify(op: Any, parent: ops.ModifyTableOps | None, context: MigrationContext
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
        rows = count(context, op.table_name, schema)
        warning = f"drops the table and its {_rows(rows)}"
    elif isinstance(op, ops.AddColumnOp):
        column = op.column
        kind, name = "add column", column.name
        nullable = "NULL" if column.nullable else "NOT NULL"
        detail = f"{type_name(column.type, context)} {nullable}"
        if not column.nullable and column.server_default is None:
            rows = count(context, table, schema)
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


_BATCH = ("the upgrade fails unless env.py passes render_as_batch=True to "
          "context.configure (Alembic then copies the table)")


def _sqlite_needs_batch(op: Any) -> str:
    """Why SQLite cannot run this operation as an ALTER statement ("" if it can)."""
    if isinstance(op, ops.AlterColumnOp) and (
            op.modify_type is not None or op.modify_nullable is not None
            or op.modify_server_default is not False):
        return f"SQLite cannot change a column in place: {_BATCH}"
    if isinstance(op, (ops.CreateForeignKeyOp, ops.CreateUniqueConstraintOp,
                       ops.CreateCheckConstraintOp, ops.DropConstraintOp)):
        return f"SQLite cannot add or drop a constraint of a table: {_BATCH}"
    return ""


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
        old, new = type_name(op.existing_type, context), type_name(op.modify_type, context)
        changes.append(("type change", f"type {old} → {new}"))
        narrowing = type_narrowing(op.existing_type, op.modify_type)
        if narrowing:
            warnings.append(f"{narrowing} ({old} → {new})")
    if op.modify_nullable is not None:
        becomes = "NULL" if op.modify_nullable else "NOT NULL"
        changes.append(("nullable change", f"→ {becomes}"))
        if op.modify_nullable is False:
            null_count = count(context, table, schema, op.column_name)
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
