"""MySQL and MariaDB: what the other databases do not need to know.

DDL is not transactional there: every CREATE, ALTER or DROP commits the transaction it
runs in, so a step that fails on its second statement keeps its first one, and
``alembic_version`` (updated after the step) still names the revision before it. And
the server's catalog (``information_schema.tables``) has each table's storage engine,
row format, estimated row count and size, which the inspector shows and the pre-flight
rules weigh.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names of dialects are needed before SQLAlchemy is imported
    from sqlalchemy.engine import Connection, Dialect

#: SQLAlchemy's dialect names for MySQL and MariaDB (``mysql+pymysql://`` to a MariaDB
#: server is "mysql"; ``mariadb+pymysql://`` is "mariadb").
MYSQL_DIALECTS = frozenset({"mysql", "mariadb"})


def dialect_name(dialect: Dialect) -> str:
    """The dialect's name, "mariadb" for a MariaDB server even through ``mysql://``
    (SQLAlchemy names that dialect "mysql" and tells the server by ``is_mariadb``)."""
    if dialect.name == "mysql" and getattr(dialect, "is_mariadb", False):
        return "mariadb"
    return str(dialect.name)


def display_name(dialect: str) -> str:
    """"MariaDB", "MySQL", "PostgreSQL", "SQLite" (else the name as it is)."""
    return {"mariadb": "MariaDB", "mysql": "MySQL", "postgresql": "PostgreSQL",
            "sqlite": "SQLite"}.get(dialect, dialect)


def is_mysql(dialect: str) -> bool:
    """MySQL or MariaDB."""
    return dialect in MYSQL_DIALECTS


@dataclass(frozen=True)
class CatalogTable:
    """One table as ``information_schema.tables`` describes it (estimates)."""

    name: str
    engine: str  # "InnoDB", "Aria", "MyISAM", … ("" for a view)
    row_format: str  # "Dynamic", "Compact", "Compressed", "Redundant", …
    rows: int  # InnoDB's estimate: off by up to half either way
    data_bytes: int
    index_bytes: int

    @property
    def size_text(self) -> str:
        """Data and indexes, e.g. "12.4 MB"."""
        return human_bytes(self.data_bytes + self.index_bytes)


def catalog_tables(conn: Connection, schema: str | None = None) -> dict[str, CatalogTable]:
    """The tables of ``schema`` (the connection's database by default), by name."""
    import sqlalchemy as sa

    query = sa.text(
        "SELECT table_name, engine, row_format, table_rows, data_length, index_length"
        " FROM information_schema.tables"
        " WHERE table_schema = COALESCE(:schema, DATABASE()) AND table_type = 'BASE TABLE'")
    found: dict[str, CatalogTable] = {}
    for name, engine, row_format, rows, data, index in conn.execute(query, {"schema": schema}):
        found[str(name)] = CatalogTable(str(name), str(engine or ""), str(row_format or ""),
                                        int(rows or 0), int(data or 0), int(index or 0))
    return found


def human_bytes(size: int) -> str:
    """1536 -> "1.5 KB" (powers of 1024, as the server reports them)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"
