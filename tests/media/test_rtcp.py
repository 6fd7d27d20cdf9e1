"""RTCP reports: wire round trips and the receive statistics behind a report block."""

from __future__ import annotations

import pytest

from trebuchet.media.rtcp import (
    ReceptionStats,
    Report,
    ReportBlock,
    RtcpError,
    SenderInfo,
    build_report,
    ntp_now,
    parse_rtcp,
)


def test_sender_report_round_trip_with_cname():
    block = ReportBlock(
        ssrc=7, fraction_lost=64, cumulative_lost=-3, highest_seq=0x1_0005, jitter=12, lsr=9, dlsr=65536
    )
    report = Report(
        ssrc=0xDEADBEEF,
        sender=SenderInfo(ntp_now(1_700_000_000.5), 1234, 50, 8000),
        blocks=(block,),
        cname="alice@trebuchet",
    )
    wire = build_report(report)
    assert len(wire) % 4 == 0 and wire[1] == 200  # SR first in the compound packet
    assert parse_rtcp(wire) == [report]


def test_receiver_report_round_trip():
    report = Report(ssrc=1, blocks=(ReportBlock(2, 0, 0, 100, 0),))
    [parsed] = parse_rtcp(build_report(report))
    assert parsed.sender is None and parsed.blocks == report.blocks and parsed.cname == "00000001@trebuchet"


def test_ntp_time_of_the_unix_epoch():
    assert ntp_now(0.0) >> 32 == 2_208_988_800


@pytest.mark.parametrize("data", [b"", b"\x40\xc8\x00\x01" + bytes(4), b"\x81\xc8\x00\x20" + bytes(8)])
def test_malformed_rtcp(data):
    with pytest.raises(RtcpError):
        parse_rtcp(data)


def test_reception_stats_count_loss_across_wrap_and_measure_jitter():
    stats = ReceptionStats(ssrc=5)
    sequences = [65530, 65531, 65533, 65534, 65535, 0, 1, 3]  # 65532 and 2 lost, wrap in between
    for index, seq in enumerate(sequences):
        arrival = index * 0.02 + (0.005 if index % 2 else 0.0)  # 5 ms of alternating delay
        stats.update(seq, (seq - 65530) % 65536 * 160, arrival)
    block = stats.block(now=1.0)
    assert block.highest_seq == (1 << 16) + 3
    assert block.cumulative_lost == 2
    assert block.fraction_lost == (2 << 8) // 10
    assert 0 < block.jitter < 80  # about 40 timestamp units of jitter, smoothed
    assert stats.block(now=2.0).fraction_lost == 0  # nothing new lost since the last report
