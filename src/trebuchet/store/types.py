"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa


class UtcMillis(sa.types.TypeDecorator[datetime]):
    """An aware UTC datetime stored as epoch milliseconds: sortable, compact, identical on both backends."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> int | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return round(value.timestamp() * 1000)

    def process_result_value(self, value: int | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return datetime.fromtimestamp(value / 1000, UTC)


class JsonText(sa.types.TypeDecorator[Any]):
    """JSON kept as text, so both backends store and return exactly what was written."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        if value is None:
            return None
        return json.loads(value)


# An auto-incrementing row number: SQLite needs INTEGER PRIMARY KEY for its rowid alias.
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
