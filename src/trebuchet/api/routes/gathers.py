"""`/calls/{callId}/gather`: collect DTMF digits on an active call (spec §2.9)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from ...domain.call import call_uri
from ...domain.gather import gather_resource, parse_create_gather, parse_update_gather
from ...domain.user import User
from ..auth import current_user
from ..common import json_response, public_base, read_json, user_base
from ..schemas import ERROR_RESPONSES, CreateGatherBody, GatherResource, UpdateGatherBody, json_body

router = APIRouter(prefix="/v1/users/{userId}/calls/{callId}", tags=["calls"])


@router.post(
    "/gather",
    status_code=201,
    summary="Gather DTMF digits",
    response_class=Response,
    responses={
        201: {"description": "Started; the Location header is the gather, its result comes as an event"},
        409: ERROR_RESPONSES[403],
        **ERROR_RESPONSES,
    },
    openapi_extra=json_body(CreateGatherBody),
)
async def create_gather(request: Request, callId: str, user: User = Depends(current_user)) -> Response:
    spec = parse_create_gather(await read_json(request))
    call_url = call_uri(user_base(request, user.id), callId)
    location = await request.app.state.calls.gathers.start(
        user, callId, spec, lambda gather_id: f"{call_url}/gather/{gather_id}", public_base(request)
    )
    return Response(status_code=201, headers={"Location": location})


@router.get(
    "/gather/{gatherId}", summary="Get a gather", response_model=GatherResource, responses=ERROR_RESPONSES
)
async def get_gather(
    request: Request, callId: str, gatherId: str, user: User = Depends(current_user)
) -> Response:
    gather = await request.app.state.calls.gathers.get(user, callId, gatherId)
    return json_response(gather_resource(gather, call_uri(user_base(request, user.id), callId)))


@router.post(
    "/gather/{gatherId}",
    summary="Stop a gather",
    response_class=Response,
    responses={200: {"description": "Stopped (or already complete)"}, **ERROR_RESPONSES},
    openapi_extra=json_body(UpdateGatherBody),
)
async def update_gather(
    request: Request, callId: str, gatherId: str, user: User = Depends(current_user)
) -> Response:
    parse_update_gather(await read_json(request))
    await request.app.state.calls.gathers.stop(user, callId, gatherId)
    return Response(status_code=200)
