"""`/v1/users/{userId}/errors`: the user's recent API and callback errors (spec §9.3)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from ...domain.clock import iso
from ...domain.errors import ApiError
from ...domain.ids import is_plausible_id
from ...domain.user import User
from ...store import user_errors
from ..auth import current_user
from ..common import json_response, user_base
from ..paging import link_header, parse_page
from ..schemas import ERROR_RESPONSES, UserErrorResource

router = APIRouter(prefix="/v1/users/{userId}", tags=["errors"])


def _resource(row: Any) -> dict[str, object]:
    return {
        "id": row.id,
        "time": iso(row.time),
        "category": row.category,
        "code": row.code,
        "message": row.message,
        "details": row.details,
    }


@router.get(
    "/errors", summary="List recent errors", response_model=list[UserErrorResource], responses=ERROR_RESPONSES
)
async def list_errors(
    request: Request,
    user: User = Depends(current_user),
    page: str | None = Query(None, description="0-based page number (default 0)"),
    size: str | None = Query(None, description="Page size (default 25, at most 1000)"),
) -> Response:
    page_spec = parse_page(page, size, "error")
    async with request.app.state.db.read() as conn:
        rows = await user_errors.list_errors(conn, user.id, offset=page_spec.offset, limit=page_spec.size + 1)
    has_more = len(rows) > page_spec.size
    link = link_header(f"{user_base(request, user.id)}/errors", page_spec, {}, has_more)
    return json_response([_resource(row) for row in rows[: page_spec.size]], headers={"Link": link})


@router.get(
    "/errors/{errorId}", summary="Get one error", response_model=UserErrorResource, responses=ERROR_RESPONSES
)
async def get_error(request: Request, errorId: str, user: User = Depends(current_user)) -> Response:
    row = None
    if is_plausible_id(errorId):
        async with request.app.state.db.read() as conn:
            row = await user_errors.get_error(conn, user.id, errorId)
    if row is None:
        raise ApiError(404, "user-error-not-found", f"The error {errorId} could not be found")
    return json_response(_resource(row))
