"""The Call resource: what a create request may say (seed parameters), and how a call is shown."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import addresses
from .clock import iso
from .coerce import as_bool, as_enum, as_int, as_int_in_range, as_str, present, require_object
from .diversion import REASONS, TREATMENTS
from .errors import ApiError, missing_property, validation_error

CALL_TIMEOUT_DEFAULT, CALL_TIMEOUT_MAX = 60, 300
CALLBACK_TIMEOUT_DEFAULT, CALLBACK_TIMEOUT_MAX = 10000, 10000
RECORDING_MAX_DURATION_DEFAULT, RECORDING_MAX_DURATION_MAX = 3600, 3600
TAG_MAX = 256
SIP_HEADERS_MAX = 5
SIP_HEADER_PART_MAX = 256
HTTP_METHODS = ("GET", "POST")
RECORDING_FORMATS = ("wav", "mp3")
STATES = ("started", "active", "rejected", "completed", "transferring")


@dataclass
class Call:
    """A call as stored. Times are aware UTC datetimes; optional fields are None when absent."""

    id: str
    user_id: str
    direction: str
    from_: str
    to: str
    state: str = "started"
    start_time: datetime | None = None
    active_time: datetime | None = None
    end_time: datetime | None = None
    call_timeout: int = CALL_TIMEOUT_DEFAULT
    callback_url: str | None = None
    callback_http_method: str = "POST"
    callback_timeout: int = CALLBACK_TIMEOUT_DEFAULT
    fallback_url: str | None = None
    bridge_id: str | None = None
    conference_id: str | None = None
    recording_enabled: bool = False
    recording_file_format: str = "wav"
    recording_max_duration: int = RECORDING_MAX_DURATION_DEFAULT
    transcription_enabled: bool = False
    tag: str | None = None
    sip_headers: dict[str, str] = field(default_factory=dict)
    cause: str | None = None
    transfer_to: str | None = None
    transfer_caller_id: str | None = None
    node: str | None = None  # the server process that carries the call's SIP and RTP (never shown)
    dialog: dict[str, Any] | None = None  # the answered call's SIP dialog, to end it after a crash
    diversion: list[dict[str, Any]] | None = (
        None  # inbound Diversion headers (domain.diversion), newest first
    )

    @property
    def chargeable_duration(self) -> int | None:
        """Billed seconds: time active, rounded up to whole minutes (the docs bill 2 s as 60)."""
        if self.end_time is None:
            return None
        if self.active_time is None:
            return 0
        seconds = (self.end_time - self.active_time).total_seconds()
        return int(math.ceil(max(seconds, 0) / 60.0) * 60)


def _validate_destination(to: str) -> str:
    if addresses.is_sips(to):
        raise ApiError(
            403,
            "invalid-call-to-number",
            f"The 'to' value {to!r} is a SIPS URI; SIPS is not supported, use a sip: URI or an E.164 number",
            field="to",
        )
    if addresses.is_e164(to) or addresses.is_sip_uri(to):
        return to
    raise ApiError(
        403,
        "invalid-call-to-number",
        f"The 'to' value {to!r} is neither an E.164 number (like +19195551212) nor a sip: URI",
        field="to",
    )


def validate_url(value: Any, field_name: str, resource: str = "call") -> str:
    text = as_str(value, field_name, resource, max_len=2048)
    if not addresses.is_http_url(text):
        raise ApiError(
            400, "callback-invalid-url", f"The URL {text} is not a valid {field_name}", field=field_name
        )
    return text


def validate_sip_headers(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise validation_error("sipHeaders", "must be an object mapping header names to values")
    if len(value) > SIP_HEADERS_MAX:
        raise validation_error("sipHeaders", f"exceeds the limit of {SIP_HEADERS_MAX} headers")
    headers: dict[str, str] = {}
    seen: set[str] = set()
    for name, raw in value.items():
        where = f"sipHeaders.{name}"
        if not name.lower().startswith("x-") or len(name) < 3:
            raise validation_error(where, "is not allowed: header names must start with X-")
        if len(name) > SIP_HEADER_PART_MAX:
            raise validation_error(where, f"name exceeds the limit of {SIP_HEADER_PART_MAX} characters")
        if not addresses.HEADER_NAME.match(name):
            raise validation_error(where, "name contains characters not allowed in a SIP header name")
        if name.lower() in seen:
            raise validation_error(where, "is given twice")
        seen.add(name.lower())
        if raw is None or isinstance(raw, bool | dict | list):
            raise validation_error(where, "value must be a string")
        text = str(raw)
        if len(text) > SIP_HEADER_PART_MAX:
            raise validation_error(where, f"value exceeds the limit of {SIP_HEADER_PART_MAX} characters")
        if addresses.has_control_chars(text):
            raise validation_error(where, "value must not contain CR, LF or other control characters")
        headers[name] = text
    return headers


@dataclass
class CreateCall:
    """A validated `POST /calls` body; references (bridgeId, conferenceId) are checked by the caller."""

    from_: str
    to: str
    call_timeout: int = CALL_TIMEOUT_DEFAULT
    callback_url: str | None = None
    callback_timeout: int = CALLBACK_TIMEOUT_DEFAULT
    callback_http_method: str = "POST"
    fallback_url: str | None = None
    bridge_id: str | None = None
    conference_id: str | None = None
    recording_enabled: bool = False
    recording_max_duration: int = RECORDING_MAX_DURATION_DEFAULT
    recording_file_format: str = "wav"
    transcription_enabled: bool = False
    tag: str | None = None
    sip_headers: dict[str, str] = field(default_factory=dict)


def validate_recording_max_duration(value: Any) -> int:
    seconds = as_int(value, "recordingMaxDuration")
    if seconds > RECORDING_MAX_DURATION_MAX:
        raise ApiError(
            403,
            "maximum-recording-value-request",
            f"The recordingMaxDuration cannot exceed {RECORDING_MAX_DURATION_MAX} seconds",
            field="recordingMaxDuration",
        )
    if seconds < 1:
        raise validation_error("recordingMaxDuration", "must be greater than or equal to 1")
    return seconds


def parse_create_call(raw: Any) -> CreateCall:
    """Validate every seed parameter to the spec's limits; the first violation raises, naming its field."""
    body = require_object(raw)
    for required in ("from", "to"):
        if not present(body, required):
            raise missing_property(required)
    from_ = as_str(body["from"], "from").strip()
    if not addresses.is_e164(from_):
        raise validation_error(
            "from", f"value {from_!r} is an invalid phone number: use E.164, like +19195551212"
        )
    spec = CreateCall(from_=from_, to=_validate_destination(as_str(body["to"], "to", max_len=1024).strip()))
    if present(body, "callTimeout"):
        spec.call_timeout = as_int_in_range(body["callTimeout"], "callTimeout", 1, CALL_TIMEOUT_MAX)
    if present(body, "callbackUrl"):
        spec.callback_url = validate_url(body["callbackUrl"], "callbackUrl")
    if present(body, "callbackTimeout"):
        spec.callback_timeout = as_int_in_range(
            body["callbackTimeout"], "callbackTimeout", 1, CALLBACK_TIMEOUT_MAX
        )
    if present(body, "callbackHttpMethod"):
        spec.callback_http_method = as_enum(body["callbackHttpMethod"], "callbackHttpMethod", HTTP_METHODS)
    if present(body, "fallbackUrl"):
        spec.fallback_url = validate_url(body["fallbackUrl"], "fallbackUrl")
    if present(body, "bridgeId"):
        spec.bridge_id = as_str(body["bridgeId"], "bridgeId")
    if present(body, "conferenceId"):
        spec.conference_id = as_str(body["conferenceId"], "conferenceId")
    if present(body, "recordingEnabled"):
        spec.recording_enabled = as_bool(body["recordingEnabled"], "recordingEnabled")
    if present(body, "recordingMaxDuration"):
        spec.recording_max_duration = validate_recording_max_duration(body["recordingMaxDuration"])
    if present(body, "recordingFileFormat"):
        spec.recording_file_format = as_enum(
            body["recordingFileFormat"], "recordingFileFormat", RECORDING_FORMATS
        )
    if present(body, "transcriptionEnabled"):
        spec.transcription_enabled = as_bool(body["transcriptionEnabled"], "transcriptionEnabled")
    if present(body, "tag"):
        spec.tag = as_str(body["tag"], "tag", max_len=TAG_MAX)
    if present(body, "sipHeaders"):
        spec.sip_headers = validate_sip_headers(body["sipHeaders"])
    return spec


