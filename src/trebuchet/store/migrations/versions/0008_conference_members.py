"""conference_members: the calls in a conference, past and present

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conference_members",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("conference_id", sa.String(length=40), nullable=False),
        sa.Column("call_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("mute", sa.Boolean(), nullable=False),
        sa.Column("hold", sa.Boolean(), nullable=False),
        sa.Column("join_tone", sa.Boolean(), nullable=False),
        sa.Column("leaving_tone", sa.Boolean(), nullable=False),
        sa.Column("added_time", sa.BigInteger(), nullable=False),
        sa.Column("removed_time", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"]),
        sa.ForeignKeyConstraint(["conference_id"], ["conferences.id"]),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("conference_members", schema=None) as batch_op:
        batch_op.create_index("ix_conference_members_call", ["call_id", "state"], unique=False)
        batch_op.create_index("ix_conference_members_conference", ["conference_id", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conference_members", schema=None) as batch_op:
        batch_op.drop_index("ix_conference_members_conference")
        batch_op.drop_index("ix_conference_members_call")
    op.drop_table("conference_members")
