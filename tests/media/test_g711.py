"""G.711 against the standard's fixed points and its error bounds, and a tone that survives coding."""

from __future__ import annotations

import numpy as np
import pytest

from trebuchet.media import g711

ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int16)


def test_known_code_points():
    assert g711.encode_mulaw(np.array([0], np.int16)) == b"\xff"
    assert g711.decode_mulaw(b"\xff\x7f\x00\x80").tolist() == [0, 0, -32124, 32124]
    assert g711.encode_alaw(np.array([0], np.int16)) == b"\xd5"
    assert g711.decode_alaw(b"\xd5\x55\xaa\x2a").tolist() == [8, -8, 32256, -32256]


@pytest.mark.parametrize(
    ("encode", "decode", "identities"),
    [(g711.encode_mulaw, g711.decode_mulaw, 255), (g711.encode_alaw, g711.decode_alaw, 256)],
)
def test_every_code_survives_decode_then_encode(encode, decode, identities):
    codes = np.arange(256, dtype=np.uint8)
    again = np.frombuffer(encode(decode(codes.tobytes())), np.uint8)
    assert int((again == codes).sum()) == identities  # μ-law's negative zero (0x7F) comes back as 0xFF


@pytest.mark.parametrize(
    ("encode", "decode", "bound"),
    [(g711.encode_mulaw, g711.decode_mulaw, 0.037), (g711.encode_alaw, g711.decode_alaw, 0.032)],
)
def test_quantisation_error_stays_within_the_segment_step(encode, decode, bound):
    restored = decode(encode(ALL_SAMPLES)).astype(np.int64)
    original = ALL_SAMPLES.astype(np.int64)
    inside = np.abs(original) < 32000  # beyond that both laws clip
    relative = (
        np.abs(restored - original)[inside & (np.abs(original) > 512)]
        / np.abs(original)[inside & (np.abs(original) > 512)]
    )
    assert relative.max() < bound
    assert np.all(np.diff(decode(encode(np.sort(ALL_SAMPLES))).astype(np.int64)) >= 0)  # monotonic


def test_a_tone_keeps_its_frequency_through_both_laws():
    t = np.arange(8000) / 8000
    tone = (8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    for encode, decode in ((g711.encode_mulaw, g711.decode_mulaw), (g711.encode_alaw, g711.decode_alaw)):
        spectrum = np.abs(np.fft.rfft(decode(encode(tone)).astype(float)))
        assert np.argmax(spectrum) == 1000  # 1 Hz bins over one second
        noise = np.sqrt(np.mean((decode(encode(tone)).astype(float) - tone) ** 2))
        assert 20 * np.log10(np.sqrt(np.mean(tone.astype(float) ** 2)) / noise) > 30  # SNR in dB
