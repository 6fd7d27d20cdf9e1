"""Two RTP sessions on loopback, driven by one frame clock: a tone crosses, digits cross, RTP is symmetric."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from trebuchet.media import FRAME_SAMPLES, SAMPLE_RATE
from trebuchet.media.clock import FrameClock
from trebuchet.media.ports import free_port_pair
from trebuchet.media.session import SessionGroup, open_session

from ..support import free_port


def tone_source(frequency: float):
    position = 0

    def next_frame() -> np.ndarray:
        nonlocal position
        t = (np.arange(FRAME_SAMPLES) + position) / SAMPLE_RATE
        position += FRAME_SAMPLES
        return (8000 * np.sin(2 * np.pi * frequency * t)).astype(np.int16)

    return next_frame


async def _call(seconds: float, grouped: bool) -> dict[str, object]:
    clock = FrameClock()
    runner = SessionGroup(clock) if grouped else clock
    port_a, port_b = free_port_pair(), free_port_pair()
    heard_by_b: list[np.ndarray] = []
    digits_at_b: list[str] = []
    a = await open_session(
        runner,
        ("127.0.0.1", port_a),
        rtcp_interval=0.3,
        codec="PCMA",
        payload_type=8,
        telephone_event=101,
        remote=("127.0.0.1", port_b),
        source=tone_source(1000),
    )
    # B was told the wrong port for A: symmetric RTP must find A by A's packets.
    b = await open_session(
        runner,
        ("127.0.0.1", port_b),
        rtcp_interval=0.3,
        codec="PCMA",
        payload_type=8,
        telephone_event=101,
        remote=("127.0.0.1", free_port()),
        on_audio=heard_by_b.append,
        on_digit=digits_at_b.append,
    )
    clock.start()
    await asyncio.sleep(seconds)
    a.send_digits("1#9")
    await asyncio.sleep(1.2)
    await clock.stop()
    a.close()
    b.close()
    return {"heard": np.concatenate(heard_by_b), "digits": digits_at_b, "a": a, "b": b, "clock": clock}


@pytest.mark.parametrize("grouped", [False, True], ids=["own-tick", "session-group"])
def test_tone_digits_and_symmetric_rtp_on_loopback(grouped):
    result = asyncio.run(_call(1.0, grouped))
    heard = result["heard"]
    audio = heard[np.abs(heard) > 0]
    assert len(audio) >= SAMPLE_RATE // 2  # at least half a second of the tone got through
    spectrum = np.abs(np.fft.rfft(audio[:4000].astype(float)))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / 4000 - 1000) <= 2
    assert result["digits"] == ["1", "#", "9"]
    a, b = result["a"], result["b"]
    assert a.stats.received > 20  # B answered to A's real address, not the wrong one it was given
    assert b.buffer.stats.lost == 0 and a.stats.malformed == b.stats.malformed == 0
    assert result["clock"].stats.skipped == 0
    # RTCP: each side heard the other's sender reports, and B's report blocks say nothing was lost.
    about_a = b.last_remote_report
    assert about_a is not None and about_a.ssrc == a.ssrc and about_a.sender.packets > 50
    assert about_a.cname and about_a.cname.endswith("@trebuchet")
    report_from_b = a.last_remote_report
    assert report_from_b is not None and report_from_b.ssrc == b.ssrc
    [block] = report_from_b.blocks
    assert block.ssrc == a.ssrc and block.cumulative_lost == 0 and block.lsr != 0
