"""Edit autogenerate's directives as the user chose: drop rejected operations, turn a drop
and an add into a rename, give a type change PostgreSQL's ``USING`` cast.

Runs in the comparison's child process only (``migtui.core.autogen.compare``), on the
``MigrationScript`` that autogenerate produced. The upgrade keeps autogenerate's own
operation objects, so what is kept renders exactly as autogenerate renders it; the
downgrade is the upgrade reversed, as autogenerate builds it (``reverse_into``), with
renames reversed by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.autogenerate.render import _alembic_autogenerate_prefix, _alter_column
from alembic.operations import ops

from migtui.core.autogen.choices import Choices


@dataclass(frozen=True)
class Entry:
    """One operation of the upgrade, with its key and its ModifyTableOps (if any)."""

    key: str
    op: Any
    parent: ops.ModifyTableOps | None


@dataclass(frozen=True)
class Pair:
    """A drop and an add that a rename may replace."""

    what: str  # "column" or "table"
    drop: Entry
    add: Entry

    @property
    def old(self) -> str:
        op = self.drop.op
        return str(op.column_name if self.what == "column" else op.table_name)

    @property
    def new(self) -> str:
        op = self.add.op
        return str(op.column.name if self.what == "column" else op.table_name)

    @property
    def table(self) -> str:
        return str(self.drop.op.table_name)

    @property
    def schema(self) -> str | None:
        return cast("str | None", self.drop.op.schema)

    @property
    def key(self) -> str:
        if self.what == "column":
            return f"rename column|{self.schema or ''}|{self.table}|{self.old}->{self.new}"
        return f"rename table|{self.schema or ''}|{self.old}->{self.new}"


def make_key(kind: str, schema: str | None, table: str, name: str, seen: dict[str, int]) -> str:
    """A key that names one operation across comparisons (repeats get #2, #3, …)."""
    base = f"{kind}|{schema or ''}|{table}|{name}"
    seen[base] = seen.get(base, 0) + 1
    return base if seen[base] == 1 else f"{base}#{seen[base]}"


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


# -- finding renames ------------------------------------------------------------


def affinity(type_: Any) -> type:
    """The generic SQLAlchemy type a dialect type belongs to (TIMESTAMP -> DateTime)."""
    try:
        return cast(type, type_._type_affinity)
    except Exception:
        return type(type_)


def compatible(old: Any, new: Any) -> bool:
    """Whether a value of type ``old`` can be kept as ``new`` by a rename."""
    if old is None or new is None or isinstance(old, sa.types.NullType):
        return False
    return affinity(old) is affinity(new)


def rename_pairs(entries: list[Entry], dialect: Any) -> list[Pair]:
    """Drops and adds of columns on one table (and of whole tables) that look like renames.

    A column pairs with an added column of the same kind of type on the same table,
    preferring the same type, then the same nullability; a table with an added table
    that has the same columns of the same kinds of types. Each drop and add pairs once.
    """
    pairs: list[Pair] = []
    tables: dict[tuple[str | None, str], tuple[list[Entry], list[Entry]]] = {}
    dropped_tables: list[Entry] = []
    added_tables: list[Entry] = []
    for entry in entries:
        op = entry.op
        if isinstance(op, ops.DropColumnOp):
            tables.setdefault((op.schema, op.table_name), ([], []))[0].append(entry)
        elif isinstance(op, ops.AddColumnOp):
            tables.setdefault((op.schema, op.table_name), ([], []))[1].append(entry)
        elif isinstance(op, ops.DropTableOp):
            dropped_tables.append(entry)
        elif isinstance(op, ops.CreateTableOp):
            added_tables.append(entry)
    for drops, adds in tables.values():
        free = list(adds)
        for drop in drops:
            old = drop.op.to_column()
            scored = [(_score(old, add.op.column, dialect), add) for add in free
                      if compatible(old.type, add.op.column.type)]
            if scored:
                best = max(scored, key=lambda s: s[0])[1]
                free.remove(best)
                pairs.append(Pair("column", drop, best))
    free = list(added_tables)
    for drop in dropped_tables:
        old_columns = _columns(drop.op.to_table())
        for add in free:
            if add.op.schema == drop.op.schema and _same_columns(old_columns,
                                                                 _columns(add.op.to_table())):
                free.remove(add)
                pairs.append(Pair("table", drop, add))
                break
    return pairs


def _score(old: sa.Column[Any], new: sa.Column[Any], dialect: Any) -> int:
    return (2 * (type_text(old.type, dialect) == type_text(new.type, dialect))
            + (bool(old.nullable) == bool(new.nullable)))


def _columns(table: sa.Table) -> dict[str, Any]:
    return {c.name: c.type for c in table.columns}


def _same_columns(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return bool(old) and old.keys() == new.keys() and all(
        compatible(old[name], new[name]) for name in old)


def type_text(type_: Any, dialect: Any) -> str:
    if type_ is None:
        return "?"
    try:
        return str(type_.compile(dialect=dialect))
    except Exception:
        return repr(type_)


def rename_column_op(pair: Pair, dialect: Any) -> ops.AlterColumnOp:
    """``alter_column(old, new_column_name=new)``, changing type and nullability too where
    the new column differs."""
    old, new = pair.drop.op.to_column(), pair.add.op.column
    kw: dict[str, Any] = {}
    if type_text(old.type, dialect) != type_text(new.type, dialect):
        kw["modify_type"] = new.type
    if bool(old.nullable) != bool(new.nullable):
        kw["modify_nullable"] = bool(new.nullable)
    return ops.AlterColumnOp(
        pair.table, pair.old, schema=pair.schema, modify_name=pair.new,
        existing_type=old.type, existing_nullable=bool(old.nullable), **kw)


# -- applying the choices -----------------------------------------------------------


def apply_choices(script: ops.MigrationScript, entries: list[Entry], pairs: list[Pair],
                  choices: Choices, casts: dict[str, str], dialect: Any) -> None:
    """Edit ``script`` in place: the upgrade as chosen, the downgrade its reverse.

    ``casts`` maps a type change's key to the ``postgresql_using`` expression offered.
    With the default choices nothing is touched: the file is autogenerate's.
    """
    if choices.is_default:
        return
    removed = {id(e.op) for e in entries if e.key in choices.rejected}
    replaced: dict[int, Any] = {}
    renamed_tables: dict[str, ops.RenameTableOp] = {}
    for pair in pairs:
        if pair.key not in choices.renames:
            continue
        removed.add(id(pair.drop.op))
        if pair.what == "column":
            replaced[id(pair.add.op)] = rename_column_op(pair, dialect)
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
        upgrades.append(ops.UpgradeOps(kept, upgrade_token=upgrade_ops.upgrade_token))
        downgrades.append(ops.DowngradeOps(_reverse_all(kept),
                                           downgrade_token=downgrade_ops.downgrade_token))
    script.upgrade_ops = upgrades
    script.downgrade_ops = downgrades


def _rebuild(items: list[Any], removed: set[int], replaced: dict[int, Any]) -> list[Any]:
    out: list[Any] = []
    for op in items:
        if isinstance(op, ops.ModifyTableOps):
            children = _rebuild(op.ops, removed, replaced)
            if any(isinstance(c, ops.AlterColumnOp) and c.modify_name for c in children):
                children = _around_renames(children)
            if children:
                out.append(ops.ModifyTableOps(op.table_name, children, schema=op.schema))
        elif id(op) in replaced:
            out.append(replaced[id(op)])
        elif id(op) not in removed:
            out.append(op)
    return out


_DROPS = (ops.DropIndexOp, ops.DropConstraintOp)


def _around_renames(children: list[Any]) -> list[Any]:
    """Drops of indexes and constraints first (they may name the old column), then the
    renames, then the rest (which may name the new one); reversed, the downgrade drops
    what names the new column before renaming it back."""
    drops = [c for c in children if isinstance(c, _DROPS)]
    renames = [c for c in children if isinstance(c, ops.AlterColumnOp) and c.modify_name]
    rest = [c for c in children if c not in drops and c not in renames]
    return [*drops, *renames, *rest]


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
        return ops.AlterColumnOp(
            op.table_name, op.modify_name, schema=op.schema, modify_name=op.column_name,
            existing_type=op.modify_type if op.modify_type is not None else op.existing_type,
            existing_nullable=(op.modify_nullable if op.modify_nullable is not None
                               else op.existing_nullable), **kw)
    reverse = op.reverse()
    if isinstance(reverse, ops.AlterColumnOp):
        reverse.kw.pop("postgresql_using", None)  # a cast back needs its own expression
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
