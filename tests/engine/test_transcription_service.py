"""TranscriptionService in-process, with a stand-in transcriber: the text limits (1000 in the resource,
1026 in the event, the whole in the media file), a failing transcriber, and a shutdown that cuts work
short (it ends `error`, with its event, and the worker is stopped without waiting for the job)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from trebuchet.domain.call import Call
from trebuchet.domain.clock import utcnow
from trebuchet.domain.ids import new_id
from trebuchet.domain.recording import Recording
from trebuchet.domain.transcription import transcription_resource
from trebuchet.engine.calls import CallService
from trebuchet.media.wav import write_wav
from trebuchet.speech import SpeechUnavailable, Transcript
from trebuchet.store import calls as call_store
from trebuchet.store import recordings as recording_store
from trebuchet.store import transcriptions as transcription_store
from trebuchet.store.database import Database
from trebuchet.store.media import media_path
from trebuchet.store.tables import outbox
from trebuchet.store.users import create_user

LONG_TEXT = "".join(f"word{i} " for i in range(300)).strip()  # 1,789 characters


class StandIn:
    """A Transcriber's interface: answers `text`, fails, or blocks until cancelled."""

    def __init__(self, text: str = "", *, fail: bool = False, block: bool = False) -> None:
        self.text, self.fail, self.block = text, fail, block
        self.entered = asyncio.Event()
        self.closed: bool | None = None  # the finish_current it was closed with

    async def transcribe_detailed(self, source: object) -> Transcript:
        assert Path(str(source)).is_file()
        self.entered.set()
        if self.block:
            await asyncio.Event().wait()
        if self.fail:
            raise SpeechUnavailable("the transcription worker died")
        return Transcript(self.text, audio_seconds=3.2, cpu_seconds=0.1, wall_seconds=0.1)

    def close(self, *, finish_current: bool = True) -> None:
        self.closed = finish_current


def run(tmp_path: Path, scenario: Callable[[CallService], Awaitable[None]]) -> None:
    """`scenario` against a CallService on a fresh SQLite database, in an event loop of its own."""

    async def main() -> None:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'service.db'}")
        await db.migrate()
        try:
            await scenario(CallService(db, public_url="http://trebuchet.test", data_dir=tmp_path / "data"))
        finally:
            await db.dispose()

    asyncio.run(main())


async def recorded(service: CallService) -> Recording:
    """A user, a call with a callback URL and the call's `complete` recording on disk."""
    now = utcnow()
    async with service.db.write() as conn:
        user = (await create_user(conn)).user
        call = Call(
            id=new_id("call"),
            user_id=user.id,
            direction="out",
            from_="+19195551212",
            to="+19195551213",
            start_time=now,
            callback_url="http://127.0.0.1:9/events",
            tag="t1",
            transcription_enabled=True,
        )
        await call_store.insert_call(conn, call)
        recording = Recording(new_id("recording"), user.id, call.id, 1, "wav", now - timedelta(seconds=3.2))
        await recording_store.insert_recording(conn, recording)
        await recording_store.finish_recording(conn, recording.id, state="complete", at=now)
    recording.state, recording.end_time = "complete", now
    path = media_path(service.recordings.data_dir, user.id, recording.media_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, np.zeros(8000, np.int16))
    return recording


async def payloads(service: CallService) -> list[dict]:
    async with service.db.read() as conn:
        rows = await conn.execute(sa.select(outbox.c.payload).order_by(outbox.c.seq))
        return [row.payload for row in rows]


async def settled(service: CallService) -> None:
    for _ in range(200):
        if not service.transcriptions.live_tasks:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the transcription did not settle")


def test_long_texts_are_cut_for_the_resource_and_the_event(tmp_path: Path):
    run(tmp_path, _long_texts_are_cut_for_the_resource_and_the_event)


async def _long_texts_are_cut_for_the_resource_and_the_event(service: CallService) -> None:
    service.transcriptions.make_transcriber = lambda: StandIn(LONG_TEXT)
    recording = await recorded(service)
    started = await service.transcriptions.start(recording)
    await settled(service)
    async with service.db.read() as conn:
        stored = await transcription_store.get_transcription(conn, recording.user_id, started.id)
    assert stored is not None and stored.state == "completed" and stored.text == LONG_TEXT
    resource = transcription_resource(stored, service.user_base(recording.user_id))
    assert len(resource["text"]) == 1000 and resource["textSize"] == len(LONG_TEXT)
    assert resource["chargeableDuration"] == 4  # 3.2 s of audio, rounded up
    [event] = await payloads(service)
    assert event["text"] == LONG_TEXT[:1026] and event["textSize"] == len(LONG_TEXT)
    assert event["tag"] == "t1" and event["callId"] == recording.call_id
    on_disk = media_path(service.recordings.data_dir, recording.user_id, started.id)
    assert on_disk.read_text("utf-8") == LONG_TEXT
    await service.transcriptions.close()


def test_a_failing_transcriber_gives_the_error_event(tmp_path: Path):
    run(tmp_path, _a_failing_transcriber_gives_the_error_event)


async def _a_failing_transcriber_gives_the_error_event(service: CallService) -> None:
    service.transcriptions.make_transcriber = lambda: StandIn(fail=True)
    recording = await recorded(service)
    service.transcriptions.start_soon(recording)
    await settled(service)
    [event] = await payloads(service)
    assert event["eventType"] == "transcription" and event["state"] == event["status"] == "error"
    assert "text" not in event and "textUrl" not in event
    async with service.db.read() as conn:
        [row] = await transcription_store.list_transcriptions(
            conn, recording.user_id, call_id=recording.call_id
        )
    assert row.state == "error" and row.text is None
    await service.transcriptions.close()


def test_shutdown_ends_work_under_way_in_error(tmp_path: Path):
    run(tmp_path, _shutdown_ends_work_under_way_in_error)


async def _shutdown_ends_work_under_way_in_error(service: CallService) -> None:
    stand_in = StandIn(block=True)
    service.transcriptions.make_transcriber = lambda: stand_in
    recording = await recorded(service)
    started = await service.transcriptions.start(recording)
    await asyncio.wait_for(stand_in.entered.wait(), 5)
    assert service.transcriptions.live_tasks == 1
    await service.transcriptions.close()
    assert service.transcriptions.live_tasks == 0 and stand_in.closed is False
    async with service.db.read() as conn:
        stored = await transcription_store.get_transcription(conn, recording.user_id, started.id)
    assert stored is not None and stored.state == "error"
    [event] = await payloads(service)
    assert event["state"] == "error" and event["transcriptionId"] == started.id
    service.transcriptions.start_soon(recording)  # a recording saved after close: not transcribed
    assert service.transcriptions.live_tasks == 0
