"""`/v1/users/{userId}/applications`: create, get, list, update, delete (spec §9.1)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from ...domain.application import (
    Application,
    application_resource,
    application_uri,
    parse_create_application,
    parse_update_application,
)
from ...domain.clock import utcnow
from ...domain.errors import ApiError
from ...domain.ids import is_plausible_id, new_id
from ...domain.user import User
from ...store import applications as app_store
from ..auth import current_user
from ..common import json_response, read_json, user_base
from ..creates import create_once, idempotent_request
from ..paging import link_header, parse_page
from ..schemas import (
    ERROR_RESPONSES,
    ApplicationResource,
    CreateApplicationBody,
    UpdateApplicationBody,
    json_body,
)

router = APIRouter(prefix="/v1/users/{userId}", tags=["applications"])


def application_not_found(application_id: str) -> ApiError:
    return ApiError(404, "application-not-found", f"The application {application_id} could not be found")


async def _users_application(conn: AsyncConnection, user: User, application_id: str) -> Application:
    """The user's application, or 404; ids we cannot have issued never reach the database."""
    app = None
    if is_plausible_id(application_id):
        app = await app_store.get_application(conn, application_id, user.id)
    if app is None:
        raise application_not_found(application_id)
    return app


@router.post(
    "/applications",
    status_code=201,
    summary="Create an application",
    response_class=Response,
    responses={
        201: {"description": "Created; the Location header is the new application"},
        **ERROR_RESPONSES,
    },
    openapi_extra=json_body(CreateApplicationBody),
)
async def create_application(request: Request, user: User = Depends(current_user)) -> Response:
    body = await read_json(request)
    spec = parse_create_application(body)
    idem = idempotent_request(request, body)
    app = spec.build(new_id("application"), user.id)
    now = utcnow()

    async def insert(conn: AsyncConnection) -> None:
        await app_store.insert_application(conn, app, now)

    location = application_uri(user_base(request, user.id), app.id)
    location = await create_once(request.app.state.db, user.id, idem, location, now, insert)
    return Response(status_code=201, headers={"Location": location})


@router.get(
    "/applications",
    summary="List applications",
    response_model=list[ApplicationResource],
    responses=ERROR_RESPONSES,
)
async def list_applications(
    request: Request,
    user: User = Depends(current_user),
    page: str | None = Query(None, description="0-based page number (default 0)"),
    size: str | None = Query(None, description="Page size (default 25, at most 1000)"),
) -> Response:
    page_spec = parse_page(page, size, "application")
    async with request.app.state.db.read() as conn:
        rows = await app_store.list_applications(
            conn, user.id, offset=page_spec.offset, limit=page_spec.size + 1
        )
    has_more = len(rows) > page_spec.size
    link = link_header(f"{user_base(request, user.id)}/applications", page_spec, {}, has_more)
    return json_response(
        [application_resource(app) for app in rows[: page_spec.size]], headers={"Link": link}
    )


@router.get(
    "/applications/{applicationId}",
    summary="Get an application",
    response_model=ApplicationResource,
    responses=ERROR_RESPONSES,
)
async def get_application(
    request: Request, applicationId: str, user: User = Depends(current_user)
) -> Response:
    async with request.app.state.db.read() as conn:
        app = await _users_application(conn, user, applicationId)
    return json_response(application_resource(app))


@router.post(
    "/applications/{applicationId}",
    summary="Update an application (properties not sent stay as they are)",
    response_class=Response,
    responses={200: {"description": "Done"}, **ERROR_RESPONSES},
    openapi_extra=json_body(UpdateApplicationBody),
)
async def update_application(
    request: Request, applicationId: str, user: User = Depends(current_user)
) -> Response:
    update = parse_update_application(await read_json(request))
    async with request.app.state.db.write() as conn:
        app = await _users_application(conn, user, applicationId)
        await app_store.save_application(conn, update.apply(app))
    return Response(status_code=200)


@router.delete(
    "/applications/{applicationId}",
    summary="Delete an application; the user's numbers attached to it are detached",
    response_class=Response,
    responses={200: {"description": "Deleted"}, **ERROR_RESPONSES},
)
async def delete_application(
    request: Request, applicationId: str, user: User = Depends(current_user)
) -> Response:
    deleted = False
    if is_plausible_id(applicationId):
        async with request.app.state.db.write() as conn:
            deleted = await app_store.delete_application(conn, applicationId, user.id)
    if not deleted:
        raise application_not_found(applicationId)
    return Response(status_code=200)
