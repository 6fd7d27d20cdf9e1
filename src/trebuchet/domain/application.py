"""The Application resource (spec §9.1): where a user's numbers send inbound calls' events, and how.

Validation speaks Catapult's own documented messages (400 `validation-error`, naming the property). An
update is partial: it is merged onto the stored application and the merged whole is checked again, so
an update cannot leave an application without a callback URL or with a fallback but no call URL.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from . import addresses
from .coerce import as_bool, as_enum, as_int, as_str, present, require_object
from .errors import ApiError, missing_property, validation_error

RESOURCE = "application"
NAME_MAX = 256
URL_MAX = 2048
CALLBACK_TIMEOUT_DEFAULT, CALLBACK_TIMEOUT_MAX = 10000, 10000
HTTP_METHODS = ("GET", "POST")


@dataclass
class Application:
    """An application as stored; optional URLs are None when absent."""

    id: str
    user_id: str
    name: str
    incoming_call_url: str | None = None
    incoming_call_url_callback_timeout: int = CALLBACK_TIMEOUT_DEFAULT
    incoming_call_fallback_url: str | None = None
    incoming_message_url: str | None = None
    incoming_message_url_callback_timeout: int = CALLBACK_TIMEOUT_DEFAULT
    incoming_message_fallback_url: str | None = None
    callback_http_method: str = "POST"
    auto_answer: bool = True


# JSON property → (attribute, kind). The kinds pick the validator in _parse_field.
_FIELDS: dict[str, tuple[str, str]] = {
    "name": ("name", "name"),
    "incomingCallUrl": ("incoming_call_url", "url"),
    "incomingCallUrlCallbackTimeout": ("incoming_call_url_callback_timeout", "call-timeout"),
    "incomingCallFallbackUrl": ("incoming_call_fallback_url", "call-fallback"),
    "incomingMessageUrl": ("incoming_message_url", "url"),
    "incomingMessageUrlCallbackTimeout": ("incoming_message_url_callback_timeout", "message-timeout"),
    "incomingMessageFallbackUrl": ("incoming_message_fallback_url", "message-fallback"),
    "callbackHttpMethod": ("callback_http_method", "method"),
    "autoAnswer": ("auto_answer", "bool"),
}


def _refused(field: str, message: str) -> ApiError:
    return ApiError(400, "validation-error", message, field=field)


def _url(value: Any, field: str) -> str:
    text = as_str(value, field, RESOURCE, max_len=URL_MAX)
    if not addresses.is_http_url(text):
        raise _refused(field, f"Invalid {field} URL. {text} is not a valid URL")
    return text


def _fallback(value: Any, field: str, kind: str) -> str:
    if isinstance(value, str) and not value.strip():
        raise _refused(field, f"Your application {kind} fallback URL may not be blank/empty.")
    return _url(value, field)


def _timeout(value: Any, field: str, label: str) -> int:
    millis = as_int(value, field, RESOURCE)
    if millis <= 0:
        raise _refused(field, f"Incoming {label} callback timeout must be greater than 0")
    if millis > CALLBACK_TIMEOUT_MAX:
        raise _refused(field, f"Incoming {label} callback timeout must not surpass {CALLBACK_TIMEOUT_MAX}")
    return millis


def _name(value: Any) -> str:
    text = as_str(value, "name", RESOURCE, max_len=NAME_MAX)
    if not text.strip():
        raise validation_error("name", "must not be blank", RESOURCE)
    if addresses.has_control_chars(text):
        raise validation_error("name", "must not contain control characters", RESOURCE)
    return text


def _parse_field(value: Any, field: str, kind: str) -> Any:
    if kind == "name":
        return _name(value)
    if kind == "url":
        return _url(value, field)
    if kind == "call-timeout":
        return _timeout(value, field, "Call")
    if kind == "message-timeout":
        return _timeout(value, field, "SMS")
    if kind == "call-fallback":
        return _fallback(value, field, "call")
    if kind == "message-fallback":
        return _fallback(value, field, "message")
    if kind == "method":
        return as_enum(value, field, HTTP_METHODS, RESOURCE)
    return as_bool(value, field, RESOURCE)


def _parse_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Every supplied (non-null) property, validated on its own; unknown properties are ignored."""
    return {
        attribute: _parse_field(body[field], field, kind)
        for field, (attribute, kind) in _FIELDS.items()
        if present(body, field)
    }


def check_whole(app: Application) -> None:
    """The rules that involve more than one property (spec §9.1)."""
    if app.incoming_call_url is None and app.incoming_message_url is None:
        raise _refused("incomingCallUrl", "Your application must have a least one callback URL.")
    if app.incoming_call_fallback_url is not None and app.incoming_call_url is None:
        raise _refused(
            "incomingCallFallbackUrl",
            "Your application must have a call callback URL in order to have a fallback URL.",
        )
    if app.incoming_message_fallback_url is not None and app.incoming_message_url is None:
        raise _refused(
            "incomingMessageFallbackUrl",
            "Your application must have a message callback URL in order to have a fallback URL.",
        )


@dataclass
class ApplicationSpec:
    """A validated create body: the application minus the id and owner the server assigns."""

    values: dict[str, Any]

    def build(self, application_id: str, user_id: str) -> Application:
        return Application(id=application_id, user_id=user_id, **self.values)


def parse_create_application(raw: Any) -> ApplicationSpec:
    """Validate a `POST /applications` body; the first violation raises, naming its property."""
    body = require_object(raw)
    if not present(body, "name"):
        raise missing_property("name", RESOURCE)
    values = _parse_fields(body)
    check_whole(Application(id="", user_id="", **values))
    return ApplicationSpec(values)


@dataclass
class ApplicationUpdate:
    """A validated `POST /applications/{id}` body: only the properties sent, to merge onto the stored one."""

    changes: dict[str, Any]

    def apply(self, app: Application) -> Application:
        """The merged application, checked as a whole; the stored one is left untouched."""
        merged = replace(app, **self.changes)
        check_whole(merged)
        return merged


def parse_update_application(raw: Any) -> ApplicationUpdate:
    return ApplicationUpdate(_parse_fields(require_object(raw)))


def application_uri(user_base: str, application_id: str) -> str:
    return f"{user_base}/applications/{application_id}"


_JSON_OF = {attribute: field for field, (attribute, _kind) in _FIELDS.items()}


def application_resource(app: Application) -> dict[str, Any]:
    """The JSON a client sees (spec §9.1 sample): typed values, absent URLs left out."""
    resource: dict[str, Any] = {"id": app.id}
    for item in fields(app):
        field = _JSON_OF.get(item.name)
        value = getattr(app, item.name)
        if field is not None and value is not None:
            resource[field] = value
    return resource
