"""Create and fill a large table for data-heavy migtui benchmarks.

The table has an integer primary key, text/int/timestamp columns, one nullable column and a
small binary (BLOB / BYTEA) column.  Rows are deterministic and inserted with SQLAlchemy Core
``executemany`` in batches.  An existing table of the same name is dropped first.

Usage::

    python benchmarks/gentable.py URL TABLE --rows M [--batch B]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
)

__all__ = ["build_table", "generate_table"]

_BASE_TS = datetime(2024, 1, 1)
_STATUSES = ("new", "active", "paused", "archived", "deleted")


def build_table(table: str, metadata: MetaData | None = None) -> Table:
    """Return the benchmark :class:`~sqlalchemy.Table` definition named ``table``."""
    return Table(
        table,
        metadata if metadata is not None else MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("name", String(64), nullable=False),
        Column("status", String(16), nullable=False),
        Column("quantity", Integer, nullable=False),
        Column("created_at", DateTime, nullable=False),
        Column("note", Text, nullable=True),
        Column("payload", LargeBinary, nullable=False),
    )


def _rows(start: int, stop: int) -> Iterator[dict[str, Any]]:
    """Yield deterministic rows with primary keys ``start + 1 .. stop``."""
    for i in range(start + 1, stop + 1):
        yield {
            "id": i,
            "name": f"name-{i}",
            "status": _STATUSES[i % 5],
            "quantity": (i * 7919) % 10_000,
            "created_at": _BASE_TS + timedelta(seconds=i),
            "note": None if i % 3 == 0 else f"note {i}",
            "payload": i.to_bytes(8, "little"),
        }


def generate_table(url: str, table: str, rows: int, *, batch: int = 10_000) -> None:
    """(Re)create ``table`` in the database at ``url`` and insert ``rows`` rows.

    Rows are inserted with Core ``executemany`` in batches of ``batch`` rows, each batch
    in its own transaction.  Works with SQLite and PostgreSQL (psycopg2).
    """
    if rows < 0 or batch < 1:
        raise ValueError("rows must be >= 0 and batch >= 1")
    engine = create_engine(url)
    try:
        metadata = MetaData()
        tbl = build_table(table, metadata)
        with engine.begin() as conn:
            tbl.drop(conn, checkfirst=True)
            tbl.create(conn)
        insert = tbl.insert()
        for start in range(0, rows, batch):
            chunk = list(_rows(start, min(start + batch, rows)))
            with engine.begin() as conn:
                conn.execute(insert, chunk)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="SQLAlchemy database URL")
    parser.add_argument("table", help="table name (dropped and recreated)")
    parser.add_argument("--rows", type=int, required=True, help="number of rows to insert")
    parser.add_argument("--batch", type=int, default=10_000, help="rows per executemany batch")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    generate_table(args.url, args.table, args.rows, batch=args.batch)
    elapsed = time.perf_counter() - started
    print(f"inserted {args.rows} rows into {args.table} in {elapsed:.2f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
