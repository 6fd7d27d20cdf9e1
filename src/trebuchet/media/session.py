"""An RTP session over UDP: symmetric RTP, G.711 in and out, RFC 4733 digits both ways.

The asyncio edge of the media layer. Datagrams go through `parse_rtp` into the receive buffer (audio)
or the telephone-event receiver (digits). On each frame-clock tick the session takes one frame from the
buffer (silence for a gap), hands it to `on_audio`, and sends one outgoing frame: whatever `source`
gives, or silence. Symmetric RTP (RFC 4961): we send to where the far end's packets come from, which
gets through NATs that rewrote the address the SDP announced.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import FRAME_SAMPLES
from .clock import FrameClock
from .g711 import (
    ALAW_DECODE,
    ALAW_ENCODE,
    MULAW_DECODE,
    MULAW_ENCODE,
    decode_alaw,
    decode_mulaw,
    encode_alaw,
    encode_mulaw,
)
from .mixer import Mix
from .receive_buffer import ReceiveBuffer
from .rtcp import ReceptionStats, Report, RtcpError, SenderInfo, build_report, ntp_now, parse_rtcp
from .rtp import RTP_HEADER, RtpError, RtpPacket, parse_rtp
from .telephone_event import EventError, EventReceiver, digit_packets

SILENCE = np.zeros(FRAME_SAMPLES, dtype=np.int16)
PAUSE_FRAMES = {",": 25, "w": 25, "W": 50}  # 20 ms frames: 0.5 s, 0.5 s, 1 s
CODECS = {
    "PCMU": (encode_mulaw, decode_mulaw),
    "PCMA": (encode_alaw, decode_alaw),
}
ENCODE_TABLES = {"PCMU": MULAW_ENCODE, "PCMA": ALAW_ENCODE}
DECODE_TABLES = {"PCMU": MULAW_DECODE, "PCMA": ALAW_DECODE}


@dataclass
class SessionStats:
    sent: int = 0
    received: int = 0
    malformed: int = 0
    foreign: int = 0  # datagrams from an address other than the far end's


class RtpSession(asyncio.DatagramProtocol):
    def __init__(
        self,
        *,
        codec: str,
        payload_type: int,
        remote: tuple[str, int],
        telephone_event: int | None = None,
        on_audio: Callable[[np.ndarray], None] | None = None,
        on_digit: Callable[[str], None] | None = None,
        source: Callable[[], np.ndarray | None] | None = None,
        rtcp_interval: float = 5.0,
    ) -> None:
        self.codec = codec
        self.encode, self.decode = CODECS[codec]
        self._silence_payload = self.encode(SILENCE)
        self.payload_type = payload_type
        self.telephone_event = telephone_event
        self.remote = remote
        self.on_audio = on_audio
        self.on_digit = on_digit
        self.source = source
        self.ssrc = random.getrandbits(32)
        self.sequence = random.getrandbits(16)
        self.timestamp = random.getrandbits(32)
        self.buffer = ReceiveBuffer()
        self.on_sent: Callable[[np.ndarray], None] | None = None  # each frame sent (a recorder's other half)
        self.events = EventReceiver()
        self.stats = SessionStats()
        self._digits_out: deque[RtpPacket | None] = deque()
        self._heard: list[np.ndarray] = []  # decoded samples not yet handed out
        self._heard_samples = 0
        self._packet_samples = FRAME_SAMPLES  # the far end's packet size, as last seen
        self._event_start = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._learned = False
        # RTCP (RFC 3550 §6) on the odd port above: our reports every `rtcp_interval`, theirs kept.
        self.rtcp_interval = rtcp_interval
        self.rtcp: _RtcpEndpoint | None = None
        self.reception: ReceptionStats | None = None
        self.last_remote_report: Report | None = None
        self._octets_sent = 0
        self._next_report = 0.0
        self.runner: FrameClock | SessionGroup | None = None  # what ticks this session
        self.local_port = 0

    # -- asyncio ---------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self.local_port = transport.get_extra_info("sockname")[1]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._learned and addr != self.remote:
            self.stats.foreign += 1
            return
        try:
            packet = parse_rtp(data)
        except RtpError:
            self.stats.malformed += 1
            return
        if not self._learned:  # symmetric RTP: latch on to where the media really comes from
            self.remote, self._learned = addr, True
        self.stats.received += 1
        if self.reception is None or self.reception.ssrc != packet.ssrc:
            self.reception = ReceptionStats(packet.ssrc)
        self.reception.update(packet.sequence, packet.timestamp, time.monotonic())
        if self.telephone_event is not None and packet.payload_type == self.telephone_event:
            try:
                digit = self.events.receive(packet.timestamp, packet.payload)
            except EventError:
                self.stats.malformed += 1
                return
            if digit and self.on_digit:
                self.on_digit(digit)
        # Digits share the stream's sequence numbers: buffered too, they play as silence, not as losses.
        self.buffer.push(packet)

    # -- the frame clock's side --------------------------------------------------------------------------

    # -- one tick, in phases: a SessionGroup runs them for many sessions, coding their audio in batches --

    def tick(self, tick: int) -> None:
        """One 20 ms tick for this session alone (a SessionGroup does the same for many at once)."""
        heard = self._next_frame()
        if self.on_audio is not None:
            self.on_audio(heard if isinstance(heard, np.ndarray) else self.decode(heard))
        frame = self.outgoing()
        if frame is not None:
            self.send_frame(self._silence_payload if frame is SILENCE else self.encode(frame))
        self.report_if_due(time.monotonic())

    def outgoing(self) -> np.ndarray | None:
        """The frame to encode and `send_frame` this tick, or None when a digit's packet went instead."""
        event = self._digits_out.popleft() if self._digits_out else None
        if event is not None:  # a digit's packet takes this frame's place; a pause (None) lets audio through
            if event.marker:
                self._event_start = self.timestamp  # every packet of one digit carries its start
            self._send(self.telephone_event or 0, self._event_start, event.payload, marker=event.marker)
            self.timestamp = (self.timestamp + FRAME_SAMPLES) & 0xFFFFFFFF
            return None
        frame = self.source() if self.source is not None else None
        frame = SILENCE if frame is None else frame
        if self.on_sent is not None:
            self.on_sent(frame)
        return frame

    def send_frame(self, payload: bytes) -> None:
        self._send(self.payload_type, self.timestamp, payload)
        self.timestamp = (self.timestamp + FRAME_SAMPLES) & 0xFFFFFFFF

    def report_if_due(self, now: float) -> None:
        if self.rtcp is not None and now >= self._next_report:
            self._next_report = now + self.rtcp_interval * random.uniform(0.5, 1.5)  # §6.3.1 randomisation
            self.rtcp.send_report(now)

    def _next_frame(self) -> np.ndarray | bytes:
        """One 20 ms frame of what was heard, whatever the far end's packet size: decoded samples, or
        (the common case of one 20 ms packet) its payload, left for the caller to decode in a batch."""
        while self._heard_samples < FRAME_SAMPLES:
            packet = self.buffer.pop()
            if packet is None and not self.buffer.gap:
                break  # nothing to play yet: silence fills the rest of the frame
            if packet is not None and packet.payload_type == self.payload_type:
                if not self._heard_samples and len(packet.payload) == FRAME_SAMPLES:
                    self._packet_samples = FRAME_SAMPLES
                    return packet.payload  # the common case: one 20 ms packet is the frame
                pcm = self.decode(packet.payload)
                self._packet_samples = len(pcm) or FRAME_SAMPLES
            else:  # a lost packet, or a digit's packet: silence for as long as a packet lasts
                pcm = np.zeros(self._packet_samples, dtype=np.int16)
            self._heard.append(pcm)
            self._heard_samples += len(pcm)
        if self._heard_samples == 0:
            return SILENCE
        joined = np.concatenate(self._heard)
        frame, rest = joined[:FRAME_SAMPLES], joined[FRAME_SAMPLES:]
        self._heard = [rest] if len(rest) else []
        self._heard_samples = len(rest)
        if len(frame) < FRAME_SAMPLES:
            frame = np.pad(frame, (0, FRAME_SAMPLES - len(frame)))
        return frame

    def send_digits(self, digits: str) -> None:
        """Queue RFC 4733 packets for `digits`; they take the place of audio frames while they play.

        `,` and `w` pause half a second, `W` a second (Catapult's dtmfOut): frames of normal audio.
        """
        if self.telephone_event is None:
            raise EventError("the far end did not offer telephone-event")
        for digit in digits:
            if digit in PAUSE_FRAMES:
                self._digits_out.extend([None] * PAUSE_FRAMES[digit])
                continue
            for index, event in enumerate(digit_packets(digit)):
                self._digits_out.append(RtpPacket(0, 0, 0, 0, event.to_bytes(), marker=index == 0))
            self._digits_out.extend([None] * 3)  # 60 ms between digits

    def _send(self, payload_type: int, timestamp: int, payload: bytes, *, marker: bool = False) -> None:
        if self._transport is None:
            return
        second = payload_type | 0x80 if marker else payload_type
        header = RTP_HEADER.pack(0x80, second, self.sequence, timestamp & 0xFFFFFFFF, self.ssrc)
        self._transport.sendto(header + payload, self.remote)
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.stats.sent += 1
        self._octets_sent += len(payload)

    def close(self) -> None:
        if self.runner is not None:
            self.runner.remove(self)
            self.runner = None
        if self._transport is not None:
            self._transport.close()
        if self.rtcp is not None:
            self.rtcp.close()


