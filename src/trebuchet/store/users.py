"""Users: creation with fresh credentials, lookup by token, per-user settings."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.clock import utcnow
from ..domain.user import User, hash_secret, new_credentials
from .tables import users


@dataclass
class NewUser:
    """A user just created, with the one copy of its secret that will ever exist in clear."""

    user: User
    secret: str


def _user(row: sa.Row) -> User:
    return User(
        id=row.id,
        token=row.token,
        secret_salt=row.secret_salt,
        secret_hash=row.secret_hash,
        created_time=row.created_time,
        signing_secret=row.signing_secret,
        call_rate_limit=row.call_rate_limit,
        api_rate_limit=row.api_rate_limit,
    )


async def create_user(
    conn: AsyncConnection,
    *,
    signing_secret: str | None = None,
    call_rate_limit: float | None = None,
    api_rate_limit: int | None = None,
) -> NewUser:
    user_id, token, secret, salt = new_credentials()
    user = User(
        id=user_id,
        token=token,
        secret_salt=salt,
        secret_hash=hash_secret(salt, secret),
        created_time=utcnow(),
        signing_secret=signing_secret,
        call_rate_limit=call_rate_limit,
        api_rate_limit=api_rate_limit,
    )
    await conn.execute(
        users.insert().values(
            id=user.id,
            token=user.token,
            secret_salt=user.secret_salt,
            secret_hash=user.secret_hash,
            created_time=user.created_time,
            signing_secret=signing_secret,
            call_rate_limit=call_rate_limit,
            api_rate_limit=api_rate_limit,
        )
    )
    return NewUser(user=user, secret=secret)


async def user_by_token(conn: AsyncConnection, token: str) -> User | None:
    row = (await conn.execute(sa.select(users).where(users.c.token == token))).first()
    return _user(row) if row else None


async def user_by_id(conn: AsyncConnection, user_id: str) -> User | None:
    row = (await conn.execute(sa.select(users).where(users.c.id == user_id))).first()
    return _user(row) if row else None


async def list_users(conn: AsyncConnection) -> list[User]:
    rows = await conn.execute(sa.select(users).order_by(users.c.created_time, users.c.id))
    return [_user(row) for row in rows]


async def update_user(conn: AsyncConnection, user_id: str, **values: object) -> bool:
    """Change settings (signing_secret, call_rate_limit, api_rate_limit); False if no such user."""
    result = await conn.execute(users.update().where(users.c.id == user_id).values(**values))
    return result.rowcount == 1
