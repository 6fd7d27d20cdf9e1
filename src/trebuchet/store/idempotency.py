"""`Idempotency-Key` on creates: the same key and body within 24 hours gets the first answer again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.errors import ApiError
from .tables import idempotency_keys

WINDOW = timedelta(hours=24)


@dataclass
class Remembered:
    request_hash: str
    status: int
    location: str | None

    def replayed_location(self, key: str, request_hash: str) -> str:
        """The first answer's Location, for the same request again; 409 for another request."""
        if request_hash != self.request_hash:
            raise ApiError(
                409,
                "idempotency-key-reused",
                f"The Idempotency-Key {key} was already used with a different request",
            )
        return self.location or ""


async def recall(conn: AsyncConnection, user_id: str, key: str, now: datetime) -> Remembered | None:
    query = sa.select(idempotency_keys).where(
        idempotency_keys.c.user_id == user_id,
        idempotency_keys.c.key == key,
        idempotency_keys.c.created_time > now - WINDOW,
    )
    row = (await conn.execute(query)).first()
    return Remembered(row.request_hash, row.status, row.location) if row else None


async def remember(
    conn: AsyncConnection,
    user_id: str,
    key: str,
    request_hash: str,
    status: int,
    location: str | None,
    now: datetime,
) -> None:
    """Store the answer in the creating transaction; an expired entry for the same key is replaced."""
    await conn.execute(
        idempotency_keys.delete().where(
            idempotency_keys.c.user_id == user_id,
            idempotency_keys.c.key == key,
            idempotency_keys.c.created_time <= now - WINDOW,
        )
    )
    await conn.execute(
        idempotency_keys.insert().values(
            user_id=user_id,
            key=key,
            request_hash=request_hash,
            status=status,
            location=location,
            created_time=now,
        )
    )
