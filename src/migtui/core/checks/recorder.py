"""What a revision's upgrade() or downgrade() will do, recorded without a database.

The function runs exactly as ``alembic upgrade --sql`` would run it (an offline
MigrationContext for the database's dialect, the ``op`` proxy installed), except that
every operation is recorded instead of rendered: ``op.add_column(...)`` reaches
``Operations.invoke`` as an ``AddColumnOp`` carrying the real ``Column``, with its
type, nullability and server default. That is what the risk checks need, and it
sees what a static reading cannot: operations built in loops, helper functions,
names held in variables, and the table of every ``batch_alter_table``.

Why not Alembic's offline SQL? The SQL has lost the structure (is this ALTER adding
a NOT NULL column? which columns does that index cover?), and SQLite batch
operations cannot be rendered offline at all. Why not only the source reading
(``core.revisions.source``)? It sees literal ``op.*`` calls and nothing else. The source
reading stays as the fallback when the function cannot run offline (it queries
the database through ``op.get_bind()``), and for the cheap marks in graph rows.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from alembic.operations import Operations
from alembic.operations import ops as alembic_ops
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column
from sqlalchemy.engine import Dialect
from sqlalchemy.types import to_instance

from migtui.core.env.capture import captured
from migtui.core.errors import from_exception, one_line
from migtui.core.revisions.source import read_function


@dataclass
class Recorded:
    """One operation a function invoked, and the batch it was part of, if any."""

    op: alembic_ops.MigrateOperation
    batch: str | None = None  # table of the enclosing batch_alter_table
    batch_schema: str | None = None  # and its schema
    recreate: str = "auto"  # batch_alter_table(recreate=...)
    in_autocommit: bool = False


@dataclass
class RecordedFunction:
    """upgrade() or downgrade() of one revision, as recorded offline."""

    revision: str
    name: str  # "upgrade" or "downgrade"
    ops: list[Recorded] = field(default_factory=list)
    autocommit: bool = False  # used op.get_context().autocommit_block()
    error: str = ""  # the function raised while recording
    static: bool = False  # could not run offline: operations read from the source
    static_operations: tuple[str, ...] = ()
    static_calls: tuple[str, ...] = ()  # the other calls the source makes (helpers...)
    dialect: Dialect | None = None
    path: str | None = None  # the revision file

    @property
    def descriptions(self) -> tuple[str, ...]:
        """One line per operation, in the order they run."""
        if self.static and not self.static_operations:
            # Nothing of op.* in the source: the operations live in code it calls.
            known = (f"operations not known: {self.name}() calls code that needs a live "
                     f"connection ({self.error})",)
            return known + (("calls " + ", ".join(self.static_calls),)
                            if self.static_calls else ())
        if self.static:  # (and the code it calls, whose operations are not known)
            helpers = _helper_calls(self.static_calls)
            return self.static_operations + ((
                f"also calls {', '.join(helpers)}: what that runs is not known",)
                if helpers else ())
        return tuple(describe(r, self.dialect) for r in self.ops)


# Calls in a revision's source that are not helpers which could run operations.
_NOT_HELPERS = frozenset({"print", "len", "range", "str", "int", "list", "dict", "set",
                          "tuple", "isinstance", "sorted", "enumerate", "zip", "text"})


def _helper_calls(calls: Sequence[str]) -> tuple[str, ...]:
    """The calls that may be helpers (a function of the project's, say): not a class
    (``Column()``, ``String()``), a builtin or logging."""
    def helper(call: str) -> bool:
        last = call.removesuffix("()").rsplit(".", 1)[-1]
        return not (last[:1].isupper() or last in _NOT_HELPERS
                    or call.startswith(("log.", "logger.", "logging.")))
    return tuple(c for c in calls if helper(c))


def _result(operation: alembic_ops.MigrateOperation, context: MigrationContext) -> Any:
    # op.create_table() returns the Table (used with op.bulk_insert); nothing else
    # returns anything a migration uses.
    if isinstance(operation, alembic_ops.CreateTableOp):
        return operation.to_table(context)
    return None


class _Recorder:
    """One offline MigrationContext whose operations are recorded, function after function."""

    def __init__(self, dialect_name: str) -> None:
        self.context = MigrationContext.configure(
            dialect_name=dialect_name or "sqlite",
            opts={"as_sql": True, "output_buffer": io.StringIO(), "literal_binds": True},
        )
        self.found = RecordedFunction("", "")
        self.batch: str | None = None
        self.batch_schema: str | None = None
        self.recreate = "auto"
        self.in_autocommit = False
        self.operations = Operations(self.context)
        self.operations.invoke = self.record  # type: ignore[method-assign]
        self.operations.batch_alter_table = self.batch_alter_table  # type: ignore[method-assign]
        self.context.autocommit_block = self.autocommit_block  # type: ignore[method-assign]
        self.context.impl._exec = self.via_bind  # type: ignore[method-assign]

    def record(self, operation: alembic_ops.MigrateOperation) -> Any:
        self.found.ops.append(Recorded(operation, self.batch, self.batch_schema,
                                       self.recreate, self.in_autocommit))
        return _result(operation, self.context)

    @contextmanager
    def batch_alter_table(self, table_name: str, *args: Any, **kw: Any) -> Iterator[Any]:
        # Alembic's own batch object (so batch_op.* builds the same operations), whose
        # invoke records instead of queueing: nothing is reflected or recreated.
        inner = Operations.batch_alter_table(self.operations, table_name, *args, **kw)
        batch_op = inner.__enter__()
        batch_op.invoke = self.record  # type: ignore[method-assign]
        self.batch, self.recreate = table_name, str(kw.get("recreate", "auto"))
        self.batch_schema = kw.get("schema", args[0] if args else None)
        try:
            yield batch_op
        finally:
            self.batch, self.batch_schema, self.recreate = None, None, "auto"

    @contextmanager
    def autocommit_block(self) -> Iterator[None]:
        self.found.autocommit = self.in_autocommit = True
        try:
            yield
        finally:
            self.in_autocommit = False

    def via_bind(self, construct: Any, *args: Any, **kw: Any) -> None:
        # op.get_bind().execute(...) in offline mode: raw SQL all the same.
        self.record(alembic_ops.ExecuteSQLOp(construct))

    def run(self, script: ScriptDirectory, revision: str, name: str) -> RecordedFunction:
        """Record one function; the caller holds captured() (and so ENV_LOCK)."""
        found = self.found = RecordedFunction(revision, name, dialect=self.context.dialect)
        try:
            module_script = script.get_revision(revision)
            fn: Callable[[], Any] | None = getattr(module_script.module, name, None) \
                if module_script is not None else None
        except Exception as exc:
            return _static(found, module_path=None, error=from_exception(exc).message)
        found.path = getattr(module_script, "path", None)
        if fn is None:
            return _static(found, found.path, f"no {name}() found")
        self.operations._install_proxy()  # the op proxy is process-wide: under ENV_LOCK
        try:
            fn()
        except Exception as exc:
            found.error = from_exception(exc).message
        finally:
            self.operations._remove_proxy()
            self.batch, self.recreate, self.in_autocommit = None, "auto", False
        if found.error:
            info = read_function(module_script.path, name)
            if info is None or not info.raises:
                # Not a deliberate `raise`: it needs something offline mode lacks (most
                # often a live connection through op.get_bind()). Read the source instead.
                return _static(found, module_script.path, found.error)
        return found


def record_functions(
    script: ScriptDirectory, wanted: Sequence[tuple[str, str]], dialect_name: str
) -> list[RecordedFunction]:
    """Run each (revision, "upgrade"|"downgrade") offline, recording its operations."""
    recorder = _Recorder(dialect_name)
    with captured():  # holds ENV_LOCK
        return [recorder.run(script, revision, name) for revision, name in wanted]


def record_function(
    script: ScriptDirectory, revision: str, name: str, dialect_name: str
) -> RecordedFunction:
    """Run ``name`` (upgrade/downgrade) of ``revision`` offline, recording its operations."""
    return record_functions(script, [(revision, name)], dialect_name)[0]


def _static(found: RecordedFunction, module_path: str | None, error: str) -> RecordedFunction:
    info = read_function(module_path, found.name)
    found.static = True
    found.error = error
    found.static_operations = info.operations if info is not None else ()
    found.static_calls = info.calls if info is not None else ()
    return found


# -- one line per operation ---------------------------------------------------------


def _type(type_: Any, dialect: Dialect | None) -> str:
    if type_ is None:
        return "?"
    if isinstance(type_, type):
        type_ = to_instance(type_)
    try:
        return str(type_.compile(dialect=dialect))
    except Exception:
        return type(type_).__name__.upper()


def _sql_text(sqltext: Any, dialect: Dialect | None, limit: int = 160) -> str:
    if isinstance(sqltext, str):
        text = sqltext
    else:
        try:
            text = str(sqltext.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        except Exception:
            text = str(sqltext)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sql_of(recorded: Recorded, dialect: Dialect | None, limit: int = 400) -> str:
    """The SQL text of an op.execute(), on one line."""
    op = recorded.op
    if isinstance(op, alembic_ops.ExecuteSQLOp):
        return _sql_text(op.sqltext, dialect, limit)
    return ""


def _default(column: Column[Any]) -> str:
    default = column.server_default
    if default is None:
        return ""
    arg = getattr(default, "arg", None)
    text = arg if isinstance(arg, str) else str(getattr(arg, "text", arg))
    return f" DEFAULT {one_line(text, 40)}"


def _column(column: Column[Any], dialect: Dialect | None) -> str:
    null = "NULL" if column.nullable else "NOT NULL"
    return f"{column.name!r} {_type(column.type, dialect)} {null}{_default(column)}"


def _alter(op: alembic_ops.AlterColumnOp, dialect: Dialect | None) -> str:
    changes = []
    if op.modify_type is not None:
        old = _type(op.existing_type, dialect) if op.existing_type is not None else "?"
        changes.append(f"type {old} → {_type(op.modify_type, dialect)}")
    if op.modify_nullable is not None:
        changes.append("NULL" if op.modify_nullable else "NOT NULL")
    if op.modify_name is not None:
        changes.append(f"rename to {op.modify_name!r}")
    if op.modify_server_default is not False:
        changes.append("server default")
    if op.modify_comment is not False:
        changes.append("comment")
    return f"alter_column({op.table_name!r}, {op.column_name!r}: {', '.join(changes) or '—'})"


def _cols(columns: Any) -> str:
    return ", ".join(repr(c) if isinstance(c, str) else str(c) for c in columns)


def describe(recorded: Recorded, dialect: Dialect | None = None) -> str:
    """One line for one operation, in Alembic's words: ``add_column('user', 'age' ...)``."""
    op = recorded.op
    line = _describe(op, dialect)
    return f"{line}  (in autocommit_block)" if recorded.in_autocommit else line


def _describe(op: alembic_ops.MigrateOperation, dialect: Dialect | None) -> str:
    if isinstance(op, alembic_ops.CreateTableOp):
        count = sum(isinstance(c, Column) for c in op.columns)
        return f"create_table({op.table_name!r}, {count} column{'s' * (count != 1)})"
    if isinstance(op, alembic_ops.DropTableOp):
        return f"drop_table({op.table_name!r})"
    if isinstance(op, alembic_ops.AddColumnOp):
        return f"add_column({op.table_name!r}, {_column(op.column, dialect)})"
    if isinstance(op, alembic_ops.DropColumnOp):
        return f"drop_column({op.table_name!r}, {op.column_name!r})"
    if isinstance(op, alembic_ops.AlterColumnOp):
        return _alter(op, dialect)
    if isinstance(op, alembic_ops.CreateIndexOp):
        unique = ", unique" if op.unique else ""
        concurrently = ", concurrently" if op.kw.get("postgresql_concurrently") else ""
        return (f"create_index({op.index_name!r}, {op.table_name!r}, [{_cols(op.columns)}]"
                f"{unique}{concurrently})")
    if isinstance(op, alembic_ops.DropIndexOp):
        return f"drop_index({op.index_name!r}, {op.table_name!r})"
    if isinstance(op, alembic_ops.CreateForeignKeyOp):
        return (f"create_foreign_key({op.constraint_name!r}, {op.source_table!r}"
                f"({_cols(op.local_cols)}) → {op.referent_table!r}({_cols(op.remote_cols)}))")
    if isinstance(op, alembic_ops.CreateUniqueConstraintOp):
        return (f"create_unique_constraint({op.constraint_name!r}, {op.table_name!r}, "
                f"[{_cols(op.columns)}])")
    if isinstance(op, alembic_ops.CreatePrimaryKeyOp):
        return (f"create_primary_key({op.constraint_name!r}, {op.table_name!r}, "
                f"[{_cols(op.columns)}])")
    if isinstance(op, alembic_ops.CreateCheckConstraintOp):
        return (f"create_check_constraint({op.constraint_name!r}, {op.table_name!r}, "
                f"{_sql_text(op.condition, dialect, 60)})")
    if isinstance(op, alembic_ops.DropConstraintOp):
        return f"drop_constraint({op.constraint_name!r}, {op.table_name!r})"
    if isinstance(op, alembic_ops.RenameTableOp):
        return f"rename_table({op.table_name!r} → {op.new_table_name!r})"
    if isinstance(op, alembic_ops.ExecuteSQLOp):
        return f"execute({_sql_text(op.sqltext, dialect)})"
    if isinstance(op, alembic_ops.BulkInsertOp):
        return f"bulk_insert({getattr(op.table, 'name', '?')!r}, {len(op.rows)} rows)"
    table = getattr(op, "table_name", None)
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(op).__name__.removesuffix("Op")).lower()
    return f"{name}({table!r})" if table else f"{name}()"