class _RtcpEndpoint(asyncio.DatagramProtocol):
    """The RTCP socket of one session: sends its reports, hands received ones back to it."""

    def __init__(self, session: RtpSession) -> None:
        self.session = session
        self.transport: asyncio.DatagramTransport | None = None
        self.malformed = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send_report(self, now: float) -> None:
        session = self.session
        if self.transport is None:
            return
        blocks = (session.reception.block(now),) if session.reception is not None else ()
        sender = SenderInfo(ntp_now(), session.timestamp, session.stats.sent, session._octets_sent)
        data = build_report(Report(session.ssrc, sender if session.stats.sent else None, blocks))
        host, port = session.remote
        self.transport.sendto(data, (host, port + 1))

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            reports = parse_rtcp(data)
        except RtcpError:
            self.malformed += 1
            return
        session = self.session
        for report in reports:
            if (
                report.sender is not None
                and session.reception is not None
                and report.ssrc == session.reception.ssrc
            ):
                session.reception.sender_report(report.sender.ntp, time.monotonic())
            session.last_remote_report = report

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_session(
    clock: FrameClock | SessionGroup, local: tuple[str, int], **options: object
) -> RtpSession:
    """Bind RTP at `local` and RTCP on the port above; tick the session on the clock (or in a group on it)."""
    loop = asyncio.get_running_loop()
    _, session = await loop.create_datagram_endpoint(lambda: RtpSession(**options), local_addr=local)  # type: ignore[arg-type]
    try:
        _, session.rtcp = await loop.create_datagram_endpoint(
            lambda: _RtcpEndpoint(session), local_addr=(local[0], local[1] + 1)
        )
    except OSError:
        session.close()
        raise
    if isinstance(clock, FrameClock):
        clock.add(session, session.tick)
    else:
        clock.add(session)
    session.runner = clock
    return session


