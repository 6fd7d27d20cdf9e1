"""Bridges as stored; a bridge's calls are the calls whose `bridge_id` names it and that are still live."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.bridge import Bridge
from .tables import bridges, calls

LIVE = ("started", "active", "transferring")


def _from_row(row: sa.Row, call_ids: list[str]) -> Bridge:
    data = row._mapping
    return Bridge(
        id=data["id"],
        user_id=data["user_id"],
        created_time=data["created_time"],
        state=data["state"],
        bridge_audio=data["bridge_audio"],
        call_ids=call_ids,
        activated_time=data["activated_time"],
        completed_time=data["completed_time"],
    )


async def live_call_ids(conn: AsyncConnection, bridge_id: str) -> list[str]:
    query = (
        sa.select(calls.c.id)
        .where(calls.c.bridge_id == bridge_id, calls.c.state.in_(LIVE))
        .order_by(calls.c.seq)
    )
    return [row.id for row in await conn.execute(query)]


async def insert_bridge(conn: AsyncConnection, bridge: Bridge) -> None:
    await conn.execute(
        bridges.insert().values(
            id=bridge.id,
            user_id=bridge.user_id,
            state=bridge.state,
            bridge_audio=bridge.bridge_audio,
            created_time=bridge.created_time,
        )
    )


async def save_bridge(conn: AsyncConnection, bridge: Bridge) -> None:
    await conn.execute(
        bridges.update()
        .where(bridges.c.id == bridge.id)
        .values(
            state=bridge.state,
            bridge_audio=bridge.bridge_audio,
            activated_time=bridge.activated_time,
            completed_time=bridge.completed_time,
        )
    )


async def get_bridge(conn: AsyncConnection, bridge_id: str, user_id: str | None = None) -> Bridge | None:
    query = sa.select(bridges).where(bridges.c.id == bridge_id)
    if user_id is not None:
        query = query.where(bridges.c.user_id == user_id)
    row = (await conn.execute(query)).first()
    return _from_row(row, await live_call_ids(conn, bridge_id)) if row is not None else None


async def list_bridges(conn: AsyncConnection, user_id: str, *, offset: int, limit: int) -> list[Bridge]:
    query = (
        sa.select(bridges)
        .where(bridges.c.user_id == user_id)
        .order_by(bridges.c.seq.desc())
        .offset(offset)
        .limit(limit)
    )
    rows = list(await conn.execute(query))
    return [_from_row(row, await live_call_ids(conn, row.id)) for row in rows]


async def set_call_bridge(conn: AsyncConnection, call_id: str, bridge_id: str | None) -> None:
    await conn.execute(calls.update().where(calls.c.id == call_id).values(bridge_id=bridge_id))
