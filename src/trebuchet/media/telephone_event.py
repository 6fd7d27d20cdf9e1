"""RFC 4733 telephone events (DTMF over RTP): the 4-byte payload, a sender's packet plan, and a receiver.

A digit is one event that spans many packets sharing the RTP timestamp of its start: updates while the
key is held, then the end packet sent three times for robustness. The receiver reports each digit once,
however many of those packets arrive, in whatever order, and whichever are lost.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

EVENTS = "0123456789*#ABCD"
_PAYLOAD = struct.Struct("!BBH")


class EventError(ValueError):
    """Not a valid telephone-event payload."""


@dataclass(frozen=True)
class TelephoneEvent:
    event: int  # 0-15 for DTMF: EVENTS[event]
    end: bool
    volume: int  # 0..63, in -dBm0
    duration: int  # in timestamp units (1/8000 s for 8 kHz)

    @property
    def digit(self) -> str | None:
        return EVENTS[self.event] if self.event < len(EVENTS) else None

    def to_bytes(self) -> bytes:
        return _PAYLOAD.pack(
            self.event, (0x80 if self.end else 0) | (self.volume & 0x3F), self.duration & 0xFFFF
        )


def parse_event(payload: bytes) -> TelephoneEvent:
    if len(payload) < 4:
        raise EventError(f"{len(payload)} bytes is shorter than a telephone-event payload")
    event, flags, duration = _PAYLOAD.unpack_from(payload)
    return TelephoneEvent(event=event, end=bool(flags & 0x80), volume=flags & 0x3F, duration=duration)


def digit_packets(
    digit: str, *, duration_ms: int = 100, volume: int = 10, step_ms: int = 20
) -> list[TelephoneEvent]:
    """The payloads to send for one digit, every `step_ms`: updates, then the end event three times."""
    if len(digit) != 1 or digit.upper() not in EVENTS:
        raise EventError(f"{digit!r} is not a DTMF digit")
    event = EVENTS.index(digit.upper())
    units = lambda ms: ms * 8  # noqa: E731 - 8 timestamp units per ms at 8 kHz
    updates = [TelephoneEvent(event, False, volume, units(ms)) for ms in range(step_ms, duration_ms, step_ms)]
    end = TelephoneEvent(event, True, volume, units(duration_ms))
    return [*updates, end, end, end]


class EventReceiver:
    """Turns a stream of telephone-event packets into digits, each reported once.

    Events are told apart by their RTP timestamp (the start of the event). A digit is reported on the
    first packet of a new timestamp, so a lost start still yields the digit from any later packet.
    """

    def __init__(self, memory: int = 32) -> None:
        self._seen: list[int] = []
        self._memory = memory

    def receive(self, timestamp: int, payload: bytes) -> str | None:
        """The new digit this packet announces, or None (a repeat, an end retransmission, not DTMF)."""
        event = parse_event(payload)
        if timestamp in self._seen:
            return None
        self._seen.append(timestamp)
        if len(self._seen) > self._memory:
            del self._seen[0]
        return event.digit
