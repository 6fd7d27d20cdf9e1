"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bridges",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("bridge_audio", sa.Boolean(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("activated_time", sa.BigInteger(), nullable=True),
        sa.Column("completed_time", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("bridges", schema=None) as batch_op:
        batch_op.create_index("ix_bridges_user", ["user_id", "seq"], unique=False)

    op.create_table(
        "call_events",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("call_id", sa.String(length=40), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("call_events", schema=None) as batch_op:
        batch_op.create_index("ix_call_events_call", ["call_id", "seq"], unique=False)

    op.create_table(
        "conferences",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("from_number", sa.String(length=32), nullable=False),
        sa.Column("callback_url", sa.Text(), nullable=True),
        sa.Column("callback_http_method", sa.String(length=4), nullable=False),
        sa.Column("callback_timeout", sa.Integer(), nullable=False),
        sa.Column("fallback_url", sa.Text(), nullable=True),
        sa.Column("profile", sa.String(length=32), nullable=False),
        sa.Column("tag", sa.String(length=256), nullable=True),
        sa.Column("mute", sa.Boolean(), nullable=False),
        sa.Column("hold", sa.Boolean(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("completed_time", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("conferences", schema=None) as batch_op:
        batch_op.create_index("ix_conferences_user", ["user_id", "seq"], unique=False)

    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "key"),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("stream", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("fallback_url", sa.Text(), nullable=True),
        sa.Column("method", sa.String(length=4), nullable=False),
        sa.Column("timeout_ms", sa.Integer(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("next_attempt_time", sa.BigInteger(), nullable=False),
        sa.Column("claimed_until", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("delivered_time", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_pending",
            ["stream", "seq"],
            unique=False,
            sqlite_where=sa.text("delivered_time IS NULL"),
            postgresql_where=sa.text("delivered_time IS NULL"),
        )

    op.create_table(
        "user_errors",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("user_errors", schema=None) as batch_op:
        batch_op.create_index("ix_user_errors_user", ["user_id", "seq"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("secret_salt", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("signing_secret", sa.String(length=256), nullable=True),
        sa.Column("call_rate_limit", sa.Float(), nullable=True),
        sa.Column("api_rate_limit", sa.Integer(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    op.create_table(
        "calls",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("from_number", sa.String(length=1024), nullable=False),
        sa.Column("to_address", sa.String(length=1024), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("active_time", sa.BigInteger(), nullable=True),
        sa.Column("end_time", sa.BigInteger(), nullable=True),
        sa.Column("call_timeout", sa.Integer(), nullable=False),
        sa.Column("callback_url", sa.Text(), nullable=True),
        sa.Column("callback_http_method", sa.String(length=4), nullable=False),
        sa.Column("callback_timeout", sa.Integer(), nullable=False),
        sa.Column("fallback_url", sa.Text(), nullable=True),
        sa.Column("bridge_id", sa.String(length=40), nullable=True),
        sa.Column("conference_id", sa.String(length=40), nullable=True),
        sa.Column("recording_enabled", sa.Boolean(), nullable=False),
        sa.Column("recording_file_format", sa.String(length=8), nullable=False),
        sa.Column("recording_max_duration", sa.Integer(), nullable=False),
        sa.Column("transcription_enabled", sa.Boolean(), nullable=False),
        sa.Column("tag", sa.String(length=256), nullable=True),
        sa.Column("sip_headers", sa.Text(), nullable=True),
        sa.Column("cause", sa.String(length=64), nullable=True),
        sa.Column("transfer_to", sa.String(length=1024), nullable=True),
        sa.Column("transfer_caller_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index("ix_calls_bridge", ["bridge_id"], unique=False)
        batch_op.create_index("ix_calls_conference", ["conference_id"], unique=False)
        batch_op.create_index(
            "ix_calls_live",
            ["state"],
            unique=False,
            sqlite_where=sa.text("state IN ('started','active','transferring')"),
            postgresql_where=sa.text("state IN ('started','active','transferring')"),
        )
        batch_op.create_index("ix_calls_user_from", ["user_id", "from_number", "start_time"], unique=False)
        batch_op.create_index("ix_calls_user_start", ["user_id", "start_time"], unique=False)
        batch_op.create_index("ix_calls_user_to", ["user_id", "to_address", "start_time"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_user_to")
        batch_op.drop_index("ix_calls_user_start")
        batch_op.drop_index("ix_calls_user_from")
        batch_op.drop_index(
            "ix_calls_live",
            sqlite_where=sa.text("state IN ('started','active','transferring')"),
            postgresql_where=sa.text("state IN ('started','active','transferring')"),
        )
        batch_op.drop_index("ix_calls_conference")
        batch_op.drop_index("ix_calls_bridge")

    op.drop_table("calls")
    op.drop_table("users")
    with op.batch_alter_table("user_errors", schema=None) as batch_op:
        batch_op.drop_index("ix_user_errors_user")

    op.drop_table("user_errors")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_pending",
            sqlite_where=sa.text("delivered_time IS NULL"),
            postgresql_where=sa.text("delivered_time IS NULL"),
        )

    op.drop_table("outbox")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("conferences", schema=None) as batch_op:
        batch_op.drop_index("ix_conferences_user")

    op.drop_table("conferences")
    with op.batch_alter_table("call_events", schema=None) as batch_op:
        batch_op.drop_index("ix_call_events_call")

    op.drop_table("call_events")
    with op.batch_alter_table("bridges", schema=None) as batch_op:
        batch_op.drop_index("ix_bridges_user")

    op.drop_table("bridges")
