"""`/v1/users/{userId}/conferences`: calls that all hear each other, and their members (spec §4)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from ...domain.audio import parse_audio
from ...domain.conference import (
    conference_resource,
    member_resource,
    parse_add_member,
    parse_create_conference,
    parse_update_conference,
    parse_update_member,
)
from ...domain.user import User
from ..auth import current_user
from ..common import json_response, public_base, read_json, user_base
from ..creates import idempotent_request
from ..schemas import (
    ERROR_RESPONSES,
    AudioBody,
    ConferenceResource,
    CreateConferenceBody,
    MemberBody,
    MemberResource,
    UpdateConferenceBody,
    json_body,
)

router = APIRouter(prefix="/v1/users/{userId}", tags=["conferences"])
DONE = {200: {"description": "Done"}, **ERROR_RESPONSES}
PLAYING = {200: {"description": "Playing"}, 503: ERROR_RESPONSES[403], **ERROR_RESPONSES}


@router.post(
    "/conferences",
    status_code=201,
    summary="Create a conference (members are added afterwards)",
    response_class=Response,
    responses={201: {"description": "Created; the Location header is the new conference"}, **ERROR_RESPONSES},
    openapi_extra=json_body(CreateConferenceBody),
)
async def create_conference(request: Request, user: User = Depends(current_user)) -> Response:
    body = await read_json(request)
    change = parse_create_conference(body)
    base = user_base(request, user.id)
    location = await request.app.state.calls.conferences.create(
        user,
        change,
        lambda conference_id: f"{base}/conferences/{conference_id}",
        idempotent_request(request, body),
    )
    return Response(status_code=201, headers={"Location": location})


@router.get(
    "/conferences/{conferenceId}",
    summary="Get a conference",
    response_model=ConferenceResource,
    responses=ERROR_RESPONSES,
)
async def get_conference(request: Request, conferenceId: str, user: User = Depends(current_user)) -> Response:
    conference = await request.app.state.calls.conferences.get(user, conferenceId)
    return json_response(conference_resource(conference, user_base(request, user.id)))


@router.post(
    "/conferences/{conferenceId}",
    summary="End a conference (state completed), mute or hold everyone, or change its callbacks",
    response_class=Response,
    responses=DONE,
    openapi_extra=json_body(UpdateConferenceBody),
)
async def update_conference(
    request: Request, conferenceId: str, user: User = Depends(current_user)
) -> Response:
    change = parse_update_conference(await read_json(request))
    await request.app.state.calls.conferences.update(user, conferenceId, change)
    return Response(status_code=200)


@router.post(
    "/conferences/{conferenceId}/audio",
    summary="Play a file or speak a sentence to everyone in a conference",
    response_class=Response,
    responses=PLAYING,
    openapi_extra=json_body(AudioBody),
)
async def conference_audio(
    request: Request, conferenceId: str, user: User = Depends(current_user)
) -> Response:
    audio = parse_audio(await read_json(request), "conference")
    await request.app.state.calls.conferences.play(user, conferenceId, audio, public_base(request))
    return Response(status_code=200)


@router.post(
    "/conferences/{conferenceId}/members",
    status_code=201,
    summary="Add an active call (created with this conferenceId) to a conference",
    response_class=Response,
    responses={201: {"description": "Added; the Location header is the new member"}, **PLAYING},
    openapi_extra=json_body(MemberBody),
)
async def add_member(request: Request, conferenceId: str, user: User = Depends(current_user)) -> Response:
    body = await read_json(request)
    change = parse_add_member(body)
    base = user_base(request, user.id)
    location = await request.app.state.calls.conferences.add_member(
        user,
        conferenceId,
        change,
        lambda member_id: f"{base}/conferences/{conferenceId}/members/{member_id}",
        idempotent_request(request, body),
    )
    return Response(status_code=201, headers={"Location": location})


@router.get(
    "/conferences/{conferenceId}/members",
    summary="A conference's members, those who left included (state completed)",
    response_model=list[MemberResource],
    responses=ERROR_RESPONSES,
)
async def list_members(request: Request, conferenceId: str, user: User = Depends(current_user)) -> Response:
    members = await request.app.state.calls.conferences.members(user, conferenceId)
    base = user_base(request, user.id)
    return json_response([member_resource(member, base) for member in members])


@router.get(
    "/conferences/{conferenceId}/members/{memberId}",
    summary="Get a conference member",
    response_model=MemberResource,
    responses=ERROR_RESPONSES,
)
async def get_member(
    request: Request, conferenceId: str, memberId: str, user: User = Depends(current_user)
) -> Response:
    member = await request.app.state.calls.conferences.get_member(user, conferenceId, memberId)
    return json_response(member_resource(member, user_base(request, user.id)))


@router.post(
    "/conferences/{conferenceId}/members/{memberId}",
    summary="Mute, hold or remove (state completed) a conference member",
    response_class=Response,
    responses=DONE,
    openapi_extra=json_body(MemberBody),
)
async def update_member(
    request: Request, conferenceId: str, memberId: str, user: User = Depends(current_user)
) -> Response:
    change = parse_update_member(await read_json(request))
    await request.app.state.calls.conferences.update_member(user, conferenceId, memberId, change)
    return Response(status_code=200)


@router.post(
    "/conferences/{conferenceId}/members/{memberId}/audio",
    summary="Play a file or speak a sentence to one conference member only",
    response_class=Response,
    responses=PLAYING,
    openapi_extra=json_body(AudioBody),
)
async def member_audio(
    request: Request, conferenceId: str, memberId: str, user: User = Depends(current_user)
) -> Response:
    audio = parse_audio(await read_json(request), "member")
    await request.app.state.calls.conferences.play_to_member(
        user, conferenceId, memberId, audio, public_base(request)
    )
    return Response(status_code=200)
