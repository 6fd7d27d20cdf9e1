"""RecordingService: a call's recordings (spec §2.5, §5), started and stopped with `recordingEnabled`.

A recording is numbered within its call and saved in the user's media store as
`{callId}-{n}.{wav|mp3}`. The call's controller owns the running `Recorder` (it feeds it both
directions on the frame clock); this service keeps the rows: `recording` while it runs, then
`complete` (a media entry and the `recording` event) or `error`. At most one runs per call.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..domain.call import Call
from ..domain.clock import utcnow
from ..domain.events import recording_event
from ..domain.ids import new_id
from ..domain.media import MediaFile
from ..domain.recording import Recording
from ..media.recorder import Recording as SavedFile
from ..store import calls as call_store
from ..store import recordings as recording_store
from ..store.call_events import record_call_event
from ..store.media import media_path, save_media
from .control import MediaUnavailable

if TYPE_CHECKING:
    from .calls import CallService

log = logging.getLogger("trebuchet.engine")

CONTENT_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}


class RecordingService:
    def __init__(self, calls: CallService, data_dir: Path) -> None:
        self.calls = calls
        self.data_dir = Path(data_dir)

    async def start(self, call: Call) -> None:
        """Start the call's next recording (the caller holds the call's lock; the call is active)."""
        async with self.calls.db.write() as conn:
            if await recording_store.running_recording(conn, call.id) is not None:
                return  # already recording: recordingEnabled=true again changes nothing
            recording = Recording(
                id=new_id("recording"),
                user_id=call.user_id,
                call_id=call.id,
                number=await recording_store.next_number(conn, call.id),
                file_format=call.recording_file_format,
                start_time=utcnow(),
            )
            await recording_store.insert_recording(conn, recording)
        path = media_path(self.data_dir, call.user_id, recording.media_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.calls.signalling.start_recording(
                call, recording.id, path, recording.file_format, call.recording_max_duration
            )
        except MediaUnavailable as why:
            log.info("call %s: recording %s not started: %s", call.id, recording.id, why)
            await self._settle(call.id, recording.id, None)

    def stop(self, call: Call) -> None:
        self.calls.signalling.stop_recording(call)

    async def finished(self, call_id: str, recording_id: str, saved: SavedFile | None) -> None:
        """The controller's report that a recording ended (stopped, max duration, hang-up, or failed)."""
        async with self.calls._locks.hold(call_id):
            await self._settle(call_id, recording_id, saved)

    async def _settle(self, call_id: str, recording_id: str, saved: SavedFile | None) -> None:
        ok = saved is not None and saved.reason != "error" and saved.size > 0
        now = utcnow()
        end = datetime.fromtimestamp(saved.end_time, UTC) if saved is not None else now
        async with self.calls.db.write() as conn:
            call = await call_store.get_call(conn, call_id)
            recording = await recording_store.get_recording_by_id(conn, recording_id)
            if call is None or recording is None or recording.state != "recording":
                return
            state = "complete" if ok else "error"
            await recording_store.finish_recording(conn, recording_id, state=state, at=end)
            recording.state, recording.end_time = state, end
            if ok and saved is not None:
                media = MediaFile(
                    user_id=call.user_id,
                    name=recording.media_name,
                    content_type=CONTENT_TYPES[recording.file_format],
                    length=saved.size,
                    created_time=now,
                    updated_time=now,
                )
                await save_media(conn, media)
            if saved is not None and saved.reason == "max-duration" and call.recording_enabled:
                call.recording_enabled = False  # it ended by itself: a new one needs recordingEnabled again
                await call_store.save_call(conn, call)
            base = self.calls.user_base(call.user_id)
            payload = recording_event(call, base, now, recording, "complete" if ok else "error")
            await record_call_event(conn, call, "recording", now, payload, data=state)
        self.calls.on_events()
        if ok and call.transcription_enabled:
            self.calls.transcriptions.start_soon(recording)  # after the commit; the settle does not wait
