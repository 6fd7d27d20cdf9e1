"""CallController: one live call's SIP dialog, RTP session and timers, turned into call-state inputs.

Theory of operation
-------------------
The controller is born when a call starts to exist on the wire (our INVITE left, or theirs arrived) and
dies when the SIP side has ended and its RTP port is given back. In between, one task reads the SIP
call's event queue and the call's timer, and reports each thing that happened as an `Outcome` to
`CallService.apply`, which alone decides (through the state table) whether it changes the call. The
controller never writes state itself, so it needs no view of the call's state: it reports everything,
and a report that comes too late (the far end's BYE after the API already hung up) is a quiet no-op.

Commands (`hang_up`, `answer`, `reject`) come from `SipEngine`, which the service calls with the call's
lock held; they act on the wire at once and return the `Outcome` to record. `ending` remembers that our
side gave up, so an answer that crosses our CANCEL is hung up straight away instead of starting media.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..domain import causes
from ..domain.call_state import Input
from ..domain.gather import Collector, GatherRules
from ..media.audio_files import FilePlayer
from ..media.mixer import Mix, MixPort, clip
from ..media.recorder import Recorder
from ..media.session import RtpSession, open_session
from ..media.telephone_event import EventError
from ..metrics import RTP_PACKETS
from ..sip import sdp
from ..sip.call import Call as SipCall
from .control import MediaUnavailable, Outcome
from .tasks import BackgroundTasks

if TYPE_CHECKING:
    from .sip_engine import SipEngine

log = logging.getLogger("trebuchet.engine")

# An inbound call nobody answers or rejects is declined after this long (the API's callTimeout ceiling).
INBOUND_RING_LIMIT = 300.0
RINGING = ("calling", "ringing")


class CallController:
    def __init__(
        self,
        engine: SipEngine,
        call_id: str,
        sip_call: SipCall,
        rtp_port: int,
        *,
        ring_limit: float,
        offer: sdp.Session | None = None,
    ) -> None:
        self.engine = engine
        self.call_id = call_id
        self.sip = sip_call
        self.rtp_port = rtp_port
        self.ring_limit = ring_limit
        self.offer = offer  # ours, for an outbound call
        self.session: RtpSession | None = None
        self.held = False  # the far end put us on hold (it may send nothing then)
        self.ending = False
        self.task: asyncio.Task[None] | None = None
        self._digits: asyncio.Queue[str] = asyncio.Queue()  # heard, to report in order
        self._digit_reporter: asyncio.Task[None] | None = None
        self._gather: GatherRun | None = None
        self._recording: tuple[str, Recorder, asyncio.Task[None]] | None = None
        self._playing: Playback | None = None
        self.mix_id: str | None = None  # the bridge or conference whose mix we are in
        self.port: MixPort | None = None  # our place in it
        self._audio_reports = BackgroundTasks("audio event")
        sip_call.on_offer = self._answer_reoffer

    async def report(self, outcome: Outcome) -> None:
        """Tell the service what happened; the state table decides whether it changes the call."""
        await self.engine.service.apply(self.call_id, outcome)

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"call-{self.call_id}")

    # -- commands (the service holds the call's lock) ---------------------------------------------------

    def hang_up(self) -> Outcome:
        """BYE an answered call, CANCEL an outbound one still ringing, decline an inbound one."""
        self.ending = True
        if self.sip.state in RINGING:
            if self.sip.direction == "out":
                self.sip.cancel()
                return Outcome(Input.HANGUP, causes.ORIGINATOR_CANCEL)
            self.sip.reject(480)
            return Outcome(Input.HANGUP, causes.NORMAL_CLEARING)
        self.sip.bye()
        return Outcome(Input.HANGUP, causes.NORMAL_CLEARING)

    async def answer(self) -> Outcome:
        """Answer an inbound call: our SDP answer, RTP up, 200 OK (retransmitted until the ACK)."""
        if self.sip.state not in RINGING:
            return Outcome(Input.REMOTE_HANGUP, causes.ORIGINATOR_CANCEL)
        try:
            answer, negotiated = sdp.answer(
                sdp.parse_sdp(self.sip.remote_sdp),
                self.engine.media_host,
                self.rtp_port,
                session_id=random.getrandbits(31),
            )
        except sdp.SdpError as error:
            log.info("call %s: cannot answer the offer: %s", self.call_id, error)
            self.ending = True
            self.sip.reject(488)
            return Outcome(Input.FAILED, causes.INCOMPATIBLE_DESTINATION)
        try:
            self.session = await self._open_media(negotiated)
        except OSError as error:  # the port was taken between our check and the bind
            log.warning("call %s: no RTP socket: %s", self.call_id, error)
            self.ending = True
            self.sip.reject(503)
            return Outcome(Input.FAILED, causes.NORMAL_TEMPORARY_FAILURE)
        self.sip.answer(answer.to_bytes())
        return Outcome(Input.ANSWERED, dialog=self._dialog_record())

    def send_digits(self, digits: str) -> None:
        if self.session is None:
            raise MediaUnavailable("the call has no media yet")
        try:
            self.session.send_digits(digits)
        except EventError as why:  # the far end did not offer telephone-event
            raise MediaUnavailable(str(why)) from None

    def start_gather(self, gather_id: str, rules: GatherRules) -> None:
        """Collect the digits heard from now on; the result goes to the gather service when done."""
        if self.session is None:
            raise MediaUnavailable("the call has no media yet")
        self._gather = GatherRun(gather_id, Collector(rules, asyncio.get_running_loop().time()))
        self._gather.task = asyncio.create_task(self._run_gather(self._gather), name=f"gather-{gather_id}")

    def stop_gather(self, gather_id: str, reason: str = "cancelled") -> bool:
        run = self._gather
        if run is None or run.id != gather_id or run.task is None or run.task.done():
            return False
        run.stop_reason = reason
        run.task.cancel()
        return True

    async def _run_gather(self, run: GatherRun) -> None:
        loop = asyncio.get_running_loop()
        reason: str | None = None
        try:
            while reason is None:
                try:
                    async with asyncio.timeout(max(run.collector.deadline - loop.time(), 0.0)):
                        digit = await run.heard.get()
                except TimeoutError:
                    reason = run.collector.expired(loop.time())
                    continue
                reason = run.collector.press(digit, loop.time())
        except asyncio.CancelledError:
            reason = run.stop_reason
        finally:
            if self._gather is run:
                self._gather = None
        await self.engine.service.gathers.finish(self.call_id, run.id, reason, run.collector.digits)

    def start_recording(self, recording_id: str, path: Path, file_format: str, max_duration: float) -> None:
        """Record both directions on the frame clock until stopped, the max duration, or the hang-up."""
        if self.session is None:
            raise MediaUnavailable("the call has no media yet")
        if self._recording is not None:
            return
        recorder = Recorder(path, file_format=file_format, max_duration=max_duration)  # type: ignore[arg-type]
        recorder.start(self.engine.clock)
        watcher = asyncio.create_task(
            self._watch_recording(recording_id, recorder), name=f"rec-{recording_id}"
        )
        self._recording = (recording_id, recorder, watcher)
        self._wire()

    def stop_recording(self) -> None:
        if self._recording is not None:
            self._recording[1].stop()

    async def _watch_recording(self, recording_id: str, recorder: Recorder) -> None:
        saved = None
        try:
            assert recorder.ended is not None
            saved = await asyncio.shield(recorder.ended)
        except Exception:
            log.exception("call %s: recording %s failed", self.call_id, recording_id)
        finally:
            if self._recording is not None and self._recording[1] is recorder:
                self._recording = None
                self._wire()
        await self.engine.service.recordings.finished(self.call_id, recording_id, saved)

    async def _end_recording(self) -> None:
        """A recording still running when the call ends is finished and saved before we let go."""
        if self._recording is None:
            return
        _, recorder, watcher = self._recording
        recorder.stop()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await watcher

    def play_audio(self, kind: str, player: FilePlayer, tag: str | None, barge_in: bool = False) -> None:
        """Play into the call from the next tick, instead of whatever played (which is then done)."""
        if self.session is None:
            raise MediaUnavailable("the call has no media yet")
        if self._playing is not None:
            self._audio_done(self._playing)
        self._playing = Playback(kind, player, tag, barge_in)
        self._wire()

    def stop_audio(self, kind: str | None = None) -> bool:
        playing = self._playing
        if playing is None or (kind is not None and playing.kind != kind):
            return False
        self._audio_done(playing)
        return True

    # -- where the call's audio goes: recorder, mix (bridge, conference), playback ---------------------

    def join_mix(self, mix_id: str, mix: Mix, *, speaks: bool, hears: bool) -> None:
        """Be in `mix` (leaving any other) with these rights; in it already, just change the rights."""
        if self.mix_id != mix_id:
            self.leave_mix()
            self.mix_id, self.port = mix_id, mix.join(self.call_id, speaks=speaks, hears=hears)
        else:
            assert self.port is not None
            self.port.speaks, self.port.hears = speaks, hears
        self._wire()

    def leave_mix(self) -> None:
        if self.mix_id is not None:
            self.engine.left_mix(self.mix_id, self.call_id)
        self.mix_id, self.port = None, None
        self._wire()

    def _wire(self) -> None:
        """Hook the session up for what is going on now, and no more (an unused hook costs a decode)."""
        session = self.session
        if session is None:
            return
        recorder = self._recording[1] if self._recording is not None else None
        mixed = self.port is not None
        session.on_audio = self._heard if recorder is not None or mixed else None
        session.on_sent = recorder.send if recorder is not None else None
        session.source = self._outgoing if self._playing is not None or mixed else None

    def _heard(self, frame: np.ndarray) -> None:
        if self.port is not None:
            self.port.heard = frame
        if self._recording is not None:
            self._recording[1].hear(frame)

    def _outgoing(self) -> np.ndarray | None:
        """This tick's frame to send: what plays to this call alone, plus what its mix gives it."""
        frame = None
        playing = self._playing
        if playing is not None:
            frame = playing.player()
            if frame is None:
                self._audio_done(playing)
        mixed = self.port.output if self.port is not None else None
        if mixed is None:
            return frame
        if frame is None:
            return mixed
        return clip(frame.astype(np.int32) + mixed)

    def _audio_done(self, playing: Playback) -> None:
        if self._playing is playing:
            self._playing = None
            self._wire()
        playing.player.stop()
        report = self.engine.service.audio.finished(self.call_id, playing.kind, playing.tag)
        self._audio_reports.spawn(report, f"audio-done-{self.call_id}")

    def _heard_digit(self, digit: str) -> None:
        """A digit interrupts a bargeable prompt at once (before its event is even written)."""
        if self._playing is not None and self._playing.barge_in:
            self._audio_done(self._playing)
        self._digits.put_nowait(digit)

    def reject(self) -> Outcome:
        self.ending = True
        self.sip.reject(603)
        return Outcome(Input.REJECT, causes.CALL_REJECTED)

    # -- the call's life --------------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._follow()
        except Exception:
            log.exception("call %s: controller failed", self.call_id)
            self.ending = True
            self.sip.bye()
            try:
                await self.report(Outcome(Input.FAILED, causes.NORMAL_TEMPORARY_FAILURE))
            except Exception:  # storage is down too: crash recovery closes the call at the next start
                log.exception("call %s: recording the failure failed", self.call_id)
        finally:
            await self._end_gather()
            await self._end_recording()
            self.stop_audio()
            await self._audio_reports.wait()
            self._release()

    async def _end_gather(self) -> None:
        """A gather still collecting when the call ends completes with `hung-up`."""
        run = self._gather
        if run is None or run.task is None or not self.stop_gather(run.id, "hung-up"):
            return
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await run.task

    async def _follow(self) -> None:
        loop = asyncio.get_running_loop()
        ring_deadline = loop.time() + self.ring_limit
        media = MediaWatch(self.engine.media_timeout)
        while True:
            ringing = self.sip.state in RINGING and not self.ending
            watching = self.session is not None and not self.ending and media.enabled
            wait = ring_deadline - loop.time() if ringing else media.check_every if watching else None
            try:
                async with asyncio.timeout(None if wait is None else max(wait, 0.0)):
                    event = await self.sip.events.get()
            except TimeoutError:
                if ringing:
                    await self._ring_timed_out()
                elif self.session is not None and media.silent_too_long(
                    self.session.stats.received, loop.time(), self.held
                ):
                    await self._media_timed_out()
                continue
            if event.kind == "answered":
                await self._answered(event.sdp)
            elif event.kind == "failed":
                await self.report(Outcome(Input.FAILED, causes.cause_for_sip_status(event.status or 500)))
                return
            elif event.kind == "cancelled":
                # Theirs (an inbound caller gave up) or the 487 to our CANCEL (already recorded).
                await self.report(Outcome(Input.REMOTE_HANGUP, causes.ORIGINATOR_CANCEL))
                return
            elif event.kind == "ended":
                cause = (
                    causes.NORMAL_CLEARING if event.reason == "remote" else causes.RECOVERY_ON_TIMER_EXPIRE
                )
                await self.report(Outcome(Input.REMOTE_HANGUP, cause))
                return

    async def _ring_timed_out(self) -> None:
        self.ending = True
        if self.sip.direction == "out":
            self.sip.cancel()
            await self.report(Outcome(Input.TIMED_OUT, causes.NO_ANSWER))
        else:
            self.sip.reject(480)
            await self.report(Outcome(Input.FAILED, causes.NO_ANSWER))

    async def _media_timed_out(self) -> None:
        """No RTP from the far end for TREBUCHET_MEDIA_TIMEOUT seconds: it is gone (crashed, unplugged)
        without a BYE. End the call rather than leave it `active` forever."""
        log.info("call %s: no RTP for %.0f s, hanging up", self.call_id, self.engine.media_timeout)
        self.ending = True
        self.sip.bye()
        await self.report(Outcome(Input.FAILED, causes.MEDIA_TIMEOUT))

    async def _answered(self, answer_sdp: bytes) -> None:
        if self.ending:  # the answer crossed our CANCEL: the call is over for the API, end it here too
            self.sip.bye()
            return
        assert self.offer is not None
        try:
            negotiated = sdp.accept_answer(self.offer, sdp.parse_sdp(answer_sdp))
        except sdp.SdpError as error:
            log.info("call %s: unusable SDP answer: %s", self.call_id, error)
            self.ending = True
            self.sip.bye()
            await self.report(Outcome(Input.FAILED, causes.INCOMPATIBLE_DESTINATION))
            return
        self.session = await self._open_media(negotiated)
        await self.report(Outcome(Input.ANSWERED, dialog=self._dialog_record()))

    def _dialog_record(self) -> dict[str, object] | None:
        return self.sip.dialog.to_record() if self.sip.dialog is not None else None

    async def _open_media(self, negotiated: sdp.Negotiated) -> RtpSession:
        """RTP from answer to hang-up (silence unless something plays or a bridge partner speaks); digits
        heard become `dtmf` events, reported one by one in the order they came."""
        self._digit_reporter = asyncio.create_task(self._report_digits(), name=f"digits-{self.call_id}")
        return await open_session(
            self.engine.media,
            (self.engine.media_host, self.rtp_port),
            codec=negotiated.codec,
            payload_type=negotiated.payload_type,
            telephone_event=negotiated.telephone_event,
            remote=(negotiated.remote_address, negotiated.remote_port),
            on_digit=self._heard_digit,
        )

    async def _report_digits(self) -> None:
        while True:
            digit = await self._digits.get()
            for_the_app = True
            try:
                for_the_app = await self.engine.service.record_digit(self.call_id, digit)
            except Exception:  # a lost digit event must not end the call
                log.exception("call %s: recording digit %s failed", self.call_id, digit)
            if self._gather is not None and for_the_app:
                self._gather.heard.put_nowait(digit)

    def _answer_reoffer(self, offer: bytes) -> bytes:
        """A re-INVITE (hold, resume): answer on the same port; the session keeps its codec."""
        answer, negotiated = sdp.answer(
            sdp.parse_sdp(offer), self.engine.media_host, self.rtp_port, session_id=1, version=2
        )
        self.held = negotiated.on_hold
        if self.session is not None:
            self.session.remote = (negotiated.remote_address, negotiated.remote_port)
        return answer.to_bytes()

    def _release(self) -> None:
        self.leave_mix()
        if self._digit_reporter is not None:
            self._digit_reporter.cancel()
        if self.session is not None:
            RTP_PACKETS.labels("sent").inc(self.session.stats.sent)
            RTP_PACKETS.labels("received").inc(self.session.stats.received)
            self.session.close()
            self.session = None
        self.engine.released(self)

    async def stop(self, grace: float) -> None:
        """Wait up to `grace` seconds for the SIP side to finish (a CANCEL's 487), then stop regardless."""
        if self.task is None:
            return
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            async with asyncio.timeout(grace):
                await asyncio.shield(self.task)
        if not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


class MediaWatch:
    """Notices a far end that stopped sending RTP: the count of packets received must keep moving."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.enabled = timeout > 0
        self.check_every = min(timeout, 1.0) if self.enabled else 1.0
        self._count = -1
        self._since = 0.0

    def silent_too_long(self, received: int, now: float, held: bool) -> bool:
        if received != self._count or held:
            self._count, self._since = received, now
            return False
        return now - self._since >= self.timeout


@dataclass
class GatherRun:
    """A gather in progress on this call: its digits so far and the task that waits for more."""

    id: str
    collector: Collector
    heard: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    stop_reason: str = "cancelled"


@dataclass
class Playback:
    """What plays into the call now: a file (`playback`) or a sentence (`speak`), and its tag."""

    kind: str
    player: FilePlayer
    tag: str | None
    barge_in: bool = False  # a gather's prompt stops at the first digit
