"""TranscriptionService: recordings turned into text (spec §6), in the background, one job at a time.

A transcription starts when a recording of a call with `transcriptionEnabled` is saved, or on demand
(`POST /recordings/{id}/transcriptions`). Its row is written `transcribing` at once; the speech to text
runs in a task this service tracks, on the process's one `Transcriber` (one worker process, one model,
started on first use so the server starts fast). It ends `completed`, with the full text saved as the
user's media `{transcriptionId}` (what `textUrl` downloads), or `error`; either way the `transcription`
event goes to the call's callback URL through the outbox, in order with the call's other events.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.clock import utcnow
from ..domain.events import transcription_event
from ..domain.ids import new_id
from ..domain.media import MediaFile
from ..domain.recording import Recording
from ..domain.transcription import TEXT_CONTENT_TYPE, Transcription, recording_seconds
from ..speech import Transcriber
from ..store import calls as call_store
from ..store import recordings as recording_store
from ..store import transcriptions as transcription_store
from ..store.call_events import record_call_event
from ..store.media import PartialFile, media_path, save_media
from .tasks import BackgroundTasks

if TYPE_CHECKING:
    from .calls import CallService

log = logging.getLogger("trebuchet.engine")


class TranscriptionFailed(Exception):
    """Why a transcription could not be made (logged; the customer sees the error event)."""


class TranscriptionService:
    def __init__(self, calls: CallService) -> None:
        self.calls = calls
        self.make_transcriber: Callable[[], Transcriber] = Transcriber  # tests put a stand-in here
        self._transcriber: Transcriber | None = None
        self._tasks = BackgroundTasks("transcription")
        self._running: dict[str, Transcription] = {}  # inserted, not yet settled: settled `error` at close
        self._closed = False

    @property
    def data_dir(self) -> Path:
        return self.calls.recordings.data_dir

    @property
    def live_tasks(self) -> int:
        """Transcriptions under way (for /metrics and the tests' "nothing left behind" check)."""
        return len(self._tasks)

    def transcriber(self) -> Transcriber:
        """The process's one Transcriber, made on first use: its worker and model load only when needed."""
        if self._transcriber is None:
            self._transcriber = self.make_transcriber()
        return self._transcriber

    # -- starting -------------------------------------------------------------------------------------

    def prepare(self, recording: Recording) -> Transcription:
        """A new transcription of a `complete` recording, not yet stored (the API stores it, with its
        Idempotency-Key, then calls `begin`)."""
        return Transcription(
            id=new_id("transcription"),
            user_id=recording.user_id,
            recording_id=recording.id,
            call_id=recording.call_id,
            time=utcnow(),
            chargeable_duration=recording_seconds(recording),
            node=self.calls.node,
        )

    def begin(self, transcription: Transcription) -> None:
        """Transcribe a stored `transcribing` row in the background."""
        self._running[transcription.id] = transcription
        self._tasks.spawn(self._run(transcription))

    async def start(self, recording: Recording) -> Transcription:
        """Transcribe a `complete` recording: the row now, the text in the background."""
        transcription = await self._insert(recording)
        self.begin(transcription)
        return transcription

    def start_soon(self, recording: Recording) -> None:
        """Like `start`, without waiting even for the row: for a recording's settle, which holds its
        call's lock and must not wait on this."""
        if self._closed:  # a recording saved while the server stops: nobody is left to transcribe it
            log.info("recording %s not transcribed: the server is stopping", recording.id)
            return
        self._tasks.spawn(self._insert_and_run(recording))

    async def _insert(self, recording: Recording) -> Transcription:
        transcription = self.prepare(recording)
        async with self.calls.db.write() as conn:
            await transcription_store.insert_transcription(conn, transcription)
        return transcription

    async def _insert_and_run(self, recording: Recording) -> None:
        transcription = await self._insert(recording)
        self._running[transcription.id] = transcription
        await self._run(transcription)

    # -- the work -------------------------------------------------------------------------------------

    async def _run(self, transcription: Transcription) -> None:
        try:
            text, seconds = await self._transcribe(transcription)
        except TranscriptionFailed as why:
            log.info("transcription %s failed: %s", transcription.id, why)
            await self._settle(transcription, "error")
            return
        transcription.text, transcription.text_size = text, len(text)
        if seconds > 0:  # the file's own length, when the model read it
            transcription.chargeable_duration = math.ceil(seconds)
        try:
            await self._settle(transcription, "completed")
        except Exception:
            log.exception("saving transcription %s failed", transcription.id)
            await self._settle(transcription, "error")

    async def _transcribe(self, transcription: Transcription) -> tuple[str, float]:
        async with self.calls.db.read() as conn:
            recording = await self._recording(conn, transcription)
        path = media_path(self.data_dir, recording.user_id, recording.media_name)
        if not await asyncio.to_thread(path.is_file):
            raise TranscriptionFailed(f"the recording's file {recording.media_name} is gone")
        try:
            result = await self.transcriber().transcribe_detailed(path)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a worker that died, a file the decoder refuses: this one fails
            raise TranscriptionFailed(f"{type(exc).__name__}: {exc}") from exc
        return result.text, result.audio_seconds

    async def _recording(self, conn: AsyncConnection, transcription: Transcription) -> Recording:
        recording = await recording_store.get_recording_by_id(conn, transcription.recording_id)
        if recording is None:
            raise TranscriptionFailed(f"the recording {transcription.recording_id} is gone")
        return recording

    async def _settle(self, transcription: Transcription, state: str) -> None:
        """The outcome in the row (and the text in the media store) with its event, in one transaction."""
        transcription.state = state
        if state != "completed":
            transcription.text = transcription.text_size = None
        now = utcnow()
        partial = await self._write_text(transcription) if state == "completed" else None
        try:
            async with self.calls.db.write() as conn:
                if await transcription_store.settle_transcription(conn, transcription):
                    await self._record_outcome(conn, transcription, partial, now)
        finally:
            if partial is not None:
                partial.discard()
        self._running.pop(transcription.id, None)  # only once written: close() settles what was cut short
        self.calls.on_events()

    async def _record_outcome(
        self, conn: AsyncConnection, transcription: Transcription, partial: PartialFile | None, now: datetime
    ) -> None:
        if partial is not None:
            media = MediaFile(
                transcription.user_id, transcription.id, TEXT_CONTENT_TYPE, partial.size, now, now
            )
            await save_media(conn, media)
            partial.publish()  # in the transaction, as uploads do
        call = await call_store.get_call(conn, transcription.call_id)
        if call is not None:
            payload = transcription_event(call, self.calls.user_base(call.user_id), now, transcription)
            await record_call_event(conn, call, "transcription", now, payload, data=transcription.state)

    async def _write_text(self, transcription: Transcription) -> PartialFile:
        partial = await PartialFile(self.data_dir, transcription.user_id, transcription.id).open()
        try:
            await partial.write((transcription.text or "").encode("utf-8"))
            await partial.finish()
        except BaseException:
            partial.discard()
            raise
        return partial

    async def recover(self) -> int:
        """At start: what an earlier run of this server was transcribing when it stopped (a crash) ends
        `error`, with its event, instead of staying `transcribing` for ever."""
        async with self.calls.db.read() as conn:
            left = await transcription_store.left_transcribing(conn, self.calls.node)
        for transcription in left:
            await self._settle(transcription, "error")
        return len(left)

    # -- stopping -------------------------------------------------------------------------------------

    async def close(self) -> None:
        """At shutdown: stop the work under way (each ends `error`, with its event) and the worker."""
        self._closed = True
        self._tasks.cancel()
        await self._tasks.wait()
        for transcription in list(self._running.values()):
            try:
                await self._settle(transcription, "error")
            except Exception:
                log.exception("closing transcription %s failed", transcription.id)
        transcriber, self._transcriber = self._transcriber, None
        if transcriber is not None:
            await asyncio.to_thread(transcriber.close, finish_current=False)
