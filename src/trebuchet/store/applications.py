"""Applications: insert, fetch, list, save, and delete (detaching the user's numbers from it)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.application import Application
from .tables import applications, phone_numbers

_ATTRIBUTES = tuple(item.name for item in fields(Application))


def _from_row(row: sa.Row) -> Application:
    data = row._mapping
    return Application(**{name: data[name] for name in _ATTRIBUTES})


async def insert_application(conn: AsyncConnection, app: Application, created_time: datetime) -> None:
    values = {name: getattr(app, name) for name in _ATTRIBUTES}
    await conn.execute(applications.insert().values(**values, created_time=created_time))


async def get_application(
    conn: AsyncConnection, application_id: str, user_id: str | None = None
) -> Application | None:
    """The application with this id; with `user_id`, only if that user owns it."""
    query = sa.select(applications).where(applications.c.id == application_id)
    if user_id is not None:
        query = query.where(applications.c.user_id == user_id)
    row = (await conn.execute(query)).first()
    return _from_row(row) if row else None


async def list_applications(
    conn: AsyncConnection, user_id: str, *, offset: int, limit: int
) -> list[Application]:
    """The user's applications, oldest first (a stable order, so pages never shift)."""
    query = (
        sa.select(applications)
        .where(applications.c.user_id == user_id)
        .order_by(applications.c.seq)
        .offset(offset)
        .limit(limit)
    )
    return [_from_row(row) for row in await conn.execute(query)]


async def save_application(conn: AsyncConnection, app: Application) -> None:
    """Write back every mutable field of an application read and changed in this transaction."""
    values = {name: getattr(app, name) for name in _ATTRIBUTES if name not in ("id", "user_id")}
    await conn.execute(applications.update().where(applications.c.id == app.id).values(**values))


async def delete_application(conn: AsyncConnection, application_id: str, user_id: str) -> bool:
    """Remove the user's application, first detaching it from the user's numbers; False if there was none.

    Detaching explicitly (rather than relying on the foreign key's ON DELETE SET NULL) keeps the outcome
    the same whether or not the database enforces foreign keys."""
    await conn.execute(
        phone_numbers.update()
        .where(phone_numbers.c.user_id == user_id, phone_numbers.c.application_id == application_id)
        .values(application_id=None)
    )
    result = await conn.execute(
        applications.delete().where(applications.c.id == application_id, applications.c.user_id == user_id)
    )
    return result.rowcount > 0
