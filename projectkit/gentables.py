"""A database of many small tables, as a large schema has them (tests and benchmarks)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def make_tables(url: str, count: int) -> None:
    """``count`` small tables ``t0000``, ``t0001``, …: a key, two columns, an index and
    a foreign key to the previous table."""
    metadata = sa.MetaData()
    for i in range(count):
        columns: list[sa.Column[Any]] = [
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(40), nullable=False, index=True),
            sa.Column("note", sa.Text)]
        if i:
            columns.append(sa.Column("prev_id", sa.Integer, sa.ForeignKey(f"t{i - 1:04}.id")))
        sa.Table(f"t{i:04}", metadata, *columns)
    engine = sa.create_engine(url)
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()
