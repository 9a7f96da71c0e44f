"""add ssn and created_at to user

Revision ID: 8c2e47d1a5f0
Revises: 3f1a2c9d0b11
Create Date: 2026-11-09 14:40:00.000000

The schema evolves: two nullable columns, so existing users keep working.
Downgrading drops them again, and whatever they held is gone.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "8c2e47d1a5f0"
down_revision: str | Sequence[str] | None = "3f1a2c9d0b11"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch_op:
        batch_op.add_column(
            sa.Column("ssn", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=True)
        )
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_column("created_at")
        batch_op.drop_column("ssn")
