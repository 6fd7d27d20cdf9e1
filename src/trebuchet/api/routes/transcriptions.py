"""`/recordings/{recordingId}/transcriptions` and `/calls/{callId}/transcriptions` (spec §6, §2.11).

A transcription is made on demand here (or by the engine for calls with `transcriptionEnabled`); the
speech to text runs in the background and its `transcription` event goes to the call's callback URL.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from ...domain.clock import utcnow
from ...domain.coerce import require_object
from ...domain.errors import ApiError
from ...domain.ids import is_plausible_id
from ...domain.recording import Recording
from ...domain.transcription import (
    invalid_recording_state,
    transcription_not_found,
    transcription_resource,
)
from ...domain.user import User
from ...store import recordings as recording_store
from ...store import transcriptions as transcription_store
from ..auth import current_user
from ..common import json_response, read_json, user_base
from ..creates import create_once, idempotent_request
from ..paging import link_header, parse_page
from ..schemas import ERROR_RESPONSES, CreateTranscriptionBody, TranscriptionResource

router = APIRouter(prefix="/v1/users/{userId}", tags=["transcriptions"])

_EMPTY_BODY = {
    "requestBody": {
        "required": False,
        "description": "An empty object, `{}` (an empty body is taken as one)",
        "content": {
            "application/json": {
                "schema": {"$ref": f"#/components/schemas/{CreateTranscriptionBody.__name__}"}
            }
        },
    }
}


async def _recording(request: Request, user: User, recording_id: str) -> Recording:
    """The user's recording, or 404 recording-not-found."""
    recording = None
    if is_plausible_id(recording_id):
        async with request.app.state.db.read() as conn:
            recording = await recording_store.get_recording(conn, user.id, recording_id)
    if recording is None:
        raise ApiError(404, "recording-not-found", f"The recording {recording_id} could not be found")
    return recording


@router.post(
    "/recordings/{recordingId}/transcriptions",
    status_code=201,
    summary="Transcribe a recording (the text comes as a transcription event)",
    response_class=Response,
    responses={
        201: {"description": "Started; the Location header is the transcription"},
        403: {
            **ERROR_RESPONSES[403],
            "description": "invalid-recording-state: the recording is not complete",
        },
        409: {
            **ERROR_RESPONSES[403],
            "description": "duplicate-transcription: one is under way or done (an error may be retried)",
        },
        **{code: body for code, body in ERROR_RESPONSES.items() if code != 403},
    },
    openapi_extra=_EMPTY_BODY,
)
async def create_transcription(
    request: Request, recordingId: str, user: User = Depends(current_user)
) -> Response:
    body = require_object(await read_json(request))
    idem = idempotent_request(request, body)
    recording = await _recording(request, user, recordingId)
    if recording.state != "complete":
        raise invalid_recording_state(recording.id)
    service = request.app.state.calls.transcriptions
    transcription = service.prepare(recording)
    base = user_base(request, user.id)
    location = f"{base}/recordings/{recording.id}/transcriptions/{transcription.id}"

    async def insert(conn: AsyncConnection) -> None:
        standing = await transcription_store.standing_transcription(conn, recording.id)
        if standing is not None:
            raise ApiError(
                409,
                "duplicate-transcription",
                f"The recording {recording.id} already has the transcription {standing}",
            )
        await transcription_store.insert_transcription(conn, transcription)

    answered = await create_once(request.app.state.db, user.id, idem, location, utcnow(), insert)
    if answered == location:  # not a replay of an earlier request's answer
        service.begin(transcription)
    return Response(status_code=201, headers={"Location": answered})


@router.get(
    "/recordings/{recordingId}/transcriptions",
    summary="List a recording's transcriptions",
    response_model=list[TranscriptionResource],
    responses=ERROR_RESPONSES,
)
async def list_transcriptions(
    request: Request,
    recordingId: str,
    user: User = Depends(current_user),
    page: str | None = Query(None, description="0-based page number (default 0)"),
    size: str | None = Query(None, description="Page size (default 25, at most 1000)"),
) -> Response:
    page_spec = parse_page(page, size, "transcription")
    recording = await _recording(request, user, recordingId)
    async with request.app.state.db.read() as conn:
        rows = await transcription_store.list_transcriptions(
            conn, user.id, recording_id=recording.id, offset=page_spec.offset, limit=page_spec.size + 1
        )
    base = user_base(request, user.id)
    url = f"{base}/recordings/{recording.id}/transcriptions"
    link = link_header(url, page_spec, {}, len(rows) > page_spec.size)
    listed = [transcription_resource(t, base) for t in rows[: page_spec.size]]
    return json_response(listed, headers={"Link": link})


@router.get(
    "/recordings/{recordingId}/transcriptions/{transcriptionId}",
    summary="Get a transcription",
    response_model=TranscriptionResource,
    responses=ERROR_RESPONSES,
)
async def get_transcription(
    request: Request, recordingId: str, transcriptionId: str, user: User = Depends(current_user)
) -> Response:
    recording = await _recording(request, user, recordingId)
    transcription = None
    if is_plausible_id(transcriptionId):
        async with request.app.state.db.read() as conn:
            transcription = await transcription_store.get_transcription(
                conn, user.id, transcriptionId, recording.id
            )
    if transcription is None:
        raise transcription_not_found(transcriptionId)
    return json_response(transcription_resource(transcription, user_base(request, user.id)))


@router.get(
    "/calls/{callId}/transcriptions",
    summary="List the transcriptions of a call's recordings (not paged)",
    response_model=list[TranscriptionResource],
    responses=ERROR_RESPONSES,
)
async def list_call_transcriptions(
    request: Request, callId: str, user: User = Depends(current_user)
) -> Response:
    await request.app.state.calls.get(user, callId)  # 404 unless it is the user's
    async with request.app.state.db.read() as conn:
        rows = await transcription_store.list_transcriptions(conn, user.id, call_id=callId)
    base = user_base(request, user.id)
    return json_response([transcription_resource(t, base) for t in rows])
