"""The mix itself, tick by tick without sockets: who hears whom, mute and hold, clipping, sources."""

from __future__ import annotations

import numpy as np

from trebuchet.media import FRAME_SAMPLES
from trebuchet.media.audio_files import FilePlayer
from trebuchet.media.mixer import JOIN_TONE, LEAVING_TONE, Mix, tone


def frame(value: int) -> np.ndarray:
    return np.full(FRAME_SAMPLES, value, dtype=np.int16)


def heard(mix: Mix, **frames: int) -> dict[str, int | None]:
    """One tick: each port says a constant; what each port then hears (a constant, or None)."""
    for key, value in frames.items():
        mix.ports[key].heard = frame(value)
    mix.mix()
    result: dict[str, int | None] = {}
    for key, port in mix.ports.items():
        if port.output is None:
            result[key] = None
        else:
            assert port.output.dtype == np.int16 and len(port.output) == FRAME_SAMPLES
            assert np.all(port.output == port.output[0])
            result[key] = int(port.output[0])
    return result


def conference(*keys: str) -> Mix:
    mix = Mix()
    for key in keys:
        mix.join(key)
    return mix


def test_each_member_hears_the_others_and_never_itself():
    mix = conference("a", "b", "c")
    assert heard(mix, a=100, b=20, c=3) == {"a": 23, "b": 103, "c": 120}


def test_a_pair_passes_frames_on_unchanged():
    mix = conference("a", "b")
    assert heard(mix, a=7, b=-9) == {"a": -9, "b": 7}
    mix.ports["a"].heard = frame(5)
    mix.ports["b"].heard = frame(6)
    mix.mix()
    assert mix.ports["b"].output is mix.ports["a"].heard  # nothing copied for the common bridge case


def test_muted_members_hear_but_are_not_heard():
    mix = conference("a", "b", "c")
    mix.ports["a"].speaks = False
    assert heard(mix, a=100, b=20, c=3) == {"a": 23, "b": 3, "c": 20}


def test_held_members_neither_hear_nor_are_heard():
    mix = conference("a", "b", "c")
    mix.ports["b"].speaks = mix.ports["b"].hears = False
    assert heard(mix, a=100, b=20, c=3) == {"a": 3, "b": None, "c": 100}


def test_loud_sums_are_clipped_not_wrapped():
    mix = conference("a", "b", "c")
    assert heard(mix, a=30000, b=30000, c=-30000) == {"a": 0, "b": 0, "c": 32767}
    assert heard(mix, a=-30000, b=-30000, c=0) == {"a": -30000, "b": -30000, "c": -32768}


def test_a_lone_member_hears_silence():
    mix = conference("a")
    assert heard(mix, a=500) == {"a": None}


def test_sources_play_to_every_listener_and_report_when_done():
    mix = conference("a", "b")
    mix.ports["b"].speaks = mix.ports["b"].hears = False
    done: list[str] = []
    mix.play(FilePlayer(np.full(FRAME_SAMPLES * 2, 1000, dtype=np.int16)), lambda: done.append("x"))
    assert heard(mix, a=5, b=6) == {"a": 1000, "b": None}  # the held member hears no conference audio
    assert heard(mix, a=5, b=6) == {"a": 1000, "b": None}
    assert done == []
    assert heard(mix, a=5, b=6) == {"a": None, "b": None}
    assert done == ["x"] and mix.sources == []


def test_a_source_adds_to_what_the_others_say():
    mix = conference("a", "b", "c")
    mix.play(FilePlayer(np.full(FRAME_SAMPLES * 5, 1000, dtype=np.int16)))
    assert heard(mix, a=1, b=2, c=4) == {"a": 1006, "b": 1005, "c": 1003}


def test_stopping_a_source_reports_it_once():
    mix = conference("a")
    done: list[int] = []
    source = mix.play(FilePlayer(np.zeros(FRAME_SAMPLES * 50, dtype=np.int16)), lambda: done.append(1))
    assert mix.stop(source) is True
    assert mix.stop(source) is False
    assert done == [1]


def test_leaving_takes_the_member_out_of_everyone_elses_sum():
    mix = conference("a", "b", "c")
    mix.leave("c")
    assert heard(mix, a=1, b=2) == {"a": 2, "b": 1}
    assert "c" not in mix.ports


def test_join_and_leaving_tones_are_short_distinct_and_audible():
    for sound in (JOIN_TONE, LEAVING_TONE):
        assert 0.2 <= len(sound) / 8000 <= 0.5
        assert np.sqrt(np.mean(sound.astype(float) ** 2)) > 3000
    assert not np.array_equal(JOIN_TONE, LEAVING_TONE)
    spectrum = np.abs(np.fft.rfft(tone([(1000.0, 0.5)]).astype(float)))
    assert abs(np.argmax(spectrum) * 8000 / 4000 - 1000) <= 2


def test_a_members_own_gains_and_gate():
    mix = conference("a", "b", "c")
    mix.tune("a", talk=2.0)
    assert heard(mix, a=100, b=20, c=3) == {"a": 23, "b": 203, "c": 220}
    mix.tune("a", listen=0.5)
    assert heard(mix, a=100, b=20, c=4) == {"a": 12, "b": 104, "c": 120}
    mix.tune("a", gate=150)  # a says less than the gate: silence
    assert heard(mix, a=100, b=20, c=4) == {"a": 24, "b": 4, "c": 20}
    assert heard(mix, a=200, b=20, c=4) == {"a": 24, "b": 204, "c": 220}
    mix.tune("a")
    assert mix.tuned == 0


def test_a_tuned_pair_is_mixed_the_general_way():
    mix = conference("a", "b")
    mix.tune("b", listen=2.0)
    assert heard(mix, a=20000, b=10) == {"a": 10, "b": 32767}
