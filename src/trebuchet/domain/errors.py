"""The API's error vocabulary: every refusal is an ApiError with status, category, code and message.

Categories follow the status they travel with (spec §10.2), so callers name only status and code.
"""

from __future__ import annotations

CATEGORY_BY_STATUS = {
    400: "bad-request",
    401: "authorization",
    403: "forbidden",
    404: "not-found",
    405: "bad-request",
    409: "conflict",
    413: "bad-request",
    415: "bad-request",
    429: "too-many-requests",
    500: "backend",
    503: "unavailable",
}


class ApiError(Exception):
    """A refusal the client sees as a JSON error body. `field` names the offending property, if any."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        category: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        details: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.category = category or CATEGORY_BY_STATUS.get(status, "bad-request")
        self.field = field
        self.headers = headers or {}
        self.details = list(details or [])


def validation_error(field: str, message: str, resource: str = "call") -> ApiError:
    """400 validation-error about one property, worded like Catapult's own messages."""
    return ApiError(
        400, "validation-error", f"The {resource} resource property {field} {message}", field=field
    )


def missing_property(field: str, resource: str = "call") -> ApiError:
    return ApiError(
        400,
        "missing-property",
        f"The '{resource}' resource property '{field}' is required but was not specified",
        field=field,
    )


def not_found(code: str, message: str) -> ApiError:
    return ApiError(404, code, message)


def authentication_failed(
    message: str = "Authentication failed: valid API token and secret required",
) -> ApiError:
    return ApiError(
        401,
        "authentication-failed",
        message,
        category="authentication",
        headers={"WWW-Authenticate": 'Basic realm="trebuchet"'},
    )
