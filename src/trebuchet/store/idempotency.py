"""`Idempotency-Key` on creates: the same key and body within 24 hours gets the first answer again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.clock import utcnow
from ..domain.errors import ApiError
from .tables import idempotency_keys

if TYPE_CHECKING:
    from .database import Database

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class IdempotentRequest:
    """A request's `Idempotency-Key` and a hash of its path and body."""

    key: str
    request_hash: str


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


async def create_once(
    db: Database,
    user_id: str,
    idem: IdempotentRequest | None,
    location: str,
    now: datetime,
    insert: Callable[[AsyncConnection], Awaitable[None]],
) -> str:
    """Run `insert` in one write transaction and return the Location to answer with: this one, or the
    one first answered under the same key."""
    try:
        async with db.write() as conn:
            if idem is not None:
                earlier = await recall(conn, user_id, idem.key, now)
                if earlier is not None:
                    return earlier.replayed_location(idem.key, idem.request_hash)
            await insert(conn)
            if idem is not None:
                await remember(conn, user_id, idem.key, idem.request_hash, 201, location, now)
    except IntegrityError:
        if idem is None:
            raise
        # A concurrent request with the same key may have won the race: answer what it answered.
        async with db.read() as conn:
            earlier = await recall(conn, user_id, idem.key, utcnow())
        if earlier is None:
            raise
        return earlier.replayed_location(idem.key, idem.request_hash)
    return location
