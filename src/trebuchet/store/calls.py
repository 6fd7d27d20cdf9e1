"""Calls: insert, fetch, list with the API's filters, and state updates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.call import Call
from .tables import calls

_COLUMN_OF = {
    "from_": "from_number",
    "to": "to_address",
}


def call_row(call: Call) -> dict[str, Any]:
    values = {_COLUMN_OF.get(name, name): value for name, value in vars(call).items()}
    values["sip_headers"] = call.sip_headers or None
    return values


def call_from_row(row: sa.Row) -> Call:
    data = row._mapping
    return Call(
        id=data["id"],
        user_id=data["user_id"],
        direction=data["direction"],
        from_=data["from_number"],
        to=data["to_address"],
        state=data["state"],
        start_time=data["start_time"],
        active_time=data["active_time"],
        end_time=data["end_time"],
        call_timeout=data["call_timeout"],
        callback_url=data["callback_url"],
        callback_http_method=data["callback_http_method"],
        callback_timeout=data["callback_timeout"],
        fallback_url=data["fallback_url"],
        bridge_id=data["bridge_id"],
        conference_id=data["conference_id"],
        recording_enabled=data["recording_enabled"],
        recording_file_format=data["recording_file_format"],
        recording_max_duration=data["recording_max_duration"],
        transcription_enabled=data["transcription_enabled"],
        tag=data["tag"],
        sip_headers=data["sip_headers"] or {},
        cause=data["cause"],
        transfer_to=data["transfer_to"],
        transfer_caller_id=data["transfer_caller_id"],
        node=data["node"],
        dialog=data["dialog"],
        diversion=data["diversion"],
    )


async def insert_call(conn: AsyncConnection, call: Call) -> None:
    await conn.execute(calls.insert().values(**call_row(call)))


async def get_call(conn: AsyncConnection, call_id: str, user_id: str | None = None) -> Call | None:
    query = sa.select(calls).where(calls.c.id == call_id)
    if user_id is not None:
        query = query.where(calls.c.user_id == user_id)
    row = (await conn.execute(query)).first()
    return call_from_row(row) if row else None


async def save_call(conn: AsyncConnection, call: Call) -> None:
    """Write back every mutable field of a call that was read and changed in this transaction."""
    values = call_row(call)
    for fixed in ("id", "user_id", "direction", "start_time"):
        values.pop(fixed)
    await conn.execute(calls.update().where(calls.c.id == call.id).values(**values))


@dataclass
class CallFilter:
    from_: str | None = None
    to: str | None = None
    bridge_id: str | None = None
    conference_id: str | None = None
    from_time: datetime | None = None
    to_time: datetime | None = None
    descending: bool = True


async def list_calls(
    conn: AsyncConnection, user_id: str, where: CallFilter, *, offset: int, limit: int | None
) -> list[Call]:
    query = sa.select(calls).where(calls.c.user_id == user_id)
    if where.from_ is not None:
        query = query.where(calls.c.from_number == where.from_)
    if where.to is not None:
        query = query.where(calls.c.to_address == where.to)
    if where.bridge_id is not None:
        query = query.where(calls.c.bridge_id == where.bridge_id)
    if where.conference_id is not None:
        query = query.where(calls.c.conference_id == where.conference_id)
    if where.from_time is not None:
        query = query.where(calls.c.start_time >= where.from_time)
    if where.to_time is not None:
        query = query.where(calls.c.start_time <= where.to_time)
    if where.descending:
        query = query.order_by(calls.c.start_time.desc(), calls.c.seq.desc())
    else:
        query = query.order_by(calls.c.start_time.asc(), calls.c.seq.asc())
    query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [call_from_row(row) for row in await conn.execute(query)]


async def live_call_ids(conn: AsyncConnection, node: str | None = None) -> list[str]:
    """Calls not yet ended that `node` carries (or that no node claims): what its restart must close.

    Other processes sharing the database keep theirs: only the process with the dialog can end a call.
    """
    query = sa.select(calls.c.id).where(calls.c.state.in_(("started", "active", "transferring")))
    if node is not None:
        query = query.where(sa.or_(calls.c.node == node, calls.c.node.is_(None)))
    rows = await conn.execute(query.order_by(calls.c.seq))
    return [row.id for row in rows]
