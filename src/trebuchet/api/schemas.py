"""Pydantic models that describe requests and responses in /openapi.json.

Handlers parse bodies with the domain's own validators (which accept the loose inputs Catapult clients
send: nulls, string booleans, any-case enums), so these models document the wire format rather than
enforce it. Inputs that accept a string as well as a typed value say so.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

BoolIn = bool | str | None
IntIn = int | str | None


class ErrorDetail(BaseModel):
    name: str
    value: str


class ErrorBody(BaseModel):
    category: str
    code: str
    message: str
    details: list[ErrorDetail]


class CreateCallBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")

    from_: str = Field(
        alias="from", description="E.164 number the call comes from", examples=["+19195551212"]
    )
    to: str = Field(description="E.164 number or sip: URI (SIPS is not supported)")
    callTimeout: IntIn = Field(None, description="Seconds to ring before `timeout` (1-300, default 60)")
    callbackUrl: str | None = Field(None, description="http(s) URL for the call's events")
    callbackTimeout: IntIn = Field(
        None, description="Milliseconds to wait for the callback (1-10000, default 10000)"
    )
    callbackHttpMethod: str | None = Field(None, description="GET or POST (default POST), any case")
    fallbackUrl: str | None = Field(None, description="http(s) URL tried once when callbackUrl fails")
    bridgeId: str | None = Field(None, description="An existing bridge the call joins when answered")
    conferenceId: str | None = Field(None, description="An open conference the call may later join")
    recordingEnabled: BoolIn = None
    recordingMaxDuration: IntIn = Field(None, description="Seconds (1-3600, default 3600)")
    recordingFileFormat: str | None = Field(None, description="wav (default) or mp3")
    transcriptionEnabled: BoolIn = None
    tag: str | None = Field(None, max_length=256, description="Echoed in every event of the call")
    sipHeaders: dict[str, str] | None = Field(
        None, description="Up to 5 X- headers for the INVITE, each ≤ 256 chars"
    )


class UpdateCallBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    state: str | None = Field(None, description="active, rejected, completed or transferring")
    recordingEnabled: BoolIn = None
    recordingFileFormat: str | None = None
    recordingMaxDuration: IntIn = None
    transferTo: str | None = None
    transferCallerId: str | None = None
    whisperAudio: dict[str, Any] | None = None
    callbackUrl: str | None = None


class CallResource(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    direction: Literal["in", "out"]
    from_: str = Field(alias="from")
    to: str
    state: Literal["started", "active", "rejected", "completed", "transferring"]
    startTime: str
    activeTime: str | None = None
    endTime: str | None = None
    chargeableDuration: int | None = None
    callTimeout: int
    callbackUrl: str | None = None
    callbackHttpMethod: Literal["GET", "POST"]
    callbackTimeout: int
    fallbackUrl: str | None = None
    bridgeId: str | None = None
    conferenceId: str | None = None
    recordingEnabled: bool
    recordingFileFormat: Literal["wav", "mp3"]
    recordingMaxDuration: int
    transcriptionEnabled: bool
    tag: str | None = None
    sipHeaders: dict[str, str] | None = None
    transferTo: str | None = None
    transferCallerId: str | None = None
    events: str
    recordings: str
    transcriptions: str


class CallEventResource(BaseModel):
    id: str
    time: str
    name: str
    data: str | None = None


class UserErrorDetail(BaseModel):
    id: str
    name: str
    value: str


class UserErrorResource(BaseModel):
    id: str
    time: str
    category: str
    code: str
    message: str
    details: list[UserErrorDetail]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    pendingCallbacks: int | None = None
    version: str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Invalid input; `details` names the property"},
    401: {"model": ErrorBody, "description": "Bad credentials, or another user's path"},
    403: {"model": ErrorBody, "description": "Refused by a rule (state, limit, destination)"},
    404: {"model": ErrorBody, "description": "No such resource for this user"},
    429: {"model": ErrorBody, "description": "Too many requests; see X-RateLimit-Reset"},
}


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` describing a JSON request body that the handler reads itself."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
        }
    }


REQUEST_MODELS: tuple[type[BaseModel], ...] = (CreateCallBody, UpdateCallBody)
