"""Edit autogenerate's directives as the user chose: drop rejected operations, turn a drop
and an add into a rename, give a type change PostgreSQL's ``USING`` cast.

Runs in the comparison's child process only (``migtui.core.autogen.compare``), on the
``MigrationScript`` that autogenerate produced. The upgrade keeps autogenerate's own
operation objects, so what is kept renders exactly as autogenerate renders it; the
downgrade is the upgrade reversed, as autogenerate builds it (``reverse_into``), with
renames reversed by name.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.autogenerate.render import _alembic_autogenerate_prefix, _alter_column
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext

from migtui.core.autogen.choices import Choices
from migtui.core.autogen.renames import Entry, Pair, affinity, rename_column_op, type_text


@renderers.dispatch_for(ops.RenameTableOp)
def _render_rename_table(autogen_context: AutogenContext, op: ops.RenameTableOp) -> str:
    """Autogenerate renders no rename_table of its own: this is how one is written."""
    schema = f", schema={op.schema!r}" if op.schema else ""
    return (f"{_alembic_autogenerate_prefix(autogen_context)}rename_table("
            f"{op.table_name!r}, {op.new_table_name!r}{schema})")


@renderers.dispatch_for(ops.AlterColumnOp, replace=True)
def _render_alter_column(autogen_context: AutogenContext, op: ops.AlterColumnOp) -> str:
    """Autogenerate's own alter_column, plus the ``postgresql_using`` cast when one was
    chosen (Alembic's renderer leaves that keyword out)."""
    text: str = _alter_column(autogen_context, op)
    using = op.kw.get("postgresql_using")
    if not using or not text.rstrip().endswith(")"):
        return text
    body = text.rstrip()[:-1]
    return f"{body},\n               postgresql_using={using!r})"


class RenameIndexSQL(ops.ExecuteSQLOp):
    """MySQL's ``ALTER TABLE … RENAME INDEX``, written as ``op.execute``; its reverse
    renames the index back."""

    def __init__(self, table: str, old: str, new: str, schema: str | None,
                 preparer: Any) -> None:
        self.table, self.old, self.new, self.schema = table, old, new, schema
        self.preparer = preparer
        quoted = preparer.quote(table)
        if schema:
            quoted = f"{preparer.quote_schema(schema)}.{quoted}"
        super().__init__(f"ALTER TABLE {quoted} RENAME INDEX {preparer.quote(old)} "
                         f"TO {preparer.quote(new)}")

    def reverse(self) -> RenameIndexSQL:
        return RenameIndexSQL(self.table, self.new, self.old, self.schema, self.preparer)


class PlainRename(ops.AlterColumnOp):
    """A column rename written outside any batch block: on SQLite, ALTER TABLE … RENAME
    COLUMN rewrites the foreign keys of other tables that point at the column, where a
    batch copy of the table would leave them naming a column that is gone."""


# -- applying the choices -----------------------------------------------------------


def apply_choices(script: ops.MigrationScript, entries: list[Entry], pairs: list[Pair],
                  choices: Choices, casts: dict[str, str], context: MigrationContext) -> None:
    """Edit ``script`` in place: the upgrade as chosen, the downgrade its reverse.

    ``casts`` maps a type change's key to the ``postgresql_using`` expression offered.
    With the default choices nothing is touched: the file is autogenerate's.
    """
    if choices.is_default:
        return
    removed = {id(e.op) for e in entries if e.key in choices.rejected}
    replaced: dict[int, Any] = {}
    renamed_tables: dict[str, ops.RenameTableOp] = {}
    index_renames: list[RenameIndexSQL] = []
    for pair in pairs:
        if pair.key not in choices.renames:
            continue
        index_renames += [RenameIndexSQL(pair.table, old, new, pair.schema,
                                         context.dialect.identifier_preparer)
                          for old, new in pair.indexes]
        removed.add(id(pair.drop.op))
        removed.update(id(e.op) for e in pair.carried)  # the rename keeps those keys
        if pair.what == "column":
            rename_op = rename_column_op(pair, context)
            if (context.dialect.name == "sqlite" and pair.referenced
                    and rename_op.modify_type is None and rename_op.modify_nullable is None):
                rename_op = _plain(rename_op)
            replaced[id(pair.add.op)] = rename_op
        else:
            rename = ops.RenameTableOp(pair.old, pair.new, schema=pair.schema)
            replaced[id(pair.add.op)] = rename
            renamed_tables[pair.old] = rename
    for entry in entries:
        if entry.key in choices.casts and entry.key in casts:
            entry.op.kw["postgresql_using"] = casts[entry.key]
    upgrades, downgrades = [], []
    for upgrade_ops, downgrade_ops in zip(script.upgrade_ops_list, script.downgrade_ops_list,
                                          strict=False):
        kept = _rebuild(upgrade_ops.ops, removed, replaced)
        kept = _drops_of_renamed_tables_first(kept, renamed_tables)
        kept = _with_index_renames(kept, index_renames)
        upgrades.append(ops.UpgradeOps(_after_renames_apart(kept),
                                       upgrade_token=upgrade_ops.upgrade_token))
        downgrades.append(ops.DowngradeOps(_after_renames_apart(_reverse_all(kept)),
                                           downgrade_token=downgrade_ops.downgrade_token))
    script.upgrade_ops = upgrades
    script.downgrade_ops = downgrades


def _rebuild(items: list[Any], removed: set[int], replaced: dict[int, Any]) -> list[Any]:
    out: list[Any] = []
    for op in items:
        if isinstance(op, ops.ModifyTableOps):
            children = _rebuild(op.ops, removed, replaced)
            if any(_is_rename(c) for c in children):
                children = _around_renames(children)
            if children:
                out.append(ops.ModifyTableOps(op.table_name, children, schema=op.schema))
        elif id(op) in replaced:
            out.append(replaced[id(op)])
        elif id(op) not in removed:
            out.append(op)
    return out


_DROPS = (ops.DropIndexOp, ops.DropConstraintOp)


def _is_rename(op: Any) -> bool:
    return isinstance(op, ops.AlterColumnOp) and op.modify_name is not None


def _around_renames(children: list[Any]) -> list[Any]:
    """Drops of indexes and constraints first (they may name the old column), then the
    renames, then the rest (which may name the new one); reversed, the downgrade drops
    what names the new column before renaming it back."""
    drops = [c for c in children if isinstance(c, _DROPS)]
    renames = [c for c in children if _is_rename(c)]
    rest = [c for c in children if c not in drops and c not in renames]
    return [*drops, *renames, *rest]


def _plain(op: ops.AlterColumnOp) -> PlainRename:
    return PlainRename(
        op.table_name, op.column_name, schema=op.schema, modify_name=op.modify_name,
        existing_type=op.existing_type, existing_nullable=op.existing_nullable,
        existing_server_default=op.existing_server_default,
        existing_comment=op.existing_comment, **op.kw)


def _after_renames_apart(items: list[Any]) -> list[Any]:
    """What follows a table's column renames goes in a second ModifyTableOps.

    In batch mode (SQLite) one ``batch_alter_table`` block refers to a renamed column by
    its old name until the table is copied, so an index or key created on the new name in
    the same block fails (KeyError); a second block runs on the copied table. Without
    batch mode the two render as the same lines as one.
    """
    out: list[Any] = []
    for op in items:
        if isinstance(op, ops.ModifyTableOps) and any(_is_rename(c) for c in op.ops):
            last = max(i for i, c in enumerate(op.ops) if _is_rename(c))
            first = [c for c in op.ops[:last + 1] if not isinstance(c, PlainRename)]
            if first:
                out.append(ops.ModifyTableOps(op.table_name, first, schema=op.schema))
            out += [c for c in op.ops[:last + 1] if isinstance(c, PlainRename)]
            if op.ops[last + 1:]:
                out.append(ops.ModifyTableOps(op.table_name, op.ops[last + 1:],
                                              schema=op.schema))
        else:
            out.append(op)
    return out


def _with_index_renames(items: list[Any], renames: list[RenameIndexSQL]) -> list[Any]:
    """Each index rename right after the operations on its table (which rename the
    column); reversed, the downgrade renames the index back first."""
    out = list(items)
    for rename in renames:
        at = max((i + 1 for i, op in enumerate(out) if isinstance(op, ops.ModifyTableOps)
                  and (op.table_name, op.schema) == (rename.table, rename.schema)),
                 default=len(out))
        out.insert(at, rename)
    return out


def _drops_of_renamed_tables_first(items: list[Any],
                                   renamed: dict[str, ops.RenameTableOp]) -> list[Any]:
    """Index and constraint drops on a table about to be renamed run before the rename."""
    out = list(items)
    for old, rename in renamed.items():
        def on_old(op: Any, old: str = old) -> bool:
            if isinstance(op, ops.ModifyTableOps):
                return op.table_name == old and all(isinstance(c, _DROPS) for c in op.ops)
            return isinstance(op, _DROPS) and op.table_name == old
        early = [op for op in out if on_old(op)]
        if early:
            out = [op for op in out if not on_old(op)]
            at = out.index(rename)
            out[at:at] = early
    return out


def _reverse_all(items: list[Any]) -> list[Any]:
    return [_reverse(op) for op in reversed(items)]


def _reverse(op: Any) -> Any:
    """What undoes ``op``: Alembic's own reverse, except for renames and USING casts."""
    if isinstance(op, ops.ModifyTableOps):
        return ops.ModifyTableOps(op.table_name, _reverse_all(op.ops), schema=op.schema)
    if isinstance(op, ops.RenameTableOp):
        return ops.RenameTableOp(op.new_table_name, op.table_name, schema=op.schema)
    if isinstance(op, ops.AlterColumnOp) and op.modify_name:
        kw: dict[str, Any] = {}
        if op.modify_type is not None:
            kw["modify_type"] = op.existing_type
        if op.modify_nullable is not None:
            kw["modify_nullable"] = op.existing_nullable
        if "autoincrement" in op.kw:
            kw["autoincrement"] = op.kw["autoincrement"]
        return type(op)(
            op.table_name, op.modify_name, schema=op.schema, modify_name=op.column_name,
            existing_type=op.modify_type if op.modify_type is not None else op.existing_type,
            existing_nullable=(op.modify_nullable if op.modify_nullable is not None
                               else op.existing_nullable),
            existing_server_default=op.existing_server_default,
            existing_comment=op.existing_comment, **kw)
    reverse = op.reverse()
    if isinstance(reverse, ops.AlterColumnOp):
        reverse.kw.pop("postgresql_using", None)  # a cast back needs its own expression
    if isinstance(reverse, ops.CreateIndexOp) and reverse.unique is not None:
        reverse.unique = bool(reverse.unique)  # SQLite reflects it as 1: written unique=True
    return reverse


# -- type changes ---------------------------------------------------------------------

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
    if type(old) is type(new) or affinity(old) is affinity(new):
        return ""
    return "changes the kind of type: values that do not convert are lost or fail"


def postgresql_cast(op: ops.AlterColumnOp, dialect: Any) -> str:
    """The ``postgresql_using`` PostgreSQL needs for this type change ('' if none)."""
    if dialect.name != "postgresql" or op.modify_type is None or op.kw.get("postgresql_using"):
        return ""
    old, new = op.existing_type, op.modify_type
    if old is None or isinstance(old, sa.Enum) or isinstance(new, sa.Enum):
        return ""
    text_to_other = isinstance(old, sa.String) and not isinstance(new, sa.String)
    bool_and_int = {affinity(old), affinity(new)} == {sa.Boolean, sa.Integer}
    if not (text_to_other or bool_and_int):
        return ""  # PostgreSQL casts these by itself
    return f"{op.column_name}::{type_text(new, dialect)}"
