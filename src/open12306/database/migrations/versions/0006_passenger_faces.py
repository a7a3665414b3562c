"""passenger_faces: enrolled face embeddings of saved passengers

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "passenger_faces",
        sa.Column("passenger_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=32), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["passenger_id"], ["passengers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("passenger_id"),
    )
    with op.batch_alter_table("passenger_faces", schema=None) as batch_op:
        batch_op.create_index("ix_passenger_faces_account_id", ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("passenger_faces", schema=None) as batch_op:
        batch_op.drop_index("ix_passenger_faces_account_id")
    op.drop_table("passenger_faces")
