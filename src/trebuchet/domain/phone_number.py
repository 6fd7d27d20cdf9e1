"""The PhoneNumber resource (spec §9.4): a number this server answers for, held by one user.

A self-hosted server has no carrier inventory to order from, so `POST /phoneNumbers` imports a number the
operator already routes to this server. A number is held by at most one user of the server (the inbound
engine looks numbers up server-wide to find whose application a call belongs to).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import addresses
from .clock import iso
from .coerce import as_enum, as_str, present, require_object
from .errors import ApiError, missing_property, validation_error

RESOURCE = "number"
NAME_MAX = 256
PLACE_MAX = 64
PRICE = "0.00"  # nothing is charged on a self-hosted server
NUMBER_STATES = ("enabled", "released")


@dataclass
class PhoneNumber:
    """A number as stored. Released numbers are deleted, so a stored number is always `enabled`."""

    id: str
    user_id: str
    number: str
    created_time: datetime
    national_number: str | None = None
    name: str | None = None
    application_id: str | None = None
    fallback_number: str | None = None
    city: str | None = None
    state: str | None = None
    price: str = PRICE
    number_state: str = "enabled"


def national_format(number: str) -> str | None:
    """`(919) 555-5346` for a NANP number; None elsewhere (no numbering-plan data to format by)."""
    digits = number[2:]
    if number.startswith("+1") and len(digits) == 10:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return None


def _e164(value: Any, field: str) -> str:
    text = as_str(value, field, RESOURCE, max_len=32).strip()
    if not addresses.is_e164(text):
        raise validation_error(
            field, f"value {text!r} is an invalid phone number: use E.164, like +19195551212", RESOURCE
        )
    return text


def _text(value: Any, field: str, max_len: int) -> str:
    text = as_str(value, field, RESOURCE, max_len=max_len)
    if addresses.has_control_chars(text):
        raise validation_error(field, "must not contain control characters", RESOURCE)
    return text


def _application_id(value: Any) -> str:
    """An application id in form only; whether it is the user's application is the store's question."""
    text = as_str(value, "applicationId", RESOURCE, max_len=64)
    if addresses.has_control_chars(text):
        raise validation_error("applicationId", "must not contain control characters", RESOURCE)
    return text


@dataclass
class CreateNumber:
    """A validated `POST /phoneNumbers` body. `applicationId` is checked against the user's applications
    by the caller, in the transaction that stores the number."""

    number: str
    name: str | None = None
    application_id: str | None = None
    fallback_number: str | None = None
    city: str | None = None
    state: str | None = None

    def build(self, number_id: str, user_id: str, now: datetime) -> PhoneNumber:
        return PhoneNumber(
            id=number_id,
            user_id=user_id,
            number=self.number,
            created_time=now,
            national_number=national_format(self.number),
            name=self.name,
            application_id=self.application_id,
            fallback_number=self.fallback_number,
            city=self.city,
            state=self.state,
        )


def parse_create_number(raw: Any) -> CreateNumber:
    """`number` (E.164) is required; `name`, `applicationId`, `fallbackNumber` optional. `city` and `state`
    (beyond Catapult, where they came from the carrier's inventory) let the operator describe the number."""
    body = require_object(raw)
    if not present(body, "number"):
        raise missing_property("number", RESOURCE)
    spec = CreateNumber(number=_e164(body["number"], "number"))
    if present(body, "name"):
        spec.name = _text(body["name"], "name", NAME_MAX)
    if present(body, "applicationId") and body["applicationId"] != "":
        spec.application_id = _application_id(body["applicationId"])
    if present(body, "fallbackNumber"):
        spec.fallback_number = _e164(body["fallbackNumber"], "fallbackNumber")
    if present(body, "city"):
        spec.city = _text(body["city"], "city", PLACE_MAX).strip().upper() or None
    if present(body, "state"):
        spec.state = _text(body["state"], "state", PLACE_MAX).strip().upper() or None
    return spec


@dataclass
class UpdateNumber:
    """A validated `POST /phoneNumbers/{id}` body. None leaves a property as it is; "" for applicationId
    detaches the number from its application, and "" for fallbackNumber removes the fallback."""

    name: str | None = None
    application_id: str | None = None
    fallback_number: str | None = None

    def apply(self, number: PhoneNumber) -> None:
        if self.name is not None:
            number.name = self.name
        if self.application_id is not None:
            number.application_id = self.application_id or None
        if self.fallback_number is not None:
            number.fallback_number = self.fallback_number or None


def parse_update_number(raw: Any) -> UpdateNumber:
    body = require_object(raw)
    update = UpdateNumber()
    if present(body, "name"):
        update.name = _text(body["name"], "name", NAME_MAX)
    if present(body, "applicationId"):
        value = body["applicationId"]
        update.application_id = "" if value == "" else _application_id(value)
    if present(body, "fallbackNumber"):
        value = body["fallbackNumber"]
        update.fallback_number = "" if value == "" else _e164(value, "fallbackNumber")
    return update


def parse_number_state(value: str) -> str:
    return as_enum(value, "numberState", NUMBER_STATES, RESOURCE)


def is_number_reference(text: str) -> bool:
    """Whether a path's `{numberId}` is given as the number itself rather than an `n-` id."""
    return text.startswith("+")


def unknown_number(reference: str) -> ApiError:
    return ApiError(404, "number-not-found", f"The number {reference} could not be found")


def number_uri(user_base: str, number_id: str) -> str:
    return f"{user_base}/phoneNumbers/{number_id}"


def phone_number_resource(number: PhoneNumber, user_base: str) -> dict[str, Any]:
    """The JSON a client sees (spec §9.4): `application` is the attached application's URL."""
    resource: dict[str, Any] = {
        "id": number.id,
        "number": number.number,
        "nationalNumber": number.national_number,
        "name": number.name,
        "applicationId": number.application_id,
        "application": (
            f"{user_base}/applications/{number.application_id}" if number.application_id else None
        ),
        "fallbackNumber": number.fallback_number,
        "city": number.city,
        "state": number.state,
        "price": number.price,
        "createdTime": iso(number.created_time),
        "numberState": number.number_state,
    }
    return {key: value for key, value in resource.items() if value is not None}
