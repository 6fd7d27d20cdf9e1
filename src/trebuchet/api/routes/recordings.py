"""`/recordings` and `/calls/{callId}/recordings`: the recordings calls made (spec §5, §2.11), read-only."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from ...domain.errors import ApiError
from ...domain.ids import is_plausible_id
from ...domain.recording import recording_resource
from ...domain.user import User
from ...store import recordings as recording_store
from ..auth import current_user
from ..common import json_response, user_base
from ..paging import link_header, parse_page
from ..schemas import ERROR_RESPONSES, RecordingResource

router = APIRouter(prefix="/v1/users/{userId}", tags=["recordings"])


@router.get(
    "/recordings",
    summary="List recordings",
    response_model=list[RecordingResource],
    responses=ERROR_RESPONSES,
)
async def list_recordings(
    request: Request,
    user: User = Depends(current_user),
    page: str | None = Query(None, description="0-based page number (default 0)"),
    size: str | None = Query(None, description="Page size (default 25, at most 1000)"),
) -> Response:
    page_spec = parse_page(page, size, "recording")
    async with request.app.state.db.read() as conn:
        rows = await recording_store.list_recordings(
            conn, user.id, offset=page_spec.offset, limit=page_spec.size + 1
        )
    base = user_base(request, user.id)
    link = link_header(f"{base}/recordings", page_spec, {}, len(rows) > page_spec.size)
    return json_response(
        [recording_resource(r, base) for r in rows[: page_spec.size]], headers={"Link": link}
    )


@router.get(
    "/recordings/{recordingId}",
    summary="Get a recording",
    response_model=RecordingResource,
    responses=ERROR_RESPONSES,
)
async def get_recording(request: Request, recordingId: str, user: User = Depends(current_user)) -> Response:
    recording = None
    if is_plausible_id(recordingId):
        async with request.app.state.db.read() as conn:
            recording = await recording_store.get_recording(conn, user.id, recordingId)
    if recording is None:
        raise ApiError(404, "recording-not-found", f"The recording {recordingId} could not be found")
    return json_response(recording_resource(recording, user_base(request, user.id)))


@router.get(
    "/calls/{callId}/recordings",
    summary="List a call's recordings (not paged)",
    response_model=list[RecordingResource],
    responses=ERROR_RESPONSES,
)
async def list_call_recordings(request: Request, callId: str, user: User = Depends(current_user)) -> Response:
    await request.app.state.calls.get(user, callId)  # 404 unless it is the user's
    async with request.app.state.db.read() as conn:
        rows = await recording_store.list_recordings(conn, user.id, call_id=callId)
    base = user_base(request, user.id)
    return json_response([recording_resource(r, base) for r in rows])
