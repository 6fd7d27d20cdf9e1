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
    transferTo: str | None = Field(None, description="Transfer: E.164 number or sip: URI to ring")
    transferCallerId: str | None = Field(None, description="Transfer: private, or the number to call from")
    whisperAudio: dict[str, Any] | None = Field(None, description="Transfer: audio the target hears first")
    callbackUrl: str | None = Field(None, description="Transfer: where the new leg's events go")
    diversionTreatment: str | None = Field(None, description="Transfer: none (default), propagate or stack")
    diversionReason: str | None = Field(None, description="Transfer with stack: the Diversion reason")


class AudioBody(BaseModel):
    """The audio object (spec §2.7), also a gather's `prompt`."""

    model_config = ConfigDict(extra="allow")

    fileUrl: str | None = Field(
        None, description='A WAV or MP3 file (http(s) or this server\'s media); "" stops it'
    )
    sentence: str | None = Field(None, description='Text to speak (at most 1000 characters); "" stops it')
    gender: str | None = Field(None, description="female or male (sentence only)")
    locale: str | None = Field(None, description="en_US, en_UK, es, es_MX, fr, fr_FR, de, de_DE, it, it_IT")
    voice: str | None = Field(None, description="Kate, Susan, Julie, Dave, Paul, Bridget, Esperanza, ...")
    loopEnabled: BoolIn = None
    volume: IntIn = Field(None, description="-4 to 4 (default 0)")
    tag: str | None = Field(None, description="Echoed in the playback or speak events")


class BridgeBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    bridgeAudio: BoolIn = Field(None, description="true (default): the calls hear each other; false: hold")
    callIds: list[str] | None = Field(None, description="0-2 call ids; on update the list replaces the calls")


class BridgeResource(BaseModel):
    id: str
    state: str = Field(description="created, active, hold or completed")
    bridgeAudio: bool
    callIds: list[str]
    calls: str
    createdTime: str
    activatedTime: str | None = None
    completedTime: str | None = None


class CreateConferenceBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")

    from_: str = Field(alias="from", description="E.164 number hosting the conference")
    callbackUrl: str | None = Field(None, description="http(s) URL for the conference's events")
    callbackHttpMethod: str | None = Field(None, description="GET or POST (default POST), any case")
    callbackTimeout: IntIn = Field(None, description="Milliseconds (1-10000, default 10000)")
    fallbackUrl: str | None = Field(None, description="http(s) URL tried once when callbackUrl fails")
    profile: str | None = Field(None, description="interpret_digits (default) or passthru_digits")
    tag: str | None = Field(None, max_length=256, description="Echoed in the conference's events")


class UpdateConferenceBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    state: str | None = Field(None, description="completed ends the conference")
    mute: BoolIn = Field(None, description="true: nobody is heard")
    hold: BoolIn = Field(None, description="true: nobody hears or is heard")
    callbackUrl: str | None = None
    callbackHttpMethod: str | None = None
    callbackTimeout: IntIn = None
    fallbackUrl: str | None = None
    tag: str | None = Field(None, max_length=256)


