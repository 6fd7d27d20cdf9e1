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
from .g711 import decode_alaw, decode_mulaw, encode_alaw, encode_mulaw
from .receive_buffer import ReceiveBuffer
from .rtcp import ReceptionStats, Report, RtcpError, SenderInfo, build_report, ntp_now, parse_rtcp
from .rtp import RTP_HEADER, RtpError, RtpPacket, parse_rtp
from .telephone_event import EventError, EventReceiver, digit_packets

SILENCE = np.zeros(FRAME_SAMPLES, dtype=np.int16)
CODECS = {
    "PCMU": (encode_mulaw, decode_mulaw),
    "PCMA": (encode_alaw, decode_alaw),
}


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
        self.encode, self.decode = CODECS[codec]
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

    # -- asyncio ---------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

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

    def tick(self, tick: int) -> None:
        self._media_tick()
        now = time.monotonic()
        if self.rtcp is not None and now >= self._next_report:
            self._next_report = now + self.rtcp_interval * random.uniform(0.5, 1.5)  # §6.3.1 randomisation
            self.rtcp.send_report(now)

    def _media_tick(self) -> None:
        if self.on_audio is not None:
            self.on_audio(self._next_frame())
        if self._digits_out:
            event = self._digits_out.popleft()
            if event is None:  # the pause after a digit
                self._send(self.payload_type, self.timestamp, self.encode(SILENCE))
            else:
                if event.marker:
                    self._event_start = self.timestamp  # every packet of one digit carries its start
                self._send(self.telephone_event or 0, self._event_start, event.payload, marker=event.marker)
        else:
            frame = self.source() if self.source is not None else None
            self._send(self.payload_type, self.timestamp, self.encode(SILENCE if frame is None else frame))
        self.timestamp = (self.timestamp + FRAME_SAMPLES) & 0xFFFFFFFF

    def _next_frame(self) -> np.ndarray:
        """Exactly one 20 ms frame of what was heard, whatever the far end's packet size."""
        while self._heard_samples < FRAME_SAMPLES:
            packet = self.buffer.pop()
            if packet is None and not self.buffer.gap:
                break  # nothing to play yet: silence fills the rest of the frame
            if packet is not None and packet.payload_type == self.payload_type:
                pcm = self.decode(packet.payload)
                self._packet_samples = len(pcm) or FRAME_SAMPLES
                if not self._heard_samples and len(pcm) == FRAME_SAMPLES:
                    return pcm  # the common case: one 20 ms packet is the frame
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
        """Queue RFC 4733 packets for `digits`; they take the place of audio frames while they play."""
        if self.telephone_event is None:
            raise EventError("the far end did not offer telephone-event")
        for digit in digits:
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


async def open_session(clock: FrameClock, local: tuple[str, int], **options: object) -> RtpSession:
    """Bind RTP at `local` and RTCP on the port above, start the session on the shared clock."""
    loop = asyncio.get_running_loop()
    _, session = await loop.create_datagram_endpoint(lambda: RtpSession(**options), local_addr=local)  # type: ignore[arg-type]
    try:
        _, session.rtcp = await loop.create_datagram_endpoint(
            lambda: _RtcpEndpoint(session), local_addr=(local[0], local[1] + 1)
        )
    except OSError:
        session.close()
        raise
    clock.add(session, session.tick)
    return session
