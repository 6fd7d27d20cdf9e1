"""The schema as SQLAlchemy Core tables. Migrations in `migrations/versions` build the same schema."""

from __future__ import annotations

import sqlalchemy as sa

from .types import JsonText, Seq, UtcMillis

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("token", sa.String(64), nullable=False, unique=True),
    sa.Column("secret_salt", sa.String(64), nullable=False),
    sa.Column("secret_hash", sa.String(128), nullable=False),
    sa.Column("signing_secret", sa.String(256)),
    sa.Column("call_rate_limit", sa.Float),
    sa.Column("api_rate_limit", sa.Integer),
    sa.Column("created_time", UtcMillis, nullable=False),
)

calls = sa.Table(
    "calls",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("direction", sa.String(3), nullable=False),
    sa.Column("from_number", sa.String(1024), nullable=False),
    sa.Column("to_address", sa.String(1024), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("start_time", UtcMillis, nullable=False),
    sa.Column("active_time", UtcMillis),
    sa.Column("end_time", UtcMillis),
    sa.Column("call_timeout", sa.Integer, nullable=False),
    sa.Column("callback_url", sa.Text),
    sa.Column("callback_http_method", sa.String(4), nullable=False),
    sa.Column("callback_timeout", sa.Integer, nullable=False),
    sa.Column("fallback_url", sa.Text),
    sa.Column("bridge_id", sa.String(40)),
    sa.Column("conference_id", sa.String(40)),
    sa.Column("recording_enabled", sa.Boolean, nullable=False),
    sa.Column("recording_file_format", sa.String(8), nullable=False),
    sa.Column("recording_max_duration", sa.Integer, nullable=False),
    sa.Column("transcription_enabled", sa.Boolean, nullable=False),
    sa.Column("tag", sa.String(256)),
    sa.Column("sip_headers", JsonText),
    sa.Column("cause", sa.String(64)),
    sa.Column("transfer_to", sa.String(1024)),
    sa.Column("transfer_caller_id", sa.String(64)),
    sa.Column("node", sa.String(128)),  # the process carrying the call; a restart closes only its own
    sa.Column("dialog", JsonText),  # its SIP dialog once answered, so a restart after a crash can BYE it
    sa.Column("diversion", JsonText),  # an inbound call's Diversion headers, newest first
    sa.Index("ix_calls_user_start", "user_id", "start_time"),
    sa.Index("ix_calls_user_from", "user_id", "from_number", "start_time"),
    sa.Index("ix_calls_user_to", "user_id", "to_address", "start_time"),
    sa.Index("ix_calls_bridge", "bridge_id"),
    sa.Index("ix_calls_conference", "conference_id"),
    sa.Index(
        "ix_calls_live",
        "state",
        sqlite_where=sa.text("state IN ('started','active','transferring')"),
        postgresql_where=sa.text("state IN ('started','active','transferring')"),
    ),
)

call_events = sa.Table(
    "call_events",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("call_id", sa.String(40), nullable=False),
    sa.Column("time", UtcMillis, nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("data", sa.Text),
    sa.Index("ix_call_events_call", "call_id", "seq"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("user_id", sa.String(40), nullable=False),
    sa.Column("stream", sa.String(40), nullable=False),
    sa.Column("event_type", sa.String(40), nullable=False),
    sa.Column("payload", JsonText, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("fallback_url", sa.Text),
    sa.Column("method", sa.String(4), nullable=False),
    sa.Column("timeout_ms", sa.Integer, nullable=False),
    sa.Column("created_time", UtcMillis, nullable=False),
    sa.Column("next_attempt_time", UtcMillis, nullable=False),
    sa.Column("claimed_until", UtcMillis),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("delivered_time", UtcMillis),
    sa.Column("outcome", sa.String(16)),
    sa.Column("last_error", sa.Text),
    sa.Index(
        "ix_outbox_pending",
        "stream",
        "seq",
        sqlite_where=sa.text("delivered_time IS NULL"),
        postgresql_where=sa.text("delivered_time IS NULL"),
    ),
)

user_errors = sa.Table(
    "user_errors",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("user_id", sa.String(40), nullable=False),
    sa.Column("time", UtcMillis, nullable=False),
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("details", JsonText, nullable=False),
    sa.Index("ix_user_errors_user", "user_id", "seq"),
)

bridges = sa.Table(
    "bridges",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("user_id", sa.String(40), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("bridge_audio", sa.Boolean, nullable=False),
    sa.Column("created_time", UtcMillis, nullable=False),
    sa.Column("activated_time", UtcMillis),
    sa.Column("completed_time", UtcMillis),
    sa.Index("ix_bridges_user", "user_id", "seq"),
)

conferences = sa.Table(
    "conferences",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("user_id", sa.String(40), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("from_number", sa.String(32), nullable=False),
    sa.Column("callback_url", sa.Text),
    sa.Column("callback_http_method", sa.String(4), nullable=False),
    sa.Column("callback_timeout", sa.Integer, nullable=False),
    sa.Column("fallback_url", sa.Text),
    sa.Column("profile", sa.String(32), nullable=False),
    sa.Column("tag", sa.String(256)),
    sa.Column("mute", sa.Boolean, nullable=False),
    sa.Column("hold", sa.Boolean, nullable=False),
    sa.Column("created_time", UtcMillis, nullable=False),
    sa.Column("completed_time", UtcMillis),
    sa.Index("ix_conferences_user", "user_id", "seq"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("user_id", sa.String(40), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("location", sa.Text),
    sa.Column("created_time", UtcMillis, nullable=False),
)

applications = sa.Table(
    "applications",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("incoming_call_url", sa.Text),
    sa.Column("incoming_call_url_callback_timeout", sa.Integer, nullable=False),
    sa.Column("incoming_call_fallback_url", sa.Text),
    sa.Column("incoming_message_url", sa.Text),
    sa.Column("incoming_message_url_callback_timeout", sa.Integer, nullable=False),
    sa.Column("incoming_message_fallback_url", sa.Text),
    sa.Column("callback_http_method", sa.String(4), nullable=False),
    sa.Column("auto_answer", sa.Boolean, nullable=False),
    sa.Column("created_time", UtcMillis, nullable=False),
    sa.Index("ix_applications_user", "user_id", "seq"),
)

# A number is held by one user of the whole server (UNIQUE number): inbound calls are routed by it.
phone_numbers = sa.Table(
    "phone_numbers",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("number", sa.String(16), nullable=False, unique=True),
    sa.Column("national_number", sa.String(32)),
    sa.Column("name", sa.String(256)),
    sa.Column("application_id", sa.String(40), sa.ForeignKey("applications.id", ondelete="SET NULL")),
    sa.Column("fallback_number", sa.String(16)),
    sa.Column("city", sa.String(64)),
    sa.Column("state", sa.String(64)),
    sa.Column("price", sa.String(16), nullable=False),
    sa.Column("created_time", UtcMillis, nullable=False),
    sa.Index("ix_phone_numbers_user", "user_id", "seq"),
    sa.Index("ix_phone_numbers_application", "application_id"),
)

# A DTMF gather on a call (spec §2.9): at most one `started` per call at a time.
gathers = sa.Table(
    "gathers",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("call_id", sa.String(40), sa.ForeignKey("calls.id"), nullable=False),
    sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(32)),
    sa.Column("digits", sa.String(64)),
    sa.Column("max_digits", sa.Integer, nullable=False),
    sa.Column("inter_digit_timeout", sa.Float, nullable=False),
    sa.Column("terminating_digits", sa.String(16), nullable=False),
    sa.Column("tag", sa.String(256)),
    sa.Column("prompt", JsonText),
    sa.Column("created_time", UtcMillis, nullable=False),
    sa.Column("completed_time", UtcMillis),
    sa.Index("ix_gathers_call", "call_id", "seq"),
)

# Media files (spec §7): the metadata; the bytes are <data_dir>/media/<userId>/<name> (store/media.py).
media = sa.Table(
    "media",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(255), nullable=False),
    sa.Column("cache_control", sa.String(255)),
    sa.Column("length", sa.BigInteger, nullable=False),
    sa.Column("created_time", UtcMillis, nullable=False),
    sa.Column("updated_time", UtcMillis, nullable=False),
    sa.UniqueConstraint("user_id", "name", name="uq_media_user_name"),
    sa.Index("ix_media_user", "user_id", "seq"),
)

# A call's recordings (spec §5); the file is the user's media `{callId}-{number}.{file_format}`.
recordings = sa.Table(
    "recordings",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("call_id", sa.String(40), sa.ForeignKey("calls.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("file_format", sa.String(8), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("start_time", UtcMillis, nullable=False),
    sa.Column("end_time", UtcMillis),
    sa.UniqueConstraint("call_id", "number", name="uq_recordings_call_number"),
    sa.Index("ix_recordings_user", "user_id", "seq"),
)

# Transcriptions of recordings (spec §6); the full text is also the user's media `{id}` (text/plain).
transcriptions = sa.Table(
    "transcriptions",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("recording_id", sa.String(40), sa.ForeignKey("recordings.id"), nullable=False),
    sa.Column("call_id", sa.String(40), sa.ForeignKey("calls.id"), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("text", sa.Text),
    sa.Column("text_size", sa.Integer),
    sa.Column("chargeable_duration", sa.Integer),
    sa.Column("time", UtcMillis, nullable=False),
    sa.Column("node", sa.String(128)),  # the server process running it (TREBUCHET_NODE_ID)
    sa.Index("ix_transcriptions_recording", "recording_id", "seq"),
    sa.Index("ix_transcriptions_call", "call_id", "seq"),
)

# Members of conferences (spec §4.2): one row per time a call was added; removed members stay, `completed`.
conference_members = sa.Table(
    "conference_members",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("conference_id", sa.String(40), sa.ForeignKey("conferences.id"), nullable=False),
    sa.Column("call_id", sa.String(40), sa.ForeignKey("calls.id"), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("mute", sa.Boolean, nullable=False),
    sa.Column("hold", sa.Boolean, nullable=False),
    sa.Column("join_tone", sa.Boolean, nullable=False),
    sa.Column("leaving_tone", sa.Boolean, nullable=False),
    sa.Column("added_time", UtcMillis, nullable=False),
    sa.Column("removed_time", UtcMillis),
    sa.Index("ix_conference_members_conference", "conference_id", "seq"),
    sa.Index("ix_conference_members_call", "call_id", "state"),
)