class ConferenceResource(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    state: str = Field(description="created, active or completed")
    from_: str = Field(alias="from")
    createdTime: str
    completedTime: str | None = None
    activeMembers: int
    hold: bool
    mute: bool
    profile: str
    callbackUrl: str | None = None
    callbackHttpMethod: str
    callbackTimeout: int
    fallbackUrl: str | None = None
    tag: str | None = None
    members: str = Field(description="URL of the conference's members")


class MemberBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    callId: str | None = Field(None, description="Adding: an active call created with this conferenceId")
    state: str | None = Field(None, description="Updating: completed removes the member")
    joinTone: BoolIn = Field(None, description="A tone for everyone when the member joins")
    leavingTone: BoolIn = Field(None, description="A tone for the others when the member leaves")
    mute: BoolIn = Field(None, description="true: the member is not heard")
    hold: BoolIn = Field(None, description="true: the member neither hears nor is heard")


class MemberResource(BaseModel):
    id: str
    state: str = Field(description="active or completed")
    mute: bool
    hold: bool
    joinTone: bool
    leavingTone: bool
    addedTime: str
    removedTime: str | None = None
    call: str = Field(description="URL of the member's call")


class SendDtmfBody(BaseModel):
    dtmfOut: str = Field(
        description="1-92 of 0-9 * # A-D; `,` and `w` pause 0.5 s, `W` 1 s", examples=["1W59#"]
    )


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


class CreateGatherBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    maxDigits: IntIn = Field(None, description="1-30 digits (default 30); a terminating digit is not counted")
    interDigitTimeout: float | str | None = Field(
        None, description="Seconds to wait for each digit, the first included (default 5, at most 30)"
    )
    terminatingDigits: str | None = Field(
        None, description='Digits that end the gather (default "#"; "" for none)'
    )
    tag: str | None = Field(None, description="Echoed in the gather event")
    prompt: AudioBody | None = Field(None, description="Played until the first digit (the audio object)")


class UpdateGatherBody(BaseModel):
    state: str = Field(description="completed: stop the gather")


class GatherResource(BaseModel):
    id: str
    state: str
    reason: str | None = None
    digits: str | None = None
    call: str
    createdTime: str
    completedTime: str | None = None


class RecordingResource(BaseModel):
    id: str
    startTime: str
    endTime: str | None = None
    call: str
    media: str
    state: str = Field(description="recording, saving, complete or error")


class CreateTranscriptionBody(BaseModel):
    """Empty: `{}` (a transcription needs nothing but its recording)."""

    model_config = ConfigDict(extra="allow")


class TranscriptionResource(BaseModel):
    id: str
    state: str = Field(description="transcribing, completed or error")
    text: str | None = Field(None, description="The first 1000 characters, once completed")
    textSize: int | None = Field(None, description="Length of the whole text in characters")
    textUrl: str = Field(description="The whole text as the user's media {transcriptionId} (text/plain)")
    time: str
    chargeableDuration: int | None = Field(None, description="Seconds of the recording, rounded up")


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


class CreateApplicationBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(max_length=256, description="A name of your choosing")
    incomingCallUrl: str | None = Field(
        None, description="http(s) URL for the events of inbound calls (this or incomingMessageUrl required)"
    )
    incomingCallUrlCallbackTimeout: IntIn = Field(None, description="Milliseconds (1-10000, default 10000)")
    incomingCallFallbackUrl: str | None = Field(
        None, description="http(s) URL tried when incomingCallUrl fails; needs incomingCallUrl"
    )
    incomingMessageUrl: str | None = Field(None, description="http(s) URL for messaging events")
    incomingMessageUrlCallbackTimeout: IntIn = Field(
        None, description="Milliseconds (1-10000, default 10000)"
    )
    incomingMessageFallbackUrl: str | None = Field(None, description="Needs incomingMessageUrl")
    callbackHttpMethod: str | None = Field(None, description="GET or POST (default POST), any case")
    autoAnswer: BoolIn = Field(None, description="Answer inbound calls automatically (default true)")


class UpdateApplicationBody(BaseModel):
    """Every property optional: those not sent (or sent as null) stay as they are."""

    model_config = ConfigDict(extra="allow")

    name: str | None = Field(None, max_length=256)
    incomingCallUrl: str | None = None
    incomingCallUrlCallbackTimeout: IntIn = None
    incomingCallFallbackUrl: str | None = None
    incomingMessageUrl: str | None = None
    incomingMessageUrlCallbackTimeout: IntIn = None
    incomingMessageFallbackUrl: str | None = None
    callbackHttpMethod: str | None = None
    autoAnswer: BoolIn = None


class ApplicationResource(BaseModel):
    id: str
    name: str
    incomingCallUrl: str | None = None
    incomingCallUrlCallbackTimeout: int
    incomingCallFallbackUrl: str | None = None
    incomingMessageUrl: str | None = None
    incomingMessageUrlCallbackTimeout: int
    incomingMessageFallbackUrl: str | None = None
    callbackHttpMethod: Literal["GET", "POST"]
    autoAnswer: bool


class CreatePhoneNumberBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    number: str = Field(description="The E.164 number to import", examples=["+19195551212"])
    name: str | None = Field(None, max_length=256)
    applicationId: str | None = Field(None, description="One of your applications, for inbound calls")
    fallbackNumber: str | None = Field(
        None, description="E.164 number inbound calls go to when the callback and fallback both fail"
    )
    city: str | None = Field(None, max_length=64, description="Beyond Catapult: where the number is")
    state: str | None = Field(None, max_length=64, description="Beyond Catapult: where the number is")


class UpdatePhoneNumberBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str | None = Field(None, max_length=256)
    applicationId: str | None = Field(None, description='One of your applications; "" detaches')
    fallbackNumber: str | None = Field(None, description='E.164 number; "" removes it')


class PhoneNumberResource(BaseModel):
    id: str
    number: str
    nationalNumber: str | None = None
    name: str | None = None
    applicationId: str | None = None
    application: str | None = None
    fallbackNumber: str | None = None
    city: str | None = None
    state: str | None = None
    price: str
    createdTime: str
    numberState: Literal["enabled", "released"]


class MediaResource(BaseModel):
    mediaName: str
    contentLength: int = Field(description="Size in bytes")
    content: str = Field(description="The download URL (Basic auth, like every other request)")


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


REQUEST_MODELS: tuple[type[BaseModel], ...] = (
    CreateCallBody,
    UpdateCallBody,
    SendDtmfBody,
    AudioBody,
    BridgeBody,
    CreateConferenceBody,
    UpdateConferenceBody,
    MemberBody,
    CreateTranscriptionBody,
    CreateGatherBody,
    UpdateGatherBody,
    CreateApplicationBody,
    UpdateApplicationBody,
    CreatePhoneNumberBody,
    UpdatePhoneNumberBody,
)
