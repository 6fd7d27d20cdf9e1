"""Lenient input coercion (spec §1.1, C7): null means absent, "true" is true, "5" is 5, enums ignore case.

Each function takes the raw JSON value and the property name, and raises a 400 naming that property.
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError, validation_error

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def as_bool(value: Any, field: str, resource: str = "call") -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise validation_error(field, "must be a boolean (true or false)", resource)


def as_int(value: Any, field: str, resource: str = "call") -> int:
    if isinstance(value, bool):
        raise validation_error(field, "must be an integer", resource)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                number = None
            if number is not None and number.is_integer():
                return int(number)
    raise validation_error(field, "must be an integer", resource)


def as_int_in_range(value: Any, field: str, low: int, high: int, resource: str = "call") -> int:
    number = as_int(value, field, resource)
    if number < low:
        raise validation_error(field, f"must be greater than or equal to {low}", resource)
    if number > high:
        raise validation_error(field, f"exceeds the limit of {high}", resource)
    return number


def as_str(value: Any, field: str, resource: str = "call", *, max_len: int = 256) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise validation_error(field, "must be a string", resource)
    text = value if isinstance(value, str) else str(value)
    if len(text) > max_len:
        raise validation_error(field, f"exceeds the limit of {max_len} characters", resource)
    if any(ch in text for ch in "\x00"):
        raise validation_error(field, "must not contain NUL characters", resource)
    return text


def as_enum(value: Any, field: str, allowed: tuple[str, ...], resource: str = "call") -> str:
    """Match case-insensitively (C# sends "post", "transferring") and return the canonical spelling."""
    if isinstance(value, str):
        folded = value.strip().lower().replace("_", "-")
        for option in allowed:
            if option.lower().replace("_", "-") == folded:
                return option
    raise validation_error(field, f"must be one of the following values: {', '.join(allowed)}", resource)


def present(body: dict[str, Any], field: str) -> bool:
    """A property counts as supplied only when its key is there with a non-null value."""
    return body.get(field) is not None


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "validation-error", "The request body must be a JSON object")
    return body
