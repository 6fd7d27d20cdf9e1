"""Lookups of resources a call may name (bridges, conferences) before their own APIs exist."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .tables import bridges, conferences


async def bridge_exists(conn: AsyncConnection, user_id: str, bridge_id: str) -> bool:
    query = sa.select(bridges.c.id).where(bridges.c.id == bridge_id, bridges.c.user_id == user_id)
    return (await conn.execute(query)).first() is not None


async def conference_state(conn: AsyncConnection, user_id: str, conference_id: str) -> str | None:
    """The conference's state, or None when the user has no such conference."""
    query = sa.select(conferences.c.state).where(
        conferences.c.id == conference_id, conferences.c.user_id == user_id
    )
    row = (await conn.execute(query)).first()
    return row.state if row else None
