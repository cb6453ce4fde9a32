"""Subjects erased whose case key may still exist (the key store is another database).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_erasure",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    # Erasures recorded before this table existed: their keys are checked at the next start.
    op.execute("INSERT INTO pending_erasure (case_id) "
               "SELECT DISTINCT case_id FROM case_event WHERE type = 'subject_erased'")


def downgrade() -> None:
    op.drop_table("pending_erasure")
