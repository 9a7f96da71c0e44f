"""How the confirmation names an operation it will run."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import ops

from migtui.core.checks.recorder import _describe


def test_a_table_of_one_column_is_said_in_the_singular() -> None:
    one = ops.CreateTableOp("note", [sa.Column("id", sa.Integer, primary_key=True)])
    two = ops.CreateTableOp("tag", [sa.Column("id", sa.Integer), sa.Column("name", sa.Text)])
    assert _describe(one, None) == "create_table('note', 1 column)"
    assert _describe(two, None) == "create_table('tag', 2 columns)"