@dataclass
class UpdateCall:
    """A validated `POST /calls/{id}` body. None means "leave as it is"."""

    state: str | None = None
    recording_enabled: bool | None = None
    recording_file_format: str | None = None
    recording_max_duration: int | None = None
    transfer_to: str | None = None
    transfer_caller_id: str | None = None
    callback_url: str | None = None
    whisper_audio: dict[str, Any] | None = None
    diversion_treatment: str | None = None  # none, propagate, stack (transfers of inbound calls)
    diversion_reason: str | None = None  # with stack: the new Diversion's reason

    def is_empty(self) -> bool:
        return all(value is None for value in vars(self).values())


def parse_update_call(raw: Any) -> UpdateCall:
    body = require_object(raw)
    update = UpdateCall()
    if present(body, "state"):
        update.state = as_enum(body["state"], "state", STATES)
        if update.state == "started":
            raise validation_error("state", "cannot be set to started")
    if present(body, "recordingEnabled"):
        update.recording_enabled = as_bool(body["recordingEnabled"], "recordingEnabled")
    if present(body, "recordingFileFormat"):
        update.recording_file_format = as_enum(
            body["recordingFileFormat"], "recordingFileFormat", RECORDING_FORMATS
        )
    if present(body, "recordingMaxDuration"):
        update.recording_max_duration = validate_recording_max_duration(body["recordingMaxDuration"])
    if present(body, "transferTo"):
        update.transfer_to = _validate_destination(
            as_str(body["transferTo"], "transferTo", max_len=1024).strip()
        )
    if present(body, "transferCallerId"):
        caller = as_str(body["transferCallerId"], "transferCallerId").strip()
        if caller != "private" and not addresses.is_e164(caller):
            raise ApiError(
                400,
                "validation-error",
                f"The callerId {caller} is not allowed. It must be `private` or a phone number owned by user",
                field="transferCallerId",
            )
        update.transfer_caller_id = caller
    if present(body, "callbackUrl"):
        update.callback_url = validate_url(body["callbackUrl"], "callbackUrl")
    if present(body, "whisperAudio"):
        if not isinstance(body["whisperAudio"], dict):
            raise validation_error("whisperAudio", "must be an audio object")
        update.whisper_audio = body["whisperAudio"]
    if present(body, "diversionTreatment"):
        update.diversion_treatment = as_enum(body["diversionTreatment"], "diversionTreatment", TREATMENTS)
    if present(body, "diversionReason"):
        update.diversion_reason = as_enum(body["diversionReason"], "diversionReason", REASONS)
    if update.state == "transferring" and update.transfer_to is None:
        raise missing_property("transferTo")
    return update


