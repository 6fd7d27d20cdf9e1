"""Small pieces every router uses: reading a JSON body, absolute URLs, typed JSON responses."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from ..domain.errors import ApiError

MAX_BODY = 1 << 20  # 1 MiB: far more than any voice request needs


async def read_json(request: Request) -> Any:
    """The request's JSON body; an empty body reads as {} so the domain can name what is missing."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, "validation-error", f"The request body exceeds the limit of {MAX_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "validation-error", "The request body is not valid JSON") from None


def public_base(request: Request) -> str:
    """Scheme and host for absolute URLs: TREBUCHET_PUBLIC_URL, else what the client used to reach us."""
    configured = request.app.state.settings.public_url
    if configured:
        return configured.rstrip("/")
    return str(request.base_url).rstrip("/")


def user_base(request: Request, user_id: str) -> str:
    return f"{public_base(request)}/v1/users/{user_id}"


def json_response(
    content: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(content, status_code=status_code, headers=headers)
