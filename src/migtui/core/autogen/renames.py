"""Finding renames in autogenerate's directives: a dropped and an added column (or table)
that may be one rename, and the foreign-key drops and adds that the rename makes needless.

Runs in the comparison's child process only (``migtui.core.autogen.compare``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext


@dataclass(frozen=True)
class Entry:
    """One operation of the upgrade, with its key and its ModifyTableOps (if any)."""

    key: str
    op: Any
    parent: ops.ModifyTableOps | None


@dataclass(frozen=True)
class Pair:
    """A drop and an add that a rename may replace, and the foreign-key drops and adds
    (``carried``) that only follow the renamed name: the rename keeps those keys."""

    what: str  # "column" or "table"
    drop: Entry
    add: Entry
    carried: tuple[Entry, ...] = ()
    indexes: tuple[tuple[str, str], ...] = ()  # MySQL's implicit indexes to rename too

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


def type_text(type_: Any, dialect: Any) -> str:
    if type_ is None:
        return "?"
    try:
        return str(type_.compile(dialect=dialect))
    except Exception:
        return repr(type_)


def types_differ(old: sa.Column[Any], new: sa.Column[Any], context: MigrationContext) -> bool:
    """Whether autogenerate would see a type change from the database's ``old`` column to
    the model's ``new`` one (MySQL's INTEGER(11) is INTEGER, as autogenerate says)."""
    try:
        return bool(context.impl.compare_type(old, new))
    except Exception:
        return type_text(old.type, context.dialect) != type_text(new.type, context.dialect)


def rename_pairs(entries: list[Entry], context: MigrationContext) -> list[Pair]:
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
            scored = [(_score(old, add.op.column, context), add) for add in free
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
    return [Pair(p.what, p.drop, p.add, carried_foreign_keys(p, entries),
                 implicit_indexes(p, context)) for p in pairs]


def _score(old: sa.Column[Any], new: sa.Column[Any], context: MigrationContext) -> int:
    return 2 * (not types_differ(old, new, context)) + (bool(old.nullable) == bool(new.nullable))


def _columns(table: sa.Table) -> dict[str, Any]:
    return {c.name: c.type for c in table.columns}


def _same_columns(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return bool(old) and old.keys() == new.keys() and all(
        compatible(old[name], new[name]) for name in old)


def rename_column_op(pair: Pair, context: MigrationContext) -> ops.AlterColumnOp:
    """``alter_column(old, new_column_name=new)``, changing type and nullability too where
    the new column differs."""
    old, new = pair.drop.op.to_column(), pair.add.op.column
    kw: dict[str, Any] = {}
    if types_differ(old, new, context):
        kw["modify_type"] = new.type
    if bool(old.nullable) != bool(new.nullable):
        kw["modify_nullable"] = bool(new.nullable)
    return ops.AlterColumnOp(
        pair.table, pair.old, schema=pair.schema, modify_name=pair.new,
        existing_type=old.type, existing_nullable=bool(old.nullable), **kw)


def implicit_indexes(pair: Pair, context: MigrationContext) -> tuple[tuple[str, str], ...]:
    """MySQL's own index under a foreign-key column, named after the column: renamed with it.

    MySQL and MariaDB create that index themselves and keep its name when the column is
    renamed; autogenerate ignores it only while it is named after its column, and would
    otherwise offer to drop an index the foreign key needs.
    """
    conn = context.connection
    if pair.what != "column" or context.dialect.name not in ("mysql", "mariadb") or not conn:
        return ()
    try:
        indexes = sa.inspect(conn).get_indexes(pair.table, schema=pair.schema)
    except Exception:
        return ()
    names = {i["name"] for i in indexes}
    if pair.new in names:
        return ()
    return tuple((pair.old, pair.new) for i in indexes
                 if i["name"] == pair.old and not i.get("unique")
                 and pair.old in i.get("column_names", ()))


# -- foreign keys a rename keeps ------------------------------------------------------

_OPTIONS = ("onupdate", "ondelete", "deferrable", "initially", "match")


def carried_foreign_keys(pair: Pair, entries: list[Entry]) -> tuple[Entry, ...]:
    """The foreign-key drops and adds that differ only by the renamed name.

    A column renamed in place keeps its foreign keys, and a renamed table keeps the keys
    that point at it (PostgreSQL and MySQL hold them by object, SQLite rewrites them on
    ALTER TABLE … RENAME since 3.26, and batch mode copies them under the new name), and
    autogenerate compares foreign keys by what they join, not by name. Writing the drop
    and the add would only re-create them (and an unnamed key cannot be dropped back in
    the downgrade), so an accepted rename leaves both out. A key given a new name of its
    own in the model is not carried: its drop and add are written around the rename.
    """
    drops = [e for e in entries if isinstance(e.op, ops.DropConstraintOp)
             and e.op.constraint_type == "foreignkey" and e.op._reverse is not None]
    adds = [e for e in entries if isinstance(e.op, ops.CreateForeignKeyOp)]
    carried: list[Entry] = []
    for drop in drops:
        old_key = drop.op.reverse()
        if not isinstance(old_key, ops.CreateForeignKeyOp):
            continue
        expected = _renamed(old_key, pair)
        if expected is None:
            continue
        for add in adds:
            if add not in carried and _same_key(expected, add.op, old_key):
                carried += [drop, add]
                break
    return tuple(carried)


def _renamed(key: ops.CreateForeignKeyOp, pair: Pair) -> tuple[Any, ...] | None:
    """What ``key`` joins once the rename is done (None if the rename does not touch it)."""
    table, local, remote = key.source_table, list(key.local_cols), key.referent_table
    same_schema = (key.kw.get("source_schema") == pair.schema)
    if pair.what == "column":
        if not (same_schema and table == pair.table and pair.old in local):
            return None
        local = [pair.new if c == pair.old else c for c in local]
    else:
        if not (key.kw.get("referent_schema") == pair.schema and remote == pair.old):
            return None
        remote = pair.new
    return (key.kw.get("source_schema"), table, tuple(local), key.kw.get("referent_schema"),
            remote, tuple(key.remote_cols), _options(key))


def _same_key(expected: tuple[Any, ...], add: ops.CreateForeignKeyOp,
              old_key: ops.CreateForeignKeyOp) -> bool:
    joins = (add.kw.get("source_schema"), add.source_table, tuple(add.local_cols),
             add.kw.get("referent_schema"), add.referent_table, tuple(add.remote_cols),
             _options(add))
    named = sa_name(add.constraint_name)
    return joins == expected and named in (None, sa_name(old_key.constraint_name))


def sa_name(name: Any) -> str | None:
    return None if name is None else str(name)


def _options(key: ops.CreateForeignKeyOp) -> tuple[str, ...]:
    """The key's ON UPDATE / ON DELETE / … options; NO ACTION is what no option means."""
    values = []
    for option in _OPTIONS:
        value = key.kw.get(option)
        text = "" if value in (None, False) else str(value).upper()
        values.append("" if text == "NO ACTION" else text)
    return tuple(values)