class SessionGroup:
    """Many sessions as one frame-clock job, their G.711 decoded and encoded in one numpy call per codec.

    A per-session numpy call costs microseconds of overhead on 160 samples; for a thousand sessions
    that is most of a tick. Grouped, the tick does one table look-up over every session's frame.
    Between hearing and sending, the group runs its mixes (bridges, conferences; see `mixer`), so what a
    call sends this tick already contains what the others said this tick.
    """

    def __init__(self, clock: FrameClock) -> None:
        self.sessions: dict[RtpSession, None] = {}
        self.mixes: dict[Mix, None] = {}
        self.clock = clock
        clock.add(self, self.tick)

    def add_mix(self, mix: Mix) -> None:
        self.mixes[mix] = None

    def remove_mix(self, mix: Mix) -> None:
        self.mixes.pop(mix, None)

    def add(self, session: RtpSession) -> None:
        self.sessions[session] = None

    def remove(self, session: RtpSession) -> None:
        self.sessions.pop(session, None)

    def __len__(self) -> int:
        return len(self.sessions)

    def tick(self, _tick: int) -> None:
        sessions = list(self.sessions)
        to_decode: dict[str, list[tuple[RtpSession, bytes]]] = {}
        for session in sessions:
            heard = session._next_frame()
            if session.on_audio is None:
                continue
            if isinstance(heard, np.ndarray):
                session.on_audio(heard)
            else:
                to_decode.setdefault(session.codec, []).append((session, heard))
        for codec, items in to_decode.items():
            codes = np.frombuffer(b"".join(payload for _, payload in items), dtype=np.uint8)
            frames = DECODE_TABLES[codec][codes].reshape(len(items), FRAME_SAMPLES)
            for (session, _), frame in zip(items, frames, strict=True):
                session.on_audio(frame)  # type: ignore[misc]
        for mix in list(self.mixes):
            mix.mix()
        to_encode: dict[str, list[tuple[RtpSession, np.ndarray]]] = {}
        for session in sessions:
            frame = session.outgoing()
            if frame is SILENCE:
                session.send_frame(session._silence_payload)
            elif frame is not None:
                to_encode.setdefault(session.codec, []).append((session, frame))
        for codec, encoding in to_encode.items():
            stacked = np.stack([frame for _, frame in encoding]).astype(np.int16, copy=False)
            payloads = ENCODE_TABLES[codec][stacked.view(np.uint16)].tobytes()
            for index, (session, _) in enumerate(encoding):
                session.send_frame(payloads[index * FRAME_SAMPLES : (index + 1) * FRAME_SAMPLES])
        now = time.monotonic()
        for session in sessions:
            session.report_if_due(now)
