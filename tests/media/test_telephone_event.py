"""RFC 4733 events: payload layout, a sender's packet plan, and one digit per event at the receiver."""

from __future__ import annotations

import random

import pytest

from trebuchet.media.telephone_event import (
    EventError,
    EventReceiver,
    TelephoneEvent,
    digit_packets,
    parse_event,
)


def test_payload_layout():
    assert TelephoneEvent(event=11, end=True, volume=10, duration=800).to_bytes() == bytes(
        [11, 0x8A, 0x03, 0x20]
    )
    event = parse_event(bytes([5, 0x0A, 0x00, 0xA0]))
    assert (event.digit, event.end, event.volume, event.duration) == ("5", False, 10, 160)
    with pytest.raises(EventError):
        parse_event(b"\x01\x02")


def test_sender_plan_ends_with_three_end_packets():
    plan = digit_packets("#", duration_ms=100)
    assert [p.end for p in plan] == [False] * 4 + [True] * 3
    assert [p.duration for p in plan] == [160, 320, 480, 640, 800, 800, 800]
    assert {p.digit for p in plan} == {"#"}
    with pytest.raises(EventError):
        digit_packets("x")


def test_each_digit_is_reported_once_despite_loss_reordering_and_redundancy():
    rng = random.Random(4733)
    stream = []
    timestamp = 1000
    for digit in "1234567890*#ABCD":
        stream.extend((timestamp, packet.to_bytes()) for packet in digit_packets(digit))
        timestamp += 1600
    # Lose a third of the packets (never all of a digit's) and swap neighbours now and then.
    kept = [item for index, item in enumerate(stream) if index % 7 == 6 or rng.random() > 0.33]
    for index in range(0, len(kept) - 1, 5):
        kept[index], kept[index + 1] = kept[index + 1], kept[index]
    receiver = EventReceiver()
    heard = [digit for ts, payload in kept if (digit := receiver.receive(ts, payload))]
    assert sorted(heard) == sorted("1234567890*#ABCD")
    assert len(heard) == 16
