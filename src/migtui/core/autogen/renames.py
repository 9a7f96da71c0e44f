"""Finding renames in autogenerate's directives: a dropped and an added column (or table)
that may be one rename, and the drops and adds of keys and indexes that the rename makes needless.

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
    """A drop and an add that a rename may replace, and the drops and adds of keys and
    indexes (``carried``) that only follow the renamed name: the rename keeps those."""

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
    def referenced(self) -> bool:
        """Whether foreign keys of other tables point at the renamed column."""
        return self.what == "column" and any(
            isinstance(e.op, ops.CreateForeignKeyOp) and e.op.referent_table == self.table
            and self.new in e.op.remote_cols and e.op.source_table != self.table
            for e in self.carried)

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
    out = []
    for p in pairs:
        carried = carried_keys(p, entries)
        out.append(Pair(p.what, p.drop, p.add, carried,
                        implicit_indexes(p, context, entries, carried)))
    return out


def _score(old: sa.Column[Any], new: sa.Column[Any], context: MigrationContext) -> int:
    return 2 * (not types_differ(old, new, context)) + (bool(old.nullable) == bool(new.nullable))


def _columns(table: sa.Table) -> dict[str, Any]:
    return {c.name: c.type for c in table.columns}


def _same_columns(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return bool(old) and old.keys() == new.keys() and all(
        compatible(old[name], new[name]) for name in old)


def rename_column_op(pair: Pair, context: MigrationContext) -> ops.AlterColumnOp:
    """``alter_column(old, new_column_name=new)``, changing type and nullability too where
    the new column differs.

    The column's server default and comment are named as they exist (autogenerate's own
    alter_column does the same): MySQL's CHANGE COLUMN restates the whole column and
    would drop what is left out.
    """
    old, new = pair.drop.op.to_column(), pair.add.op.column
    kw: dict[str, Any] = {}
    if types_differ(old, new, context):
        kw["modify_type"] = new.type
    if bool(old.nullable) != bool(new.nullable):
        kw["modify_nullable"] = bool(new.nullable)
    if old.autoincrement is True and context.dialect.name in ("mysql", "mariadb"):
        kw["autoincrement"] = True  # CHANGE COLUMN would drop AUTO_INCREMENT otherwise
    return ops.AlterColumnOp(
        pair.table, pair.old, schema=pair.schema, modify_name=pair.new,
        existing_type=old.type, existing_nullable=bool(old.nullable),
        existing_server_default=old.server_default, existing_comment=old.comment, **kw)


def implicit_indexes(pair: Pair, context: MigrationContext, entries: list[Entry],
                     carried: tuple[Entry, ...]) -> tuple[tuple[str, str], ...]:
    """MySQL's own index named after a column (under a foreign key, or a unique one):
    renamed with the column, unless the diff drops that index anyway.

    MySQL and MariaDB name those indexes after the column and keep the name when the
    column is renamed; autogenerate ignores a foreign key's index only while it is named
    after its column, and would otherwise offer to drop an index the key needs.
    """
    conn = context.connection
    if pair.what != "column" or context.dialect.name not in ("mysql", "mariadb") or not conn:
        return ()
    try:
        indexes = sa.inspect(conn).get_indexes(pair.table, schema=pair.schema)
    except Exception:
        return ()
    names = {i["name"] for i in indexes}
    dropped = {e.op.index_name for e in entries
               if isinstance(e.op, ops.DropIndexOp) and e not in carried}
    if pair.new in names or pair.old in dropped:
        return ()
    return tuple((pair.old, pair.new) for i in indexes
                 if i["name"] == pair.old and pair.old in i.get("column_names", ()))


# -- keys and indexes a rename keeps ---------------------------------------------

_OPTIONS = ("onupdate", "ondelete", "deferrable", "initially", "match")


def carried_keys(pair: Pair, entries: list[Entry]) -> tuple[Entry, ...]:
    """The drops and adds of foreign keys, unique constraints and indexes that differ
    only by the renamed name: the database keeps those through the rename.

    A column renamed in place keeps its keys and indexes and the foreign keys that point
    at it, and a renamed table the foreign keys that point at it (PostgreSQL and MySQL
    hold them by object; SQLite rewrites the other tables' definitions on ALTER TABLE …
    RENAME [COLUMN] since 3.26, and batch mode copies a table's own keys onto the renamed
    column); autogenerate compares unnamed keys by what they join, not by name.
    Writing the drop and the add would only re-create them, and an unnamed key cannot be
    dropped back in the downgrade, so an accepted rename leaves both out. One given a
    different name in the model (``ix_user_email`` -> ``ix_user_mail``) is not carried:
    its drop and add are written around the rename.
    """
    drops = [(e, sig) for e in entries if (sig := _dropped(e.op)) is not None]
    adds = [(e, sig) for e in entries if (sig := _added(e.op)) is not None]
    carried: list[Entry] = []
    for drop, (old_name, old_sig) in drops:
        expected = _renamed(old_sig, pair)
        if expected is None:
            continue
        for add, (new_name, new_sig) in adds:
            if add not in carried and new_sig == expected and new_name in (None, old_name):
                carried += [drop, add]
                break
    return tuple(carried)


Signature = tuple[Any, ...]


def _dropped(op: Any) -> tuple[str | None, Signature] | None:
    """(name, signature) of a dropped foreign key, unique constraint or index."""
    if isinstance(op, (ops.DropConstraintOp, ops.DropIndexOp)) and op._reverse is not None:
        try:
            return _added(op.reverse())
        except Exception:
            return None
    return None


def _added(op: Any) -> tuple[str | None, Signature] | None:
    """(name, signature) of an added one: what it is, on which columns, joining what.
    A unique index and a unique constraint are one kind (MySQL reflects either as the
    other)."""
    if isinstance(op, ops.CreateForeignKeyOp):
        return _name(op.constraint_name), (
            "foreign key", op.kw.get("source_schema"), op.source_table, tuple(op.local_cols),
            op.kw.get("referent_schema"), op.referent_table, tuple(op.remote_cols),
            _options(op))
    if isinstance(op, ops.CreateUniqueConstraintOp):
        return _name(op.constraint_name), ("unique", op.schema, op.table_name,
                                           tuple(op.columns))
    if isinstance(op, ops.CreateIndexOp):
        names = tuple(getattr(c, "name", c) for c in op.columns)
        if not all(isinstance(n, str) for n in names):
            return None  # an expression index
        kind = "unique" if op.unique else "index"
        name = _name(op.index_name)
        return name, (kind, op.schema, op.table_name, names) + (() if op.unique else (name,))
    return None


def _renamed(sig: Signature, pair: Pair) -> Signature | None:
    """What ``sig`` is once the rename is done (None if the rename does not touch it)."""
    kind, schema, table, columns = sig[:4]

    def swap(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(pair.new if n == pair.old else n for n in names)
    on_it = (pair.schema, pair.table)
    if pair.what == "column":
        local = (schema, table) == on_it and pair.old in columns
        remote = kind == "foreign key" and (sig[4], sig[5]) == on_it and pair.old in sig[6]
        if not (local or remote):
            return None
        renamed = (kind, schema, table, swap(columns) if local else columns, *sig[4:])
        return (*renamed[:6], swap(sig[6]), *renamed[7:]) if remote else renamed
    if kind == "foreign key" and (sig[4], sig[5]) == (pair.schema, pair.old):
        return (*sig[:5], pair.new, *sig[6:])
    return None


def _name(name: Any) -> str | None:
    return None if name is None else str(name)


def _options(key: ops.CreateForeignKeyOp) -> tuple[str, ...]:
    """The key's ON UPDATE / ON DELETE / … options; NO ACTION is what no option means."""
    values = []
    for option in _OPTIONS:
        value = key.kw.get(option)
        text = "" if value in (None, False) else str(value).upper()
        values.append("" if text == "NO ACTION" else text)
    return tuple(values)
