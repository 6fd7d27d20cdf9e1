"""Phone numbers: import, look up (by id, by number for a user, or server-wide), list, save, release."""

from __future__ import annotations

from dataclasses import dataclass, fields

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.phone_number import PhoneNumber
from .tables import phone_numbers

# number_state is not stored: a released number's row is deleted, so every stored number is enabled.
_COLUMNS = tuple(item.name for item in fields(PhoneNumber) if item.name != "number_state")


def _from_row(row: sa.Row) -> PhoneNumber:
    data = row._mapping
    return PhoneNumber(**{name: data[name] for name in _COLUMNS})


async def insert_number(conn: AsyncConnection, number: PhoneNumber) -> None:
    """Store a new number; a number already held (by anyone) raises IntegrityError from the UNIQUE."""
    await conn.execute(phone_numbers.insert().values(**{name: getattr(number, name) for name in _COLUMNS}))


async def find_number(conn: AsyncConnection, number: str) -> PhoneNumber | None:
    """The number, whoever holds it (E.164): how an inbound call finds its user and application."""
    row = (await conn.execute(sa.select(phone_numbers).where(phone_numbers.c.number == number))).first()
    return _from_row(row) if row else None


async def user_owns_number(conn: AsyncConnection, user_id: str, number: str) -> bool:
    query = sa.select(phone_numbers.c.id).where(
        phone_numbers.c.number == number, phone_numbers.c.user_id == user_id
    )
    return (await conn.execute(query)).first() is not None


async def get_number(
    conn: AsyncConnection, user_id: str, *, number_id: str | None = None, number: str | None = None
) -> PhoneNumber | None:
    """The user's number, by its `n-` id or by the E.164 number itself."""
    query = sa.select(phone_numbers).where(phone_numbers.c.user_id == user_id)
    if number_id is not None:
        query = query.where(phone_numbers.c.id == number_id)
    if number is not None:
        query = query.where(phone_numbers.c.number == number)
    row = (await conn.execute(query)).first()
    return _from_row(row) if row else None


@dataclass
class NumberFilter:
    application_id: str | None = None
    state: str | None = None
    name: str | None = None
    city: str | None = None


async def list_numbers(
    conn: AsyncConnection, user_id: str, where: NumberFilter, *, offset: int, limit: int
) -> list[PhoneNumber]:
    """The user's numbers matching every given filter, oldest first."""
    query = sa.select(phone_numbers).where(phone_numbers.c.user_id == user_id)
    if where.application_id is not None:
        query = query.where(phone_numbers.c.application_id == where.application_id)
    if where.state is not None:
        query = query.where(phone_numbers.c.state == where.state)
    if where.name is not None:
        query = query.where(phone_numbers.c.name == where.name)
    if where.city is not None:
        query = query.where(phone_numbers.c.city == where.city)
    query = query.order_by(phone_numbers.c.seq).offset(offset).limit(limit)
    return [_from_row(row) for row in await conn.execute(query)]


async def save_number(conn: AsyncConnection, number: PhoneNumber) -> None:
    """Write back the properties an update may change."""
    await conn.execute(
        phone_numbers.update()
        .where(phone_numbers.c.id == number.id)
        .values(
            name=number.name, application_id=number.application_id, fallback_number=number.fallback_number
        )
    )


async def delete_number(conn: AsyncConnection, number_id: str) -> bool:
    """Release a number: its row goes, so the number can be imported again (by anyone)."""
    result = await conn.execute(phone_numbers.delete().where(phone_numbers.c.id == number_id))
    return result.rowcount > 0
