"""Conferences and their members as stored; `activeMembers` is counted from the members, never kept apart."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.conference import Conference, Member
from .tables import conference_members, conferences


def _conference(row: sa.Row, active: int) -> Conference:
    data = row._mapping
    return Conference(
        id=data["id"],
        user_id=data["user_id"],
        from_=data["from_number"],
        created_time=data["created_time"],
        state=data["state"],
        callback_url=data["callback_url"],
        callback_http_method=data["callback_http_method"],
        callback_timeout=data["callback_timeout"],
        fallback_url=data["fallback_url"],
        profile=data["profile"],
        tag=data["tag"],
        mute=data["mute"],
        hold=data["hold"],
        completed_time=data["completed_time"],
        active_members=active,
    )


def _member(row: sa.Row) -> Member:
    data = row._mapping
    return Member(
        id=data["id"],
        conference_id=data["conference_id"],
        call_id=data["call_id"],
        added_time=data["added_time"],
        state=data["state"],
        mute=data["mute"],
        hold=data["hold"],
        join_tone=data["join_tone"],
        leaving_tone=data["leaving_tone"],
        removed_time=data["removed_time"],
    )


def _values(conference: Conference) -> dict[str, object]:
    return {
        "state": conference.state,
        "callback_url": conference.callback_url,
        "callback_http_method": conference.callback_http_method,
        "callback_timeout": conference.callback_timeout,
        "fallback_url": conference.fallback_url,
        "tag": conference.tag,
        "mute": conference.mute,
        "hold": conference.hold,
        "completed_time": conference.completed_time,
    }


async def insert_conference(conn: AsyncConnection, conference: Conference) -> None:
    await conn.execute(
        conferences.insert().values(
            id=conference.id,
            user_id=conference.user_id,
            from_number=conference.from_,
            profile=conference.profile,
            created_time=conference.created_time,
            **_values(conference),
        )
    )


async def save_conference(conn: AsyncConnection, conference: Conference) -> None:
    await conn.execute(
        conferences.update().where(conferences.c.id == conference.id).values(**_values(conference))
    )


async def get_conference(
    conn: AsyncConnection, conference_id: str, user_id: str | None = None
) -> Conference | None:
    query = sa.select(conferences).where(conferences.c.id == conference_id)
    if user_id is not None:
        query = query.where(conferences.c.user_id == user_id)
    row = (await conn.execute(query)).first()
    return _conference(row, await active_count(conn, conference_id)) if row is not None else None


async def active_count(conn: AsyncConnection, conference_id: str) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(conference_members)
        .where(conference_members.c.conference_id == conference_id, conference_members.c.state == "active")
    )
    return int((await conn.execute(query)).scalar_one())


async def insert_member(conn: AsyncConnection, member: Member) -> None:
    await conn.execute(
        conference_members.insert().values(
            id=member.id,
            conference_id=member.conference_id,
            call_id=member.call_id,
            state=member.state,
            mute=member.mute,
            hold=member.hold,
            join_tone=member.join_tone,
            leaving_tone=member.leaving_tone,
            added_time=member.added_time,
        )
    )


async def save_member(conn: AsyncConnection, member: Member) -> None:
    await conn.execute(
        conference_members.update()
        .where(conference_members.c.id == member.id)
        .values(
            state=member.state,
            mute=member.mute,
            hold=member.hold,
            join_tone=member.join_tone,
            leaving_tone=member.leaving_tone,
            removed_time=member.removed_time,
        )
    )


async def get_member(conn: AsyncConnection, conference_id: str, member_id: str) -> Member | None:
    query = sa.select(conference_members).where(
        conference_members.c.id == member_id, conference_members.c.conference_id == conference_id
    )
    row = (await conn.execute(query)).first()
    return _member(row) if row is not None else None


async def list_members(
    conn: AsyncConnection, conference_id: str, *, active_only: bool = False
) -> list[Member]:
    query = (
        sa.select(conference_members)
        .where(conference_members.c.conference_id == conference_id)
        .order_by(conference_members.c.seq)
    )
    if active_only:
        query = query.where(conference_members.c.state == "active")
    return [_member(row) for row in await conn.execute(query)]


async def active_membership(conn: AsyncConnection, call_id: str) -> Member | None:
    """The call's membership of a conference, if it is in one now."""
    query = sa.select(conference_members).where(
        conference_members.c.call_id == call_id, conference_members.c.state == "active"
    )
    row = (await conn.execute(query)).first()
    return _member(row) if row is not None else None
