"""The user's error log (`GET /errors`): failed callbacks and refused API requests."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.ids import new_id
from .tables import user_errors

# How many entries a user keeps; older ones are dropped as new ones arrive.
RETAINED_PER_USER = 1000


async def record_error(
    conn: AsyncConnection,
    user_id: str,
    *,
    at: datetime,
    category: str,
    code: str,
    message: str,
    details: list[tuple[str, str]],
) -> str:
    error_id = new_id("user_error")
    detail_items = [
        {"id": new_id("user_error_detail"), "name": name, "value": value} for name, value in details
    ]
    result = await conn.execute(
        user_errors.insert().values(
            id=error_id,
            user_id=user_id,
            time=at,
            category=category,
            code=code,
            message=message,
            details=detail_items,
        )
    )
    if result.inserted_primary_key[0] % 100 == 0:  # prune now and then, not on every insert
        cutoff = (
            sa.select(user_errors.c.seq)
            .where(user_errors.c.user_id == user_id)
            .order_by(user_errors.c.seq.desc())
            .offset(RETAINED_PER_USER)
            .limit(1)
            .scalar_subquery()
        )
        await conn.execute(
            user_errors.delete().where(user_errors.c.user_id == user_id, user_errors.c.seq <= cutoff)
        )
    return error_id


async def list_errors(conn: AsyncConnection, user_id: str, *, offset: int, limit: int) -> list[sa.Row]:
    query = (
        sa.select(user_errors)
        .where(user_errors.c.user_id == user_id)
        .order_by(user_errors.c.seq.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(await conn.execute(query))


async def get_error(conn: AsyncConnection, user_id: str, error_id: str) -> sa.Row | None:
    query = sa.select(user_errors).where(user_errors.c.user_id == user_id, user_errors.c.id == error_id)
    return (await conn.execute(query)).first()
