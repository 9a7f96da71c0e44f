"""The MySQL/MariaDB risk rules of the pre-flight (each named as the README lists it).

- **table copy**: an ALTER that rebuilds the whole table (a column type or NULL/NOT NULL
  change, a primary key added or dropped, a column added to a table whose engine or row
  format rules out ALGORITHM=INSTANT), with InnoDB's estimated rows and size from
  ``information_schema.tables``; shown from the "big table" size on, like the
  PostgreSQL lock rules.
- **implicit default**: a NOT NULL column added without a server default does not fail
  on MySQL: every existing row gets the type's implicit default (0, '', a zero date).
- **rename breaks running code**: a renamed table or column is renamed the moment the
  statement runs (DDL commits at once): code still using the old name fails from then on.
- **utf8 vs utf8mb4**: a new text column in utf8 (utf8mb3, three bytes at most) where the
  table or the database is utf8mb4, or the reverse: 4-byte characters (emoji) cannot be
  stored in it, and comparisons or joins with the other columns convert.

The generic rules (rows a drop loses, NULLs or duplicates a NOT NULL column or unique
index would meet, orphans of a foreign key) apply on MySQL/MariaDB as everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic.operations import ops as alembic_ops

from migtui.core.checks.risks import (
    BAD_DATA,
    BREAKS_CODE,
    LOCKS,
    Context,
    Found,
    Table,
    counted,
    name_of,
    table_of,
)
from migtui.core.env.mysql import is_mysql

if TYPE_CHECKING:
    from migtui.core.checks.probes import Live

TABLE_COPY = "table copy"
IMPLICIT_DEFAULT = "implicit default"
RENAME = "rename breaks running code"
CHARSET = "utf8 vs utf8mb4"

# Engines and row formats where InnoDB's ALGORITHM=INSTANT cannot add a column.
_NO_INSTANT_FORMATS = {"compressed"}


def mysql_rules(c: Context) -> list[Found]:
    """The MySQL/MariaDB rules for one recorded operation ([] on other databases)."""
    if not is_mysql(c.dialect):
        return []
    op = c.rec.op
    if isinstance(op, alembic_ops.AlterColumnOp):
        found: list[Found] = []
        table = table_of(op)
        if op.modify_type is not None or op.modify_nullable is not None:
            what = "change the type of" if op.modify_type is not None else "change NULL/NOT NULL of"
            found += copies(c, table, f"{what} {op.column_name}")
        if op.modify_name is not None and op.modify_name != op.column_name:
            found.append(renamed(c, f"column {name_of(table)}.{op.column_name}", op.modify_name))
        return found
    if isinstance(op, alembic_ops.CreatePrimaryKeyOp):
        return copies(c, table_of(op), "add a primary key")
    if isinstance(op, alembic_ops.DropConstraintOp) and op.constraint_type == "primary":
        return copies(c, table_of(op), "drop the primary key")
    if isinstance(op, alembic_ops.AddColumnOp):
        table, column = table_of(op), op.column
        found = [*copies(c, table, f"add {column.name}", instant_unless_format=True),
                 *charset(c, table, [column])]
        if (not column.nullable and column.server_default is None and column.computed is None
                and column.identity is None and column.autoincrement is not True
                and not c.state.fresh(table)):
            found.insert(0, implicit_default(c, table, column))
        return found
    if isinstance(op, alembic_ops.CreateTableOp):
        return charset(c, table_of(op), list(op.columns), new_table=op.kw)
    if isinstance(op, alembic_ops.RenameTableOp):
        return [renamed(c, f"table {name_of(table_of(op))}", op.new_table_name)]
    return []


def copies(c: Context, table: Table, what: str, instant_unless_format: bool = False
           ) -> list[Found]:
    """TABLE_COPY: the ALTER rewrites every row while writes wait (big tables only)."""
    if c.state.fresh(table):
        return []
    seen: dict[str, str] = {}

    def measure(live: Live) -> int | None:
        entry = live.catalog(table)
        if entry is None:
            return None
        if instant_unless_format:
            if entry.engine.lower() == "innodb" and \
                    entry.row_format.lower() not in _NO_INSTANT_FORMATS:
                return 0  # ALGORITHM=INSTANT: no copy
            seen["why"] = (f" ({entry.engine} with ROW_FORMAT={entry.row_format} "
                           "cannot add a column instantly)")
        seen["size"] = entry.size_text
        return max(entry.rows, live.count_up_to(table, live.big_table + 1))

    return [c.probe(
        LOCKS, table, measure,
        lambda n: (f"{TABLE_COPY}: MySQL copies {name_of(table)} to {what}"
                   f"{seen.get('why', '')}: ~{n:,} rows, {seen.get('size', '?')} "
                   "(estimated from information_schema), rewritten while writes wait"),
        "run it off-peak, or with an online schema change tool (pt-online-schema-change, "
        "gh-ost); on MariaDB ALTER ... ALGORITHM=INPLACE, LOCK=NONE says at once if it "
        "cannot run without blocking writes",
        threshold=None,
    )]


def implicit_default(c: Context, table: Table, column: Any) -> Found:
    """IMPLICIT_DEFAULT: the NOT NULL column is filled with 0, '' or a zero date."""
    return c.probe(
        BAD_DATA, table, lambda live: live.count(table),
        lambda n: (f"{IMPLICIT_DEFAULT}: {column.name} is NOT NULL without a server default: "
                   f"MySQL fills it in {counted(n, 'row')} of {name_of(table)} with the "
                   "type's implicit default (0, '', a zero date), not an error"),
        "give it a server_default that means something, or add it nullable, fill it, "
        "then alter_column(nullable=False)",
    )


def renamed(c: Context, what: str, new: str) -> Found:
    """RENAME: running code that uses the old name fails as soon as the rename commits."""
    return c.risk(
        BREAKS_CODE,
        f"{RENAME}: {what} is renamed to {new} as soon as the statement runs (MySQL commits "
        "DDL at once): application code still using the old name fails from then on",
        "deploy code that reads both names first (or a view under the old name), "
        "rename, then drop the old name's support",
    )


def _charset(column: Any) -> str:
    """The character set a column declares ("" when it takes its table's)."""
    type_ = getattr(column, "type", None)
    name = (getattr(type_, "charset", None) or column.kwargs.get("mysql_charset")
            or getattr(type_, "collation", None) or "")
    return str(name).lower().split("_", 1)[0]


def charset(c: Context, table: Table, columns: list[Any],
            new_table: dict[str, Any] | None = None) -> list[Found]:
    """CHARSET: a new text column whose character set is not the one around it."""
    texts = [col for col in columns if isinstance(getattr(col, "type", None), sa.String)]
    table_set = str((new_table or {}).get("mysql_charset")
                    or (new_table or {}).get("mysql_default_charset") or "").lower()
    found: list[Found] = []
    for col in texts:
        mine = _charset(col)

        def measure(live: Live, mine: str = mine) -> int | None:
            database = _family(live.database_charset())
            around = _family((table_set if new_table is not None
                              else live.table_charset(table)) or database)
            own = _family(mine) or around
            # Not the table's character set, or utf8mb3 inside a utf8mb4 database.
            return int(own != around or (own == "utf8mb3" and database == "utf8mb4"))

        def reason(_: int, col: Any = col, mine: str = mine) -> str:
            return (f"{CHARSET}: {col.name} of {name_of(table)} is "
                    f"{mine or table_set or 'the table default'} next to utf8mb4 text "
                    "(or the reverse): "
                    "utf8 (utf8mb3) cannot store 4-byte characters such as emoji, and "
                    "comparing or joining the two converts")

        found.append(c.probe(
            BAD_DATA, table, measure, reason,
            "declare the column utf8mb4 (mysql_charset / collation utf8mb4_…), as the "
            "rest of the table", tables=() if new_table is not None else (table,),
            counted=False,
        ))
    return found


def _family(name: str) -> str:
    name = (name or "").lower()
    return "utf8mb3" if name in ("utf8", "utf8mb3") else name
