"""RTCP (RFC 3550 §6): sender and receiver reports with CNAME, and the receive statistics behind them.

Sans-IO. `ReceptionStats` follows one incoming RTP stream the way Appendix A of RFC 3550 does (sequence
cycles, expected vs received, interarrival jitter) and produces its report block; `build_report` makes
a compound packet (SR or RR, then SDES CNAME) and `parse_rtcp` reads one back.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field

from .rtp import seq_delta

SR, RR, SDES, BYE = 200, 201, 202, 203
NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900 to 1970


class RtcpError(ValueError):
    """Not a well-formed RTCP packet."""


@dataclass(frozen=True)
class ReportBlock:
    ssrc: int  # the stream this block is about
    fraction_lost: int  # 0..255, lost/expected since the last report, as a fixed-point fraction
    cumulative_lost: int
    highest_seq: int  # extended: cycles << 16 | highest sequence number
    jitter: int  # in timestamp units
    lsr: int = 0  # middle 32 bits of the last SR's NTP time
    dlsr: int = 0  # delay since that SR, in 1/65536 s

    def to_bytes(self) -> bytes:
        lost = max(-(1 << 23), min(self.cumulative_lost, (1 << 23) - 1)) & 0xFFFFFF
        return struct.pack(
            "!IIIIII",
            self.ssrc,
            (self.fraction_lost << 24) | lost,
            self.highest_seq,
            self.jitter,
            self.lsr,
            self.dlsr,
        )

    @classmethod
    def from_bytes(cls, data: bytes, offset: int) -> ReportBlock:
        ssrc, word, highest, jitter, lsr, dlsr = struct.unpack_from("!IIIIII", data, offset)
        lost = word & 0xFFFFFF
        if lost & 0x800000:
            lost -= 1 << 24
        return cls(ssrc, word >> 24, lost, highest, jitter, lsr, dlsr)


@dataclass(frozen=True)
class SenderInfo:
    ntp: int  # 64-bit NTP timestamp
    rtp_timestamp: int
    packets: int
    octets: int


@dataclass(frozen=True)
class Report:
    """One SR (with `sender`) or RR (without), as parsed or to be built."""

    ssrc: int
    sender: SenderInfo | None = None
    blocks: tuple[ReportBlock, ...] = ()
    cname: str | None = None


def ntp_now(now: float | None = None) -> int:
    moment = time.time() if now is None else now
    seconds = int(moment)
    return ((seconds + NTP_EPOCH_OFFSET) << 32) | int((moment - seconds) * (1 << 32))


def build_report(report: Report) -> bytes:
    """A compound RTCP packet: SR or RR, then SDES with the CNAME (required in every compound packet)."""
    blocks = b"".join(block.to_bytes() for block in report.blocks[:31])
    count = min(len(report.blocks), 31)
    if report.sender is not None:
        info = report.sender
        body = (
            struct.pack(
                "!IIIIII",
                report.ssrc,
                info.ntp >> 32,
                info.ntp & 0xFFFFFFFF,
                info.rtp_timestamp,
                info.packets,
                info.octets,
            )
            + blocks
        )
        first = _header(SR, count, body)
    else:
        first = _header(RR, count, struct.pack("!I", report.ssrc) + blocks)
    cname = (report.cname or f"{report.ssrc:08x}@trebuchet").encode()[:255]
    item = bytes([1, len(cname)]) + cname + b"\x00"  # CNAME item, then the end-of-list null
    item += b"\x00" * (-len(item) % 4)
    return first + _header(SDES, 1, struct.pack("!I", report.ssrc) + item)


def _header(packet_type: int, count: int, body: bytes) -> bytes:
    return struct.pack("!BBH", 0x80 | count, packet_type, len(body) // 4) + body


def parse_rtcp(data: bytes) -> list[Report]:
    """The SR/RR reports of a compound packet, with the CNAME from its SDES attached; others skipped."""
    reports: list[Report] = []
    cnames: dict[int, str] = {}
    offset = 0
    if len(data) < 8:
        raise RtcpError("shorter than an RTCP header")
    while offset + 4 <= len(data):
        first, packet_type, words = struct.unpack_from("!BBH", data, offset)
        if first >> 6 != 2:
            raise RtcpError(f"RTCP version {first >> 6}, expected 2")
        end = offset + 4 + 4 * words
        if end > len(data):
            raise RtcpError("RTCP packet runs past the datagram")
        count, body = first & 0x1F, offset + 4
        if packet_type in (SR, RR):
            header = 24 if packet_type == SR else 4
            if body + header + 24 * count > end:
                raise RtcpError("report blocks run past the packet")
            ssrc = struct.unpack_from("!I", data, body)[0]
            sender = None
            if packet_type == SR:
                _, hi, lo, rtp_ts, packets, octets = struct.unpack_from("!IIIIII", data, body)
                sender = SenderInfo((hi << 32) | lo, rtp_ts, packets, octets)
            blocks = tuple(ReportBlock.from_bytes(data, body + header + 24 * i) for i in range(count))
            reports.append(Report(ssrc, sender, blocks))
        elif packet_type == SDES and count and body + 6 <= end and data[body + 4] == 1:
            length = data[body + 5]
            cnames[struct.unpack_from("!I", data, body)[0]] = data[body + 6 : body + 6 + length].decode(
                "utf-8", "replace"
            )
        offset = end
    return [Report(r.ssrc, r.sender, r.blocks, cnames.get(r.ssrc)) for r in reports]


@dataclass
class ReceptionStats:
    """What we know about one incoming stream, for our report blocks about it (RFC 3550 A.1, A.3, A.8)."""

    ssrc: int
    clock_rate: int = 8000
    base_seq: int = 0
    max_seq: int = 0
    cycles: int = 0
    received: int = 0
    jitter: float = 0.0
    _transit: int | None = None
    _expected_prior: int = 0
    _received_prior: int = 0
    last_sr: int = 0  # middle 32 bits of the last SR's NTP time
    last_sr_at: float | None = None
    started: bool = field(default=False)

    def update(self, sequence: int, timestamp: int, arrival: float) -> None:
        if not self.started:
            self.base_seq = self.max_seq = sequence
            self.started = True
        else:
            delta = seq_delta(sequence, self.max_seq)
            if delta > 0:
                if sequence < self.max_seq:
                    self.cycles += 1 << 16
                self.max_seq = sequence
        self.received += 1
        transit = int(arrival * self.clock_rate) - timestamp
        if self._transit is not None:
            self.jitter += (abs(transit - self._transit) - self.jitter) / 16
        self._transit = transit

    def sender_report(self, ntp: int, at: float) -> None:
        self.last_sr = (ntp >> 16) & 0xFFFFFFFF
        self.last_sr_at = at

    def block(self, now: float) -> ReportBlock:
        extended = self.cycles + self.max_seq
        expected = extended - self.base_seq + 1
        lost = expected - self.received
        expected_interval = expected - self._expected_prior
        received_interval = self.received - self._received_prior
        self._expected_prior, self._received_prior = expected, self.received
        lost_interval = expected_interval - received_interval
        fraction = (
            (lost_interval << 8) // expected_interval if expected_interval > 0 and lost_interval > 0 else 0
        )
        dlsr = int((now - self.last_sr_at) * 65536) if self.last_sr_at is not None else 0
        return ReportBlock(
            self.ssrc, min(fraction, 255), lost, extended & 0xFFFFFFFF, int(self.jitter), self.last_sr, dlsr
        )
