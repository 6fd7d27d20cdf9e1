"""RTP packets (RFC 3550 §5.1): parse and build, with the 16-bit sequence and 32-bit timestamp arithmetic.

Sans-IO: bytes in, `RtpPacket` out and back. Anything that is not a well-formed RTP version 2 packet
raises `RtpError`, which a receiver counts and drops (RTP over UDP sees stray datagrams).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

RTP_HEADER = _HEADER = struct.Struct("!BBHII")  # V/P/X/CC, M/PT, sequence, timestamp, SSRC
VERSION = 2


class RtpError(ValueError):
    """Not a well-formed RTP packet."""


class RtpPacket(NamedTuple):
    """A named tuple rather than a dataclass: thousands are made per second, and tuples are cheapest."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrcs: tuple[int, ...] = ()
    extension: tuple[int, bytes] | None = None  # (profile-defined id, data)

    def to_bytes(self) -> bytes:
        if not 0 <= self.payload_type < 128:
            raise RtpError(f"payload type {self.payload_type} out of range")
        if len(self.csrcs) > 15:
            raise RtpError("at most 15 CSRCs")
        first = (VERSION << 6) | (0x10 if self.extension else 0) | len(self.csrcs)
        second = (0x80 if self.marker else 0) | self.payload_type
        parts = [
            _HEADER.pack(
                first, second, self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc & 0xFFFFFFFF
            )
        ]
        parts.extend(struct.pack("!I", csrc) for csrc in self.csrcs)
        if self.extension:
            profile, data = self.extension
            if len(data) % 4:
                raise RtpError("header extension data must be a multiple of 4 bytes")
            parts.append(struct.pack("!HH", profile, len(data) // 4) + data)
        parts.append(self.payload)
        return b"".join(parts)


def parse_rtp(data: bytes) -> RtpPacket:
    if len(data) >= 12 and data[0] == 0x80:  # the common case: no padding, extension or CSRCs
        _, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
        return RtpPacket(second & 0x7F, sequence, timestamp, ssrc, data[12:], second > 0x7F)
    if len(data) < _HEADER.size:
        raise RtpError(f"{len(data)} bytes is shorter than an RTP header")
    first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
    if first >> 6 != VERSION:
        raise RtpError(f"RTP version {first >> 6}, expected 2")
    offset = _HEADER.size
    count = first & 0x0F
    if len(data) < offset + 4 * count:
        raise RtpError("CSRC list runs past the packet")
    csrcs = struct.unpack_from(f"!{count}I", data, offset) if count else ()
    offset += 4 * count
    extension = None
    if first & 0x10:
        if len(data) < offset + 4:
            raise RtpError("header extension runs past the packet")
        profile, words = struct.unpack_from("!HH", data, offset)
        offset += 4
        if len(data) < offset + 4 * words:
            raise RtpError("header extension runs past the packet")
        extension = (profile, bytes(data[offset : offset + 4 * words]))
        offset += 4 * words
    end = len(data)
    if first & 0x20:
        padding = data[-1]
        if padding == 0 or offset + padding > end:
            raise RtpError("bad padding length")
        end -= padding
    return RtpPacket(
        payload_type=second & 0x7F,
        sequence=sequence,
        timestamp=timestamp,
        ssrc=ssrc,
        payload=bytes(data[offset:end]),
        marker=bool(second & 0x80),
        csrcs=tuple(csrcs),
        extension=extension,
    )


def seq_delta(newer: int, older: int) -> int:
    """Signed distance between 16-bit sequence numbers, across wrap-around (-32768..32767)."""
    return ((newer - older + 0x8000) & 0xFFFF) - 0x8000


def ts_delta(newer: int, older: int) -> int:
    """Signed distance between 32-bit RTP timestamps, across wrap-around."""
    return ((newer - older + 0x8000_0000) & 0xFFFF_FFFF) - 0x8000_0000
