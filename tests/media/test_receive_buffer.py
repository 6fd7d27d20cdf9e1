"""The receive buffer: order restored, gaps reported once, late and duplicate packets dropped."""

from __future__ import annotations

from trebuchet.media.receive_buffer import ReceiveBuffer
from trebuchet.media.rtp import RtpPacket


def packet(seq: int, ssrc: int = 7) -> RtpPacket:
    return RtpPacket(
        payload_type=0,
        sequence=seq & 0xFFFF,
        timestamp=(seq * 160) & 0xFFFFFFFF,
        ssrc=ssrc,
        payload=bytes([seq & 0xFF]),
    )


def drain(buffer: ReceiveBuffer, ticks: int) -> list[int | None]:
    return [None if (p := buffer.pop()) is None else p.sequence for _ in range(ticks)]


def test_reordering_within_the_depth_is_undone():
    buffer = ReceiveBuffer(depth=3)
    for seq in (11, 10, 13, 12, 14):
        buffer.push(packet(seq))
    assert drain(buffer, 5) == [10, 11, 12, 13, 14]
    assert buffer.stats.lost == 0


def test_a_lost_packet_is_one_gap_and_a_late_one_is_dropped():
    buffer = ReceiveBuffer(depth=2)
    for seq in (1, 2, 4, 5):
        buffer.push(packet(seq))
    assert drain(buffer, 2) == [1, 2]
    assert drain(buffer, 1) == [None]  # 3 is missing when its turn comes
    buffer.push(packet(3))  # too late now
    assert drain(buffer, 2) == [4, 5]
    assert (buffer.stats.lost, buffer.stats.late) == (1, 1)


def test_duplicates_are_dropped_and_wrap_around_is_seamless():
    buffer = ReceiveBuffer(depth=2)
    for seq in (65534, 65535, 65535, 0, 1):
        buffer.push(packet(seq))
    assert drain(buffer, 4) == [65534, 65535, 0, 1]
    assert buffer.stats.duplicates == 1


def test_playout_waits_for_depth_and_pauses_on_underrun():
    buffer = ReceiveBuffer(depth=3)
    buffer.push(packet(100))
    buffer.push(packet(101))
    assert drain(buffer, 2) == [None, None]  # not enough buffered yet
    buffer.push(packet(102))
    assert drain(buffer, 4) == [100, 101, 102, None]
    assert buffer.stats.lost == 0  # an empty buffer is a pause, not a loss


def test_a_jump_or_a_new_ssrc_starts_over():
    buffer = ReceiveBuffer(depth=1)
    buffer.push(packet(10))
    assert drain(buffer, 1) == [10]
    buffer.push(packet(5000))
    assert drain(buffer, 1) == [5000]
    buffer.push(packet(3, ssrc=99))
    assert drain(buffer, 1) == [3]
    assert buffer.stats.resyncs == 1
