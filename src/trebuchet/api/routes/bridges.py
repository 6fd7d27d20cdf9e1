"""`/v1/users/{userId}/bridges`: two calls that hear each other (spec §3)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from ...domain.audio import parse_audio
from ...domain.bridge import bridge_resource, parse_bridge
from ...domain.call import call_resource
from ...domain.user import User
from ...store import bridges as bridge_store
from ..auth import current_user
from ..common import json_response, public_base, read_json, user_base
from ..creates import idempotent_request
from ..paging import link_header, parse_page
from ..schemas import ERROR_RESPONSES, AudioBody, BridgeBody, BridgeResource, CallResource, json_body

router = APIRouter(prefix="/v1/users/{userId}", tags=["bridges"])


@router.post(
    "/bridges",
    status_code=201,
    summary="Create a bridge (with up to two calls)",
    response_class=Response,
    responses={201: {"description": "Created; the Location header is the new bridge"}, **ERROR_RESPONSES},
    openapi_extra=json_body(BridgeBody),
)
async def create_bridge(request: Request, user: User = Depends(current_user)) -> Response:
    body = await read_json(request)
    change = parse_bridge(body)
    base = user_base(request, user.id)
    location = await request.app.state.calls.bridges.create(
        user, change, lambda bridge_id: f"{base}/bridges/{bridge_id}", idempotent_request(request, body)
    )
    return Response(status_code=201, headers={"Location": location})


@router.get(
    "/bridges", summary="List bridges", response_model=list[BridgeResource], responses=ERROR_RESPONSES
)
async def list_bridges(
    request: Request,
    user: User = Depends(current_user),
    page: str | None = Query(None, description="0-based page number (default 0)"),
    size: str | None = Query(None, description="Page size (default 25, at most 1000)"),
) -> Response:
    page_spec = parse_page(page, size, "bridge")
    async with request.app.state.db.read() as conn:
        rows = await bridge_store.list_bridges(
            conn, user.id, offset=page_spec.offset, limit=page_spec.size + 1
        )
    base = user_base(request, user.id)
    link = link_header(f"{base}/bridges", page_spec, {}, len(rows) > page_spec.size)
    items = [bridge_resource(bridge, base) for bridge in rows[: page_spec.size]]
    return json_response(items, headers={"Link": link})


@router.get(
    "/bridges/{bridgeId}", summary="Get a bridge", response_model=BridgeResource, responses=ERROR_RESPONSES
)
async def get_bridge(request: Request, bridgeId: str, user: User = Depends(current_user)) -> Response:
    bridge = await request.app.state.calls.bridges.get(user, bridgeId)
    return json_response(bridge_resource(bridge, user_base(request, user.id)))


@router.post(
    "/bridges/{bridgeId}",
    summary="Change a bridge's calls (the list replaces them) or turn its audio on and off",
    response_class=Response,
    responses={200: {"description": "Done"}, **ERROR_RESPONSES},
    openapi_extra=json_body(BridgeBody),
)
async def update_bridge(request: Request, bridgeId: str, user: User = Depends(current_user)) -> Response:
    change = parse_bridge(await read_json(request), bridgeId)
    await request.app.state.calls.bridges.update(user, bridgeId, change)
    return Response(status_code=200)


@router.get(
    "/bridges/{bridgeId}/calls",
    summary="The calls in (or once in) a bridge",
    response_model=list[CallResource],
    responses=ERROR_RESPONSES,
)
async def bridge_calls(request: Request, bridgeId: str, user: User = Depends(current_user)) -> Response:
    calls = await request.app.state.calls.bridges.calls_of(user, bridgeId)
    base = user_base(request, user.id)
    return json_response([call_resource(call, base) for call in calls])


@router.post(
    "/bridges/{bridgeId}/audio",
    summary="Play a file or speak a sentence to both calls of a bridge",
    response_class=Response,
    responses={200: {"description": "Playing"}, 503: ERROR_RESPONSES[403], **ERROR_RESPONSES},
    openapi_extra=json_body(AudioBody),
)
async def bridge_audio(request: Request, bridgeId: str, user: User = Depends(current_user)) -> Response:
    audio = parse_audio(await read_json(request), "bridge")
    await request.app.state.calls.bridges.play(user, bridgeId, audio, public_base(request))
    return Response(status_code=200)