def call_uri(user_base: str, call_id: str) -> str:
    return f"{user_base}/calls/{call_id}"


def call_resource(call: Call, user_base: str) -> dict[str, Any]:
    """The JSON a client sees for GET /calls/{id} (spec §2.3): typed values, absent fields left out."""
    uri = call_uri(user_base, call.id)
    resource: dict[str, Any] = {
        "id": call.id,
        "direction": call.direction,
        "from": call.from_,
        "to": call.to,
        "state": call.state,
        "startTime": iso(call.start_time),
        "activeTime": iso(call.active_time),
        "endTime": iso(call.end_time),
        "chargeableDuration": call.chargeable_duration,
        "callTimeout": call.call_timeout,
        "callbackUrl": call.callback_url,
        "callbackHttpMethod": call.callback_http_method,
        "callbackTimeout": call.callback_timeout,
        "fallbackUrl": call.fallback_url,
        "bridgeId": call.bridge_id,
        "conferenceId": call.conference_id,
        "recordingEnabled": call.recording_enabled,
        "recordingFileFormat": call.recording_file_format,
        "recordingMaxDuration": call.recording_max_duration,
        "transcriptionEnabled": call.transcription_enabled,
        "tag": call.tag,
        "sipHeaders": call.sip_headers or None,
        "transferTo": call.transfer_to,
        "transferCallerId": call.transfer_caller_id,
        "events": f"{uri}/events",
        "recordings": f"{uri}/recordings",
        "transcriptions": f"{uri}/transcriptions",
    }
    return {key: value for key, value in resource.items() if value is not None}
