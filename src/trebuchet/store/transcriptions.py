"""Transcriptions as stored: a row per transcription of a recording, `transcribing` until it settles."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.transcription import Transcription
from .tables import transcriptions


def _from_row(row: sa.Row) -> Transcription:
    data = row._mapping
    return Transcription(
        id=data["id"],
        user_id=data["user_id"],
        recording_id=data["recording_id"],
        call_id=data["call_id"],
        time=data["time"],
        state=data["state"],
        text=data["text"],
        text_size=data["text_size"],
        chargeable_duration=data["chargeable_duration"],
        node=data["node"],
    )


async def insert_transcription(conn: AsyncConnection, transcription: Transcription) -> None:
    await conn.execute(
        transcriptions.insert().values(
            id=transcription.id,
            user_id=transcription.user_id,
            recording_id=transcription.recording_id,
            call_id=transcription.call_id,
            state=transcription.state,
            text=transcription.text,
            text_size=transcription.text_size,
            chargeable_duration=transcription.chargeable_duration,
            time=transcription.time,
            node=transcription.node,
        )
    )


async def settle_transcription(conn: AsyncConnection, transcription: Transcription) -> bool:
    """Write the outcome (state, text, sizes) of one still `transcribing`; False when it had settled
    already (a shutdown racing the end of the work), so its event is written once."""
    result = await conn.execute(
        transcriptions.update()
        .where(transcriptions.c.id == transcription.id, transcriptions.c.state == "transcribing")
        .values(
            state=transcription.state,
            text=transcription.text,
            text_size=transcription.text_size,
            chargeable_duration=transcription.chargeable_duration,
        )
    )
    return result.rowcount == 1


async def get_transcription(
    conn: AsyncConnection, user_id: str, transcription_id: str, recording_id: str | None = None
) -> Transcription | None:
    query = sa.select(transcriptions).where(
        transcriptions.c.id == transcription_id, transcriptions.c.user_id == user_id
    )
    if recording_id is not None:
        query = query.where(transcriptions.c.recording_id == recording_id)
    row = (await conn.execute(query)).first()
    return _from_row(row) if row is not None else None


async def list_transcriptions(
    conn: AsyncConnection,
    user_id: str,
    *,
    recording_id: str | None = None,
    call_id: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[Transcription]:
    """The user's transcriptions of one recording or one call, newest first (like recordings)."""
    query = sa.select(transcriptions).where(transcriptions.c.user_id == user_id)
    if recording_id is not None:
        query = query.where(transcriptions.c.recording_id == recording_id)
    if call_id is not None:
        query = query.where(transcriptions.c.call_id == call_id)
    query = query.order_by(transcriptions.c.seq.desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [_from_row(row) for row in await conn.execute(query)]


async def standing_transcription(conn: AsyncConnection, recording_id: str) -> str | None:
    """A transcription of the recording that is under way or done (an `error` one may be tried again)."""
    query = sa.select(transcriptions.c.id).where(
        transcriptions.c.recording_id == recording_id,
        transcriptions.c.state.in_(("transcribing", "completed")),
    )
    row = (await conn.execute(query.limit(1))).first()
    return row.id if row is not None else None


async def left_transcribing(conn: AsyncConnection, node: str | None) -> list[Transcription]:
    """Transcriptions this server process was running when an earlier run of it stopped mid-way (with no
    node id, every one still `transcribing`, as with live calls)."""
    query = (
        sa.select(transcriptions)
        .where(transcriptions.c.state == "transcribing")
        .order_by(transcriptions.c.seq)
    )
    if node is not None:
        query = query.where(transcriptions.c.node == node)
    return [_from_row(row) for row in await conn.execute(query)]
