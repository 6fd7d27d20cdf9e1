"""A call's timeline (`GET /calls/{id}/events`) and the callback outbox, written in the caller's transaction.

Writing both in the same transaction as the state change is what makes an event impossible to lose and
impossible to send for a change that was rolled back (transactional outbox).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.call import Call
from ..domain.ids import new_id
from .tables import call_events, outbox


async def add_timeline(
    conn: AsyncConnection, call_id: str, name: str, at: datetime, data: str | None = None
) -> str:
    event_id = new_id("call_event")
    await conn.execute(
        call_events.insert().values(id=event_id, call_id=call_id, time=at, name=name, data=data)
    )
    return event_id


async def enqueue_callback(
    conn: AsyncConnection,
    *,
    user_id: str,
    stream: str,
    payload: dict[str, Any],
    url: str,
    fallback_url: str | None,
    method: str,
    timeout_ms: int,
    at: datetime,
) -> str:
    """Queue one callback for delivery; events of one `stream` (a call) are delivered in this order."""
    event_id = new_id("outbox")
    await conn.execute(
        outbox.insert().values(
            id=event_id,
            user_id=user_id,
            stream=stream,
            event_type=payload["eventType"],
            payload=payload,
            url=url,
            fallback_url=fallback_url,
            method=method,
            timeout_ms=timeout_ms,
            created_time=at,
            next_attempt_time=at,
            attempts=0,
        )
    )
    return event_id


class CallbackOwner(Protocol):
    """What owns callbacks (a call, a conference): where its events go, and how."""

    user_id: str
    callback_url: str | None
    fallback_url: str | None
    callback_http_method: str
    callback_timeout: int


async def enqueue_for(
    conn: AsyncConnection, owner: CallbackOwner, stream: str, payload: dict[str, Any], at: datetime
) -> None:
    """Queue `payload` to the owner's callbackUrl, if it has one (in the owner's stream's order)."""
    if owner.callback_url:
        await enqueue_callback(
            conn,
            user_id=owner.user_id,
            stream=stream,
            payload=payload,
            url=owner.callback_url,
            fallback_url=owner.fallback_url,
            method=owner.callback_http_method,
            timeout_ms=owner.callback_timeout,
            at=at,
        )


async def record_call_event(
    conn: AsyncConnection,
    call: Call,
    name: str,
    at: datetime,
    payload: dict[str, Any] | None,
    data: str | None = None,
) -> None:
    """The timeline entry for `name`, and its callback when there is a payload and a callbackUrl."""
    await add_timeline(conn, call.id, name, at, data)
    if payload is not None:
        await enqueue_for(conn, call, call.id, payload, at)


async def list_timeline(conn: AsyncConnection, call_id: str) -> list[sa.Row]:
    query = sa.select(call_events).where(call_events.c.call_id == call_id).order_by(call_events.c.seq)
    return list(await conn.execute(query))


async def get_timeline_event(conn: AsyncConnection, call_id: str, event_id: str) -> sa.Row | None:
    query = sa.select(call_events).where(call_events.c.call_id == call_id, call_events.c.id == event_id)
    return (await conn.execute(query)).first()
