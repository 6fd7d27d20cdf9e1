"""gathers: DTMF gathers on calls

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gathers",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("call_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("digits", sa.String(length=64), nullable=True),
        sa.Column("max_digits", sa.Integer(), nullable=False),
        sa.Column("inter_digit_timeout", sa.Float(), nullable=False),
        sa.Column("terminating_digits", sa.String(length=16), nullable=False),
        sa.Column("tag", sa.String(length=256), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("completed_time", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("gathers", schema=None) as batch_op:
        batch_op.create_index("ix_gathers_call", ["call_id", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gathers", schema=None) as batch_op:
        batch_op.drop_index("ix_gathers_call")
    op.drop_table("gathers")
