"""`/v1/users/{userId}/calls`: create, get, list, update, and the call's event timeline (spec §2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from ...domain.audio import parse_audio
from ...domain.call import call_resource, parse_create_call, parse_update_call
from ...domain.clock import iso, parse_iso
from ...domain.coerce import as_enum
from ...domain.dtmf import parse_dtmf_out
from ...domain.errors import ApiError, validation_error
from ...domain.ids import is_plausible_id
from ...domain.user import User
from ...store import call_events
from ...store import calls as call_store
from ..auth import current_user
from ..common import json_response, public_base, read_json, user_base
from ..creates import idempotent_request
from ..paging import link_header, parse_page
from ..schemas import (
    ERROR_RESPONSES,
    AudioBody,
    CallEventResource,
    CallResource,
    CreateCallBody,
    SendDtmfBody,
    UpdateCallBody,
    json_body,
)

router = APIRouter(prefix="/v1/users/{userId}", tags=["calls"])


@router.post(
    "/calls",
    status_code=201,
    summary="Create an outbound call",
    response_class=Response,
    responses={201: {"description": "Created; the Location header is the new call"}, **ERROR_RESPONSES},
    openapi_extra=json_body(CreateCallBody),
)
async def create_call(request: Request, user: User = Depends(current_user)) -> Response:
    body = await read_json(request)
    spec = parse_create_call(body)
    idem = idempotent_request(request, body)
    request.app.state.limits.check_call_create(user, spec.from_)
    base = user_base(request, user.id)
    created = await request.app.state.calls.create(
        user, spec, lambda call_id: f"{base}/calls/{call_id}", idem
    )
    return Response(status_code=201, headers={"Location": created.location})


@router.get(
    "/calls",
    summary="List calls",
    response_model=list[CallResource],
    responses=ERROR_RESPONSES,
)
async def list_calls(
    request: Request,
    user: User = Depends(current_user),
    from_: str | None = Query(None, alias="from", description="Only calls from this number or URI"),
    to: str | None = Query(None, description="Only calls to this number or URI"),
    bridgeId: str | None = Query(None, description="Calls of this bridge (not paged)"),
    conferenceId: str | None = Query(None, description="Calls of this conference (not paged)"),
    sortOrder: str | None = Query(None, description="asc or desc by startTime (default desc)"),
    fromDateTime: str | None = Query(None, description="Only calls started at or after this ISO-8601 time"),
    toDateTime: str | None = Query(None, description="Only calls started at or before this ISO-8601 time"),
    page: str | None = Query(None, description="0-based page number (default 0)"),
    size: str | None = Query(None, description="Page size (default 25, at most 1000)"),
) -> Response:
    for name, value in (("from", from_), ("to", to), ("bridgeId", bridgeId), ("conferenceId", conferenceId)):
        if value is not None and not value.isprintable():
            raise validation_error(name, "must not contain control characters")
    where = call_store.CallFilter(from_=from_, to=to, bridge_id=bridgeId, conference_id=conferenceId)
    if sortOrder is not None:
        where.descending = as_enum(sortOrder, "sortOrder", ("asc", "desc")) == "desc"
    for name, text in (("fromDateTime", fromDateTime), ("toDateTime", toDateTime)):
        if text is not None:
            try:
                moment = parse_iso(text)
            except ValueError:
                raise validation_error(name, "must be an ISO-8601 date or date-time") from None
            if name == "fromDateTime":
                where.from_time = moment
            else:
                where.to_time = moment
    paged = bridgeId is None and conferenceId is None  # the docs: no paging for bridge/conference lists
    page_spec = parse_page(page, size)
    base = user_base(request, user.id)
    async with request.app.state.db.read() as conn:
        if paged:
            rows = await call_store.list_calls(
                conn, user.id, where, offset=page_spec.offset, limit=page_spec.size + 1
            )
        else:
            rows = await call_store.list_calls(conn, user.id, where, offset=0, limit=None)
    headers = {}
    if paged:
        has_more = len(rows) > page_spec.size
        rows = rows[: page_spec.size]
        filters = {
            name: value
            for name, value in (
                ("from", from_),
                ("to", to),
                ("sortOrder", sortOrder),
                ("fromDateTime", fromDateTime),
                ("toDateTime", toDateTime),
            )
            if value is not None
        }
        headers["Link"] = link_header(f"{base}/calls", page_spec, filters, has_more)
    return json_response([call_resource(call, base) for call in rows], headers=headers)


@router.get(
    "/calls/{callId}",
    summary="Get a call",
    response_model=CallResource,
    responses=ERROR_RESPONSES,
)
async def get_call(request: Request, callId: str, user: User = Depends(current_user)) -> Response:
    call = await request.app.state.calls.get(user, callId)
    return json_response(call_resource(call, user_base(request, user.id)))


@router.post(
    "/calls/{callId}",
    summary="Update a call: answer, reject, hang up, transfer, recording on/off",
    response_class=Response,
    responses={
        200: {"description": "Done"},
        201: {"description": "Transferring; the Location header is the new call leg"},
        409: ERROR_RESPONSES[403],
        503: ERROR_RESPONSES[403],
        **ERROR_RESPONSES,
    },
    openapi_extra=json_body(UpdateCallBody),
)
async def update_call(request: Request, callId: str, user: User = Depends(current_user)) -> Response:
    update = parse_update_call(await read_json(request))
    leg = await request.app.state.calls.update(user, callId, update)
    if leg is not None:  # a transfer: the clients read the new call leg's id from the Location
        return Response(status_code=201, headers={"Location": leg})
    return Response(status_code=200)


@router.post(
    "/calls/{callId}/dtmf",
    summary="Send DTMF digits into an active call (RFC 4733)",
    response_class=Response,
    responses={
        200: {"description": "Queued; the digits play in order"},
        503: ERROR_RESPONSES[403],
        **ERROR_RESPONSES,
    },
    openapi_extra=json_body(SendDtmfBody),
)
async def send_dtmf(request: Request, callId: str, user: User = Depends(current_user)) -> Response:
    digits = parse_dtmf_out(await read_json(request))
    await request.app.state.calls.send_dtmf(user, callId, digits)
    return Response(status_code=200)


@router.post(
    "/calls/{callId}/audio",
    summary="Play a file or speak a sentence into an active call; an empty fileUrl or sentence stops it",
    response_class=Response,
    responses={
        200: {"description": "Playing (a playback or speak event follows when it is done)"},
        503: ERROR_RESPONSES[403],
        **ERROR_RESPONSES,
    },
    openapi_extra=json_body(AudioBody),
)
async def play_audio(request: Request, callId: str, user: User = Depends(current_user)) -> Response:
    audio = parse_audio(await read_json(request))
    await request.app.state.calls.audio.play(user, callId, audio, public_base(request))
    return Response(status_code=200)


def _event_resource(row: Any) -> dict[str, object]:
    resource = {"id": row.id, "time": iso(row.time), "name": row.name}
    if row.data is not None:
        resource["data"] = row.data
    return resource


@router.get(
    "/calls/{callId}/events",
    summary="List a call's events",
    response_model=list[CallEventResource],
    responses=ERROR_RESPONSES,
)
async def list_call_events(request: Request, callId: str, user: User = Depends(current_user)) -> Response:
    await request.app.state.calls.get(user, callId)  # 404 unless it is the user's
    async with request.app.state.db.read() as conn:
        rows = await call_events.list_timeline(conn, callId)
    return json_response([_event_resource(row) for row in rows])


@router.get(
    "/calls/{callId}/events/{callEventId}",
    summary="Get one event of a call",
    response_model=CallEventResource,
    responses=ERROR_RESPONSES,
)
async def get_call_event(
    request: Request,
    callId: str,
    callEventId: str,
    user: User = Depends(current_user),
) -> Response:
    await request.app.state.calls.get(user, callId)  # 404 unless it is the user's
    row = None
    if is_plausible_id(callEventId):
        async with request.app.state.db.read() as conn:
            row = await call_events.get_timeline_event(conn, callId, callEventId)
    if row is None:
        raise ApiError(
            404, "resource-not-found", f"The event {callEventId} of call {callId} could not be found"
        )
    return json_response(_event_resource(row))
