"""Recordings (spec §5): made only by the platform while a call records; the API reads them.

The file itself lives in the user's media store as `{callId}-{n}.{wav|mp3}`, so it downloads from
`/media/{name}` with the user's credentials like any other media.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .clock import iso

STATES = ("recording", "saving", "complete", "error")


@dataclass
class Recording:
    id: str
    user_id: str
    call_id: str
    number: int  # 1, 2, … within the call: the file is {callId}-{number}.{format}
    file_format: str
    start_time: datetime
    state: str = "recording"
    end_time: datetime | None = None

    @property
    def media_name(self) -> str:
        return f"{self.call_id}-{self.number}.{self.file_format}"


def recording_resource(recording: Recording, user_base: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "id": recording.id,
        "startTime": iso(recording.start_time),
        "endTime": iso(recording.end_time),
        "call": f"{user_base}/calls/{recording.call_id}",
        "media": f"{user_base}/media/{recording.media_name}",
        "state": recording.state,
    }
    return {key: value for key, value in resource.items() if value is not None}
