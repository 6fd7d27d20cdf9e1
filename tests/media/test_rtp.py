"""RTP packets: round trips, the fields a real packet carries, refusals, and wrap-around arithmetic."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trebuchet.media.rtp import RtpError, RtpPacket, parse_rtp, seq_delta, ts_delta

packets = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127),
    sequence=st.integers(0, 0xFFFF),
    timestamp=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    payload=st.binary(max_size=200),
    marker=st.booleans(),
    csrcs=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15).map(tuple),
    extension=st.none()
    | st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=12).map(lambda b: b + b"\0" * (-len(b) % 4))),
)


@given(packets)
def test_round_trip(packet):
    assert parse_rtp(packet.to_bytes()) == packet


def test_wire_layout_of_a_pcmu_packet():
    packet = RtpPacket(
        payload_type=0,
        sequence=0x1234,
        timestamp=0xDEADBEEF,
        ssrc=0x01020304,
        payload=b"\xff" * 160,
        marker=True,
    )
    wire = packet.to_bytes()
    assert wire[:12] == bytes.fromhex("80 80 1234 deadbeef 01020304".replace(" ", ""))
    assert len(wire) == 172


def test_padding_is_removed():
    wire = bytearray(RtpPacket(8, 1, 2, 3, payload=b"abcd").to_bytes()) + b"\0\0\x03"
    wire[0] |= 0x20
    assert parse_rtp(bytes(wire)).payload == b"abcd"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80\x00",
        bytes(12),
        b"\x40" + bytes(11),
        b"\x8f" + bytes(11),
        b"\x90" + bytes(11),
        b"\xa0" + bytes(11) + b"\x00",
        b"\xa0" + bytes(11) + b"\xff",
    ],
)
def test_malformed_packets_are_refused(data):
    with pytest.raises(RtpError):
        parse_rtp(data)


@given(st.binary(max_size=64))
def test_any_bytes_parse_or_raise_rtp_error(data):
    with contextlib.suppress(RtpError):
        parse_rtp(data)


def test_wrap_around_arithmetic():
    assert seq_delta(2, 65534) == 4
    assert seq_delta(65534, 2) == -4
    assert ts_delta(10, 0xFFFFFFF0) == 26
    assert ts_delta(0xFFFFFFF0, 10) == -26
