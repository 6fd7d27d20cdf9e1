"""Gathers as stored: one row per gather, `started` until its digits are in (or it is stopped)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.gather import Gather, GatherRules
from .tables import gathers


def _from_row(row: sa.Row) -> Gather:
    data = row._mapping
    return Gather(
        id=data["id"],
        call_id=data["call_id"],
        user_id=data["user_id"],
        rules=GatherRules(data["max_digits"], data["inter_digit_timeout"], data["terminating_digits"]),
        created_time=data["created_time"],
        state=data["state"],
        reason=data["reason"],
        digits=data["digits"] or "",
        tag=data["tag"],
        prompt=data["prompt"],
        completed_time=data["completed_time"],
    )


async def insert_gather(conn: AsyncConnection, gather: Gather) -> None:
    await conn.execute(
        gathers.insert().values(
            id=gather.id,
            call_id=gather.call_id,
            user_id=gather.user_id,
            state=gather.state,
            max_digits=gather.rules.max_digits,
            inter_digit_timeout=gather.rules.inter_digit_timeout,
            terminating_digits=gather.rules.terminating_digits,
            tag=gather.tag,
            prompt=gather.prompt,
            created_time=gather.created_time,
        )
    )


async def get_gather(conn: AsyncConnection, gather_id: str, call_id: str | None = None) -> Gather | None:
    query = sa.select(gathers).where(gathers.c.id == gather_id)
    if call_id is not None:
        query = query.where(gathers.c.call_id == call_id)
    row = (await conn.execute(query)).first()
    return _from_row(row) if row is not None else None


async def started_gather(conn: AsyncConnection, call_id: str) -> Gather | None:
    query = sa.select(gathers).where(gathers.c.call_id == call_id, gathers.c.state == "started")
    row = (await conn.execute(query)).first()
    return _from_row(row) if row is not None else None


async def complete_gather(
    conn: AsyncConnection, gather_id: str, *, reason: str, digits: str, at: datetime
) -> bool:
    """Mark it completed; False when it already was (a stop racing the last digit)."""
    result = await conn.execute(
        gathers.update()
        .where(gathers.c.id == gather_id, gathers.c.state == "started")
        .values(state="completed", reason=reason, digits=digits, completed_time=at)
    )
    return result.rowcount == 1
