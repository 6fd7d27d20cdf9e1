"""`/v1/users/{userId}/phoneNumbers`: import, get, list, update, release (spec §9.4).

`{numberId}` is the `n-` id or the number itself (`%2B19195551212`, or a bare `+` as python-bandwidth
sends it). A number is held by one user of the whole server: importing one already held is 409
`duplicate-number`, whoever holds it.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ...domain import addresses
from ...domain.clock import utcnow
from ...domain.errors import ApiError, validation_error
from ...domain.ids import is_plausible_id, new_id
from ...domain.phone_number import (
    PhoneNumber,
    is_number_reference,
    number_uri,
    parse_create_number,
    parse_number_state,
    parse_update_number,
    phone_number_resource,
    unknown_number,
)
from ...domain.user import User
from ...store import applications as app_store
from ...store import phone_numbers as number_store
from ..auth import current_user
from ..common import json_response, read_json, user_base
from ..creates import create_once, idempotent_request
from ..paging import link_header, parse_page
from ..schemas import (
    ERROR_RESPONSES,
    CreatePhoneNumberBody,
    PhoneNumberResource,
    UpdatePhoneNumberBody,
    json_body,
)

router = APIRouter(prefix="/v1/users/{userId}", tags=["phoneNumbers"])


def duplicate_number(number: str) -> ApiError:
    return ApiError(409, "duplicate-number", f"The number {number} is already in use on this server")


async def _check_application(conn: AsyncConnection, user: User, application_id: str) -> None:
    """A number may only be attached to one of its user's own applications (400, naming the property)."""
    if is_plausible_id(application_id) and await app_store.get_application(conn, application_id, user.id):
        return
    raise validation_error(
        "applicationId", f"names the application {application_id}, which does not exist", "number"
    )


async def _users_number(conn: AsyncConnection, user: User, reference: str) -> PhoneNumber:
    """The user's number by id or by E.164 number, or 404; junk never reaches the database."""
    number = None
    if is_number_reference(reference):
        if addresses.is_e164(reference):
            number = await number_store.get_number(conn, user.id, number=reference)
    elif is_plausible_id(reference):
        number = await number_store.get_number(conn, user.id, number_id=reference)
    if number is None:
        raise unknown_number(reference)
    return number


@router.post(
    "/phoneNumbers",
    status_code=201,
    summary="Import a number this server answers for",
    response_class=Response,
    responses={
        201: {"description": "Created; the Location header is the new number"},
        409: {**ERROR_RESPONSES[400], "description": "The number is already held on this server"},
        **ERROR_RESPONSES,
    },
    openapi_extra=json_body(CreatePhoneNumberBody),
)
async def create_number(request: Request, user: User = Depends(current_user)) -> Response:
    body = await read_json(request)
    spec = parse_create_number(body)
    idem = idempotent_request(request, body)
    now = utcnow()
    number = spec.build(new_id("number"), user.id, now)

    async def insert(conn: AsyncConnection) -> None:
        if await number_store.find_number(conn, number.number) is not None:
            raise duplicate_number(number.number)
        if number.application_id is not None:
            await _check_application(conn, user, number.application_id)
        await number_store.insert_number(conn, number)

    location = number_uri(user_base(request, user.id), number.id)
    try:
        location = await create_once(request.app.state.db, user.id, idem, location, now, insert)
    except IntegrityError:
        async with request.app.state.db.read() as conn:
            held = await number_store.find_number(conn, number.number)
        if held is None:
            raise
        # Imported by a concurrent request between our check and our insert.
        raise duplicate_number(number.number) from None
    return Response(status_code=201, headers={"Location": location})


@router.get(
    "/phoneNumbers",
    summary="List numbers",
    response_model=list[PhoneNumberResource],
    responses=ERROR_RESPONSES,
)
async def list_numbers(
    request: Request,
    user: User = Depends(current_user),
    applicationId: str | None = Query(None, description="Only numbers attached to this application"),
    state: str | None = Query(None, description="Only numbers in this state or region (any case)"),
    name: str | None = Query(None, description="Only numbers with this name"),
    city: str | None = Query(None, description="Only numbers in this city (any case)"),
    numberState: str | None = Query(None, description="enabled or released (released numbers are gone)"),
    page: str | None = Query(None, description="0-based page number (default 0)"),
    size: str | None = Query(None, description="Page size (default 25, at most 1000)"),
) -> Response:
    given = {
        "applicationId": applicationId,
        "state": state,
        "name": name,
        "city": city,
        "numberState": numberState,
    }
    filters = {key: value for key, value in given.items() if value is not None}
    for key, value in filters.items():
        if not value.isprintable():
            raise validation_error(key, "must not contain control characters", "number")
    released = numberState is not None and parse_number_state(numberState) == "released"
    page_spec = parse_page(page, size, "number")
    where = number_store.NumberFilter(
        application_id=applicationId,
        state=state.strip().upper() if state is not None else None,
        name=name,
        city=city.strip().upper() if city is not None else None,
    )
    rows: list[PhoneNumber] = []
    if not released:  # a released number is deleted, so none is ever listed
        async with request.app.state.db.read() as conn:
            rows = await number_store.list_numbers(
                conn, user.id, where, offset=page_spec.offset, limit=page_spec.size + 1
            )
    has_more = len(rows) > page_spec.size
    base = user_base(request, user.id)
    link = link_header(f"{base}/phoneNumbers", page_spec, filters, has_more)
    return json_response(
        [phone_number_resource(number, base) for number in rows[: page_spec.size]], headers={"Link": link}
    )


@router.get(
    "/phoneNumbers/{numberId}",
    summary="Get a number, by its id or by the number itself (URL-encoded E.164)",
    response_model=PhoneNumberResource,
    responses=ERROR_RESPONSES,
)
async def get_number(request: Request, numberId: str, user: User = Depends(current_user)) -> Response:
    async with request.app.state.db.read() as conn:
        number = await _users_number(conn, user, numberId)
    return json_response(phone_number_resource(number, user_base(request, user.id)))


@router.post(
    "/phoneNumbers/{numberId}",
    summary='Update a number: name, applicationId ("" detaches), fallbackNumber',
    response_class=Response,
    responses={200: {"description": "Done"}, **ERROR_RESPONSES},
    openapi_extra=json_body(UpdatePhoneNumberBody),
)
async def update_number(request: Request, numberId: str, user: User = Depends(current_user)) -> Response:
    update = parse_update_number(await read_json(request))
    async with request.app.state.db.write() as conn:
        number = await _users_number(conn, user, numberId)
        if update.application_id:
            await _check_application(conn, user, update.application_id)
        update.apply(number)
        await number_store.save_number(conn, number)
    return Response(status_code=200)


@router.delete(
    "/phoneNumbers/{numberId}",
    summary="Release a number (it can then be imported again)",
    response_class=Response,
    responses={200: {"description": "Released"}, **ERROR_RESPONSES},
)
async def delete_number(request: Request, numberId: str, user: User = Depends(current_user)) -> Response:
    async with request.app.state.db.write() as conn:
        number = await _users_number(conn, user, numberId)
        await number_store.delete_number(conn, number.id)
    return Response(status_code=200)
