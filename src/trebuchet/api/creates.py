"""Creating a resource once: `Idempotency-Key` (DECISIONS.md: on every POST that creates) for routes whose
create is a plain insert. The answer is remembered in the creating transaction, so a retry after a lost
response gets the first `Location` back instead of a second resource."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime

from fastapi import Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.clock import utcnow
from ..domain.errors import validation_error
from ..engine.calls import IdempotentRequest
from ..store import idempotency
from ..store.database import Database


def idempotent_request(request: Request, body: object) -> IdempotentRequest | None:
    """The request's key, if it sent one, with a hash of its path and body (a key reused on another
    resource or with another body is refused, never replayed)."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not key or len(key) > 255:
        raise validation_error("Idempotency-Key", "must be 1 to 255 characters", "request")
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(f"{request.url.path}\n{canonical}".encode()).hexdigest()
    return IdempotentRequest(key, digest)


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
                earlier = await idempotency.recall(conn, user_id, idem.key, now)
                if earlier is not None:
                    return earlier.replayed_location(idem.key, idem.request_hash)
            await insert(conn)
            if idem is not None:
                await idempotency.remember(conn, user_id, idem.key, idem.request_hash, 201, location, now)
    except IntegrityError:
        if idem is None:
            raise
        # A concurrent request with the same key may have won the race: answer what it answered.
        async with db.read() as conn:
            earlier = await idempotency.recall(conn, user_id, idem.key, utcnow())
        if earlier is None:
            raise
        return earlier.replayed_location(idem.key, idem.request_hash)
    return location
