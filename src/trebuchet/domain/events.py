"""Callback event payloads (spec §8.2, §8.4): the JSON a customer's server receives, built in one place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .call import Call, call_uri
from .clock import iso
from .diversion import diversion_object
from .recording import Recording
from .transcription import EVENT_TEXT_MAX, Transcription, text_url, transcription_uri


def call_event(event_type: str, call: Call, user_base: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """A call event with the common fields; the call's `tag` rides on every event of the call."""
    payload: dict[str, Any] = {
        "eventType": event_type,
        "callId": call.id,
        "callUri": call_uri(user_base, call.id),
        "from": call.from_,
        "to": call.to,
        "time": iso(at),
    }
    if call.tag is not None:
        payload["tag"] = call.tag
    payload.update({key: value for key, value in fields.items() if value is not None})
    return payload


def hangup_event(call: Call, user_base: str, at: datetime, cause: str) -> dict[str, Any]:
    # The spec's reject sample carries callState; plain hangup samples do not.
    state = "completed" if call.state == "rejected" else None
    return call_event("hangup", call, user_base, at, cause=cause, callState=state)


def answer_event(call: Call, user_base: str, at: datetime) -> dict[str, Any]:
    return call_event(
        "answer", call, user_base, at, callState="active", diversion=diversion_object(call.diversion)
    )


def dtmf_event(call: Call, user_base: str, at: datetime, digit: str) -> dict[str, Any]:
    return call_event("dtmf", call, user_base, at, dtmfDigit=digit)


def gather_event(
    call: Call, user_base: str, at: datetime, gather_id: str, reason: str, digits: str, tag: str | None
) -> dict[str, Any]:
    """The gather's own tag rides on its event, as the spec's sample shows (the call's when it has none)."""
    return call_event(
        "gather",
        call,
        user_base,
        at,
        gatherId=gather_id,
        state="completed",
        reason=reason,
        digits=digits,
        tag=tag,
    )


def audio_event(
    call: Call, user_base: str, at: datetime, kind: str, started: bool, tag: str | None
) -> dict[str, Any]:
    """`playback` (a file) or `speak` (a sentence), `started` then `done`, with the audio's tag (else the
    call's). `speak` also says `state`, PLAYBACK_START / PLAYBACK_STOP."""
    status = "started" if started else "done"
    state = None if kind != "speak" else "PLAYBACK_START" if started else "PLAYBACK_STOP"
    return call_event(kind, call, user_base, at, status=status, state=state, tag=tag)


def timeout_event(call: Call, user_base: str, at: datetime) -> dict[str, Any]:
    return call_event("timeout", call, user_base, at)


def incoming_call_event(
    call: Call, user_base: str, at: datetime, application_id: str, answering: bool
) -> dict[str, Any]:
    """`incomingcall` to the application's URL. The spec's samples say `callState: active` because the
    platform answers before telling; a call the application must answer itself is still `started`."""
    state = "active" if answering else "started"
    return call_event(
        "incomingcall",
        call,
        user_base,
        at,
        callState=state,
        applicationId=application_id,
        diversion=diversion_object(call.diversion),
    )


def recording_event(
    call: Call, user_base: str, at: datetime, recording: Recording, state: str
) -> dict[str, Any]:
    """`recording` when the file is saved (`complete`) or could not be (`error`): both `state` and
    `status` carry it, as the spec's samples do."""
    return call_event(
        "recording",
        call,
        user_base,
        at,
        recordingId=recording.id,
        recordingUri=f"{user_base}/recordings/{recording.id}",
        state=state,
        status=state,
        startTime=iso(recording.start_time),
        endTime=iso(recording.end_time),
    )


def transcription_event(
    call: Call, user_base: str, at: datetime, transcription: Transcription
) -> dict[str, Any]:
    """`transcription` when one finished. Completed: the call's common fields and the text (its first 1026
    characters; the whole at `textUrl`). Error: only the type, state/status and ids, as the spec's sample
    (plus `callId`, `time` and the call's `tag`, which every event of a call carries here)."""
    state = transcription.state
    ids = {"transcriptionId": transcription.id, "recordingId": transcription.recording_id}
    if state != "completed":
        payload: dict[str, Any] = {
            "eventType": "transcription",
            "state": state,
            "status": state,
            **ids,
            "callId": call.id,
            "time": iso(at),
        }
        if call.tag is not None:
            payload["tag"] = call.tag
        return payload
    text = transcription.text or ""
    return call_event(
        "transcription",
        call,
        user_base,
        at,
        **ids,
        transcriptionUri=transcription_uri(user_base, transcription),
        state=state,
        status=state,
        textSize=len(text),
        text=text[:EVENT_TEXT_MAX],
        textUrl=text_url(user_base, transcription),
    )
