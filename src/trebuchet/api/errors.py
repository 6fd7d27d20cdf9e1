"""Every failure leaves as Catapult's JSON error body: {"category","code","message","details"}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..domain.clock import utcnow
from ..domain.errors import ApiError
from ..store import user_errors

log = logging.getLogger("trebuchet.api")

# Refusals not worth a row in the user's error log (they would let a flood write to the database).
_NOT_LOGGED = {"call-rate-limit", "rate-limit-reached", "authentication-failed", "user-access-denied"}


def request_details(request: Request) -> list[tuple[str, str]]:
    path = request.url.path
    marker = "/v1/"
    request_path = path.split(marker, 1)[1] if marker in path else path.lstrip("/")
    client = request.client.host if request.client else ""
    return [("requestMethod", request.method), ("remoteAddress", client), ("requestPath", request_path)]


def error_details(error: ApiError, request: Request) -> list[tuple[str, str]]:
    details = list(error.details)
    if error.field:
        details.append(("property", error.field))
    details.extend(request_details(request))
    return details


def error_response(error: ApiError, request: Request) -> JSONResponse:
    body = {
        "category": error.category,
        "code": error.code,
        "message": error.message,
        "details": [{"name": name, "value": value} for name, value in error_details(error, request)],
    }
    return JSONResponse(body, status_code=error.status, headers=error.headers)


async def _log_for_user(request: Request, error: ApiError) -> None:
    user = getattr(request.state, "user", None)
    if user is None or error.code in _NOT_LOGGED:
        return
    try:
        async with request.app.state.db.write() as conn:
            await user_errors.record_error(
                conn,
                user.id,
                at=utcnow(),
                category=error.category,
                code=error.code,
                message=error.message,
                details=error_details(error, request),
            )
    except Exception:  # the client's answer matters more than the log entry
        log.exception("could not record an API error for %s", user.id)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def on_api_error(request: Request, error: ApiError) -> JSONResponse:
        await _log_for_user(request, error)
        return error_response(error, request)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 404:
            api_error = ApiError(404, "resource-not-found", "The requested resource could not be found.")
        elif error.status_code == 405:
            api_error = ApiError(
                405, "method-not-allowed", f"The method {request.method} is not allowed here"
            )
        else:
            api_error = ApiError(error.status_code, "http-error", str(error.detail))
        return error_response(api_error, request)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        field = ".".join(str(part) for part in first.get("loc", ())[1:]) or None
        message = (
            f"The request property {field} {first.get('msg', 'is invalid')}" if field else "Bad parameters"
        )
        return error_response(ApiError(400, "validation-error", message, field=field), request)

    @app.exception_handler(Exception)
    async def on_crash(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        api_error = ApiError(
            500, "internal-error", "The server failed to handle the request; nothing was changed"
        )
        return error_response(api_error, request)
