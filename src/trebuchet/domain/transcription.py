"""Transcriptions (spec §6): a recording's speech as text, made when its call had `transcriptionEnabled`
or on demand.

The full text is kept in the row and saved as the user's media `{transcriptionId}` (text/plain), so
`textUrl` downloads it like any other media; the resource shows the first 1000 characters and the
`transcription` event the first 1026 (the spec's two limits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .clock import iso
from .errors import ApiError
from .media import media_uri
from .recording import Recording

STATES = ("transcribing", "completed", "error")
RESOURCE_TEXT_MAX = 1000
EVENT_TEXT_MAX = 1026
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"


@dataclass
class Transcription:
    id: str
    user_id: str
    recording_id: str
    call_id: str
    time: datetime
    state: str = "transcribing"
    text: str | None = None  # the whole text, once completed
    text_size: int | None = None
    chargeable_duration: int | None = None  # whole seconds of the recording, rounded up
    node: str | None = None  # the server process running it (never shown)


def recording_seconds(recording: Recording) -> int | None:
    """Whole seconds the recording lasted, rounded up (what a transcription is billed by)."""
    if recording.end_time is None:
        return None
    return max(0, math.ceil((recording.end_time - recording.start_time).total_seconds()))


def transcription_uri(user_base: str, transcription: Transcription) -> str:
    return f"{user_base}/recordings/{transcription.recording_id}/transcriptions/{transcription.id}"


def text_url(user_base: str, transcription: Transcription) -> str:
    return media_uri(user_base, transcription.id)


def transcription_resource(transcription: Transcription, user_base: str) -> dict[str, Any]:
    """As §6 shows it; `text` and `textSize` once there is a text (`textUrl` always, as the spec says)."""
    done = transcription.state == "completed" and transcription.text is not None
    resource: dict[str, Any] = {
        "id": transcription.id,
        "state": transcription.state,
        "text": transcription.text[:RESOURCE_TEXT_MAX] if done and transcription.text is not None else None,
        "textSize": transcription.text_size if done else None,
        "textUrl": text_url(user_base, transcription),
        "time": iso(transcription.time),
        "chargeableDuration": transcription.chargeable_duration,
    }
    return {key: value for key, value in resource.items() if value is not None}


def transcription_not_found(transcription_id: str) -> ApiError:
    return ApiError(
        404, "transcription-not-found", f"The transcription {transcription_id} could not be found"
    )


def invalid_recording_state(recording_id: str) -> ApiError:
    return ApiError(
        403,
        "invalid-recording-state",
        f"Cannot transcribe the recording {recording_id}. The state must be complete",
    )
