"""Audio files in: WAVs of every common shape and MP3s decode to 8 kHz at the right length and pitch;
anything else is refused. Audio out: WAV and gapless MP3. FilePlayer: frames, loop, volume."""

from __future__ import annotations

import io
import struct
import wave

import lameenc
import numpy as np
import pytest

from trebuchet.media import FRAME_SAMPLES, SAMPLE_RATE
from trebuchet.media.audio_files import (
    VOLUME_GAINS,
    AudioFormatError,
    FilePlayer,
    Mp3Encoder,
    decode_audio,
    encode_mp3,
    encode_wav,
    sniff_format,
)
from trebuchet.media.g711 import encode_alaw, encode_mulaw

TOLERANCE = SAMPLE_RATE * 20 // 1000  # 20 ms of 8 kHz samples
LAME_LEVEL = 0.95  # LAME's output is 0.95 of its input's level (-0.45 dB), the lame command's too


def sine(frequency: float, rate: int, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    """A float tone in [-1, 1]."""
    return amplitude * np.sin(2 * np.pi * frequency * np.arange(round(rate * seconds)) / rate)


def dominant_frequency(samples: np.ndarray) -> float:
    """The strongest frequency (Hz) in 8 kHz samples, resolved to the bin width of their length."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(samples))


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def stdlib_wav(samples: np.ndarray, rate: int, width: int, channels: int = 1) -> bytes:
    """A PCM WAV written by the stdlib `wave` module; `samples` are floats, (n,) or (n, channels)."""
    if width == 1:
        raw = np.clip(np.rint(samples * 127 + 128), 0, 255).astype(np.uint8).tobytes()
    else:
        full = 2 ** (8 * width - 1)
        ints = np.clip(np.rint(samples * full), -full, full - 1).astype("<i4").ravel()
        raw = ints.view(np.uint8).reshape(-1, 4)[:, :width].tobytes()  # little-endian: the low bytes
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(raw)
    return out.getvalue()


def riff_wav(
    format_tag: int, rate: int, channels: int, width: int, data: bytes, extensible: bool = False
) -> bytes:
    """A WAV with a non-PCM format (float, μ-law, A-law, extensible) that `wave` cannot write."""
    block = channels * width
    if extensible:  # WAVE_FORMAT_EXTENSIBLE with the sub-format GUID of `format_tag`
        guid = struct.pack("<I", format_tag) + bytes.fromhex("000000001000800000aa00389b71")
        fmt = struct.pack(
            "<HHIIHHHHI", 0xFFFE, channels, rate, rate * block, block, width * 8, 22, width * 8, 0
        )
        fmt += guid
    else:
        fmt = struct.pack("<HHIIHH", format_tag, channels, rate, rate * block, block, width * 8)
        if format_tag != 1:
            fmt += struct.pack("<H", 0)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if format_tag != 1:
        chunks += b"fact" + struct.pack("<II", 4, len(data) // block)
    chunks += b"data" + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def int16(samples: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(samples * 32768), -32768, 32767).astype(np.int16)


def assert_tone(decoded: np.ndarray, seconds: float, frequency: float, amplitude: float = 0.5) -> None:
    assert decoded.dtype == np.int16 and decoded.ndim == 1
    assert abs(len(decoded) - seconds * SAMPLE_RATE) <= TOLERANCE, len(decoded)
    assert abs(dominant_frequency(decoded) - frequency) <= 1.5
    middle = decoded[len(decoded) // 4 : -len(decoded) // 4]  # away from the resampler's edges
    assert rms(middle) == pytest.approx(amplitude * 32768 / np.sqrt(2), rel=0.05)


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_16_bit_wav_at_any_rate(rate):
    data = stdlib_wav(sine(440, rate, 1.0), rate, 2)
    assert_tone(decode_audio(data), 1.0, 440)


@pytest.mark.parametrize(("rate", "width"), [(8000, 1), (48000, 3), (22050, 4)])
def test_8_24_and_32_bit_wav(rate, width):
    data = stdlib_wav(sine(1000, rate, 1.5), rate, width)
    assert_tone(decode_audio(data), 1.5, 1000)


def test_stereo_wav_is_mixed_down():
    tone = sine(700, 44100, 1.0)
    # The tone in the left channel, silence in the right: the mix is the tone at half its level.
    data = stdlib_wav(np.stack([tone, np.zeros_like(tone)], axis=1), 44100, 2, channels=2)
    assert_tone(decode_audio(data), 1.0, 700, amplitude=0.25)


@pytest.mark.parametrize("extensible", [False, True], ids=["float", "extensible-float"])
def test_float_wav(extensible):
    data = riff_wav(3, 16000, 1, 4, sine(1200, 16000, 1.0).astype("<f4").tobytes(), extensible=extensible)
    assert_tone(decode_audio(data), 1.0, 1200)


@pytest.mark.parametrize(("tag", "encode"), [(7, encode_mulaw), (6, encode_alaw)], ids=["mulaw", "alaw"])
def test_g711_wav(tag, encode):
    data = riff_wav(tag, 8000, 1, 1, encode(int16(sine(600, 8000, 2.0))))
    assert_tone(decode_audio(data), 2.0, 600)


def test_mp3_from_encode_mp3_is_sample_exact():
    samples = int16(sine(440, SAMPLE_RATE, 1.0))
    data = encode_mp3(samples)
    assert sniff_format(data) == "mp3"
    decoded = decode_audio(data)
    assert len(decoded) == len(samples)  # the LAME tag lets the decoder drop delay and padding exactly
    assert_tone(decoded, 1.0, 440, amplitude=0.5 * LAME_LEVEL)
    assert np.corrcoef(decoded[400:-400], samples[400:-400])[0, 1] > 0.99  # aligned, not shifted


def test_stereo_44k_mp3_straight_from_lameenc():
    tone = int16(sine(880, 44100, 2.0))
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(128)
    encoder.set_in_sample_rate(44100)
    encoder.set_channels(2)
    encoder.set_quality(5)
    data = bytes(encoder.encode(np.stack([tone, tone], axis=1).tobytes()) + encoder.flush())
    decoded = decode_audio(data)
    # Without a LAME tag (lameenc writes none) the decoder keeps LAME's delay (1105 samples) and the last
    # frame's padding: up to 51 ms more at 44.1 kHz. The audio is still the tone.
    assert 0 <= len(decoded) - 2 * SAMPLE_RATE <= SAMPLE_RATE * 52 // 1000
    assert abs(dominant_frequency(decoded) - 880) <= 1
    assert rms(decoded[4000:-4000]) == pytest.approx(0.5 * LAME_LEVEL * 32768 / np.sqrt(2), rel=0.05)


def test_mp3_after_an_id3_tag():
    body = encode_mp3(int16(sine(500, SAMPLE_RATE, 1.0)))
    frame = b"TIT2" + struct.pack(">IH", 6, 0) + b"\x00title"
    tag = b"ID3\x03\x00\x00" + bytes([0, 0, 0, len(frame) + 20]) + frame + bytes(20)  # with padding
    assert_tone(decode_audio(tag + body), 1.0, 500, amplitude=0.5 * LAME_LEVEL)


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100])
def test_mp3_streamed_in_blocks_decodes_to_every_sample(rate):
    samples = int16(sine(300, rate, 1.37))
    encoder = Mp3Encoder(rate, bitrate=64)
    body = b"".join(encoder.encode(block) for block in np.array_split(samples, 7)) + encoder.flush()
    decoded = decode_audio(encoder.tag_frame() + body)
    assert abs(len(decoded) - len(samples) * SAMPLE_RATE / rate) <= 1
    assert abs(dominant_frequency(decoded) - 300) <= 1.5


def test_wav_writer_round_trips():
    samples = int16(sine(440, SAMPLE_RATE, 0.5))
    data = encode_wav(samples)
    assert np.array_equal(decode_audio(data), samples)
    with wave.open(io.BytesIO(data)) as wav:  # and the stdlib reads it as 8 kHz mono 16-bit
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth(), wav.getnframes()) == (
            8000,
            1,
            2,
            4000,
        )


def test_empty_wav_is_no_audio():
    assert len(decode_audio(encode_wav(np.zeros(0, np.int16)))) == 0


def test_detected_from_bytes_not_from_a_name():
    wav, mp3 = encode_wav(np.zeros(800, np.int16)), encode_mp3(np.zeros(800, np.int16))
    assert (sniff_format(wav), sniff_format(mp3)) == ("wav", "mp3")
    assert len(decode_audio(mp3)) == len(decode_audio(wav)) == 800


def _corrupt_cases() -> dict[str, bytes]:
    rng = np.random.default_rng(7)
    good_wav = stdlib_wav(sine(440, 8000, 0.5), 8000, 2)
    good_mp3 = encode_mp3(int16(sine(440, 8000, 0.5)))
    return {
        "empty": b"",
        "random": rng.bytes(4000),
        "text": b"<html><body>404 not found</body></html>",
        "zeros": bytes(2000),
        "flac": b"fLaC" + rng.bytes(500),
        "ogg": b"OggS" + rng.bytes(500),
        "wav-header-cut": good_wav[:30],
        "riff-without-fmt": b"RIFF" + struct.pack("<I", 100) + b"WAVE" + b"junk" + rng.bytes(96),
        "wav-bad-format": riff_wav(0x1234, 8000, 1, 2, rng.bytes(1000)),
        "mp3-sync-then-garbage": bytes([0xFF, 0xE3, 0x48, 0xC4]) + rng.bytes(3000),
        "mp3-with-garbage-after-a-frame": good_mp3[:1000] + rng.bytes(3000),
    }


@pytest.mark.parametrize("name", list(_corrupt_cases()))
def test_anything_else_is_an_audio_format_error(name):
    with pytest.raises(AudioFormatError) as error:
        decode_audio(_corrupt_cases()[name])
    assert str(error.value)  # a message the API can pass on


def test_the_error_names_a_known_other_format():
    with pytest.raises(AudioFormatError, match="FLAC is not supported"):
        decode_audio(b"fLaC\x00\x00\x00\x22" + bytes(100))


# -- FilePlayer ------------------------------------------------------------------------------------------


def _play(player: FilePlayer, limit: int = 10_000) -> list[np.ndarray]:
    frames = []
    while (frame := player()) is not None and len(frames) < limit:
        frames.append(frame)
    return frames


def test_player_gives_exact_frames_then_none():
    samples = np.arange(1000, dtype=np.int16)
    player = FilePlayer(samples)
    frames = _play(player)
    assert len(frames) == 7 and all(len(f) == FRAME_SAMPLES and f.dtype == np.int16 for f in frames)
    played = np.concatenate(frames)
    assert np.array_equal(played[:1000], samples) and not played[1000:].any()  # the last one padded
    assert player.finished and player() is None


def test_player_loops_without_a_seam():
    samples = np.arange(1, 251, dtype=np.int16)  # 250 samples: not a whole number of frames
    player = FilePlayer(samples, loop=True)
    frames = [player() for _ in range(12)]
    assert np.array_equal(np.concatenate(frames), np.tile(samples, 8)[: 12 * FRAME_SAMPLES])
    assert player.loops == 7 and not player.finished
    player.stop()
    assert player() is None


def test_a_file_shorter_than_a_frame_loops_within_a_frame():
    player = FilePlayer(np.array([1, 2, 3], np.int16), loop=True)
    assert player()[:7].tolist() == [1, 2, 3, 1, 2, 3, 1]


@pytest.mark.parametrize("volume", sorted(VOLUME_GAINS))
def test_volume_scales_by_the_level_gain(volume):
    samples = int16(sine(440, SAMPLE_RATE, 0.2, amplitude=0.1))
    played = np.concatenate(_play(FilePlayer(samples, volume=volume)))[: len(samples)]
    expected = np.trunc(samples.astype(np.float64) * VOLUME_GAINS[volume])
    assert np.abs(played - expected).max() <= 1
    assert rms(played) == pytest.approx(rms(samples) * VOLUME_GAINS[volume], rel=0.01)


def test_loud_volume_clips_to_int16():
    samples = int16(sine(440, SAMPLE_RATE, 0.2, amplitude=0.9))
    played = np.concatenate(_play(FilePlayer(samples, volume=4)))
    assert played.max() == 32767 and played.min() == -32768


@pytest.mark.parametrize("volume", [-5, 5, 1.5])
def test_volume_out_of_range_is_refused(volume):
    with pytest.raises(ValueError, match="-4 to 4"):
        FilePlayer(np.zeros(10, np.int16), volume=volume)


def test_player_from_bytes():
    player = FilePlayer.from_bytes(encode_mp3(int16(sine(440, SAMPLE_RATE, 1.0))), volume=-2)
    assert player.duration == 1.0
    played = np.concatenate(_play(player))
    assert len(played) == SAMPLE_RATE and abs(dominant_frequency(played) - 440) <= 1
