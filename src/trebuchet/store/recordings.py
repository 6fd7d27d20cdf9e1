"""Recordings as stored: a row per recording of a call, numbered within the call."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.recording import Recording
from .tables import recordings


def _from_row(row: sa.Row) -> Recording:
    data = row._mapping
    return Recording(
        id=data["id"],
        user_id=data["user_id"],
        call_id=data["call_id"],
        number=data["number"],
        file_format=data["file_format"],
        start_time=data["start_time"],
        state=data["state"],
        end_time=data["end_time"],
    )


async def next_number(conn: AsyncConnection, call_id: str) -> int:
    query = sa.select(sa.func.max(recordings.c.number)).where(recordings.c.call_id == call_id)
    return int((await conn.execute(query)).scalar() or 0) + 1


async def insert_recording(conn: AsyncConnection, recording: Recording) -> None:
    await conn.execute(
        recordings.insert().values(
            id=recording.id,
            user_id=recording.user_id,
            call_id=recording.call_id,
            number=recording.number,
            file_format=recording.file_format,
            start_time=recording.start_time,
            state=recording.state,
            end_time=recording.end_time,
        )
    )


async def finish_recording(conn: AsyncConnection, recording_id: str, *, state: str, at: datetime) -> None:
    await conn.execute(
        recordings.update().where(recordings.c.id == recording_id).values(state=state, end_time=at)
    )


async def get_recording(conn: AsyncConnection, user_id: str, recording_id: str) -> Recording | None:
    query = sa.select(recordings).where(recordings.c.id == recording_id, recordings.c.user_id == user_id)
    row = (await conn.execute(query)).first()
    return _from_row(row) if row is not None else None


async def list_recordings(
    conn: AsyncConnection,
    user_id: str,
    *,
    call_id: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[Recording]:
    query = sa.select(recordings).where(recordings.c.user_id == user_id)
    if call_id is not None:
        query = query.where(recordings.c.call_id == call_id)
    query = query.order_by(recordings.c.seq.desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [_from_row(row) for row in await conn.execute(query)]


async def get_recording_by_id(conn: AsyncConnection, recording_id: str) -> Recording | None:
    row = (await conn.execute(sa.select(recordings).where(recordings.c.id == recording_id))).first()
    return _from_row(row) if row is not None else None


async def running_recording(conn: AsyncConnection, call_id: str) -> Recording | None:
    query = sa.select(recordings).where(recordings.c.call_id == call_id, recordings.c.state == "recording")
    row = (await conn.execute(query)).first()
    return _from_row(row) if row is not None else None
