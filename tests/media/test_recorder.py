"""The Recorder on a real frame clock: both directions in the file, WAV and MP3, on time, never half-seen."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest

from trebuchet.media import FRAME_SAMPLES, SAMPLE_RATE
from trebuchet.media.audio_files import decode_audio
from trebuchet.media.clock import FrameClock
from trebuchet.media.ports import free_port_pair
from trebuchet.media.recorder import Recorder, Recording, Writer
from trebuchet.media.session import SessionGroup, open_session
from trebuchet.media.wav import Tone

HEARD_HZ, SENT_HZ = 440, 1000
TOLERANCE = 0.040  # seconds


def band_level(samples: np.ndarray, frequency: float) -> float:
    """Spectral magnitude around `frequency` relative to the strongest component (1.0 = the peak)."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    hz = np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)
    return float(spectrum[np.abs(hz - frequency) <= 5].max() / spectrum.max())


def assert_both_tones(samples: np.ndarray) -> None:
    assert band_level(samples, HEARD_HZ) > 0.8 and band_level(samples, SENT_HZ) > 0.8
    assert band_level(samples, 2000) < 0.05  # and nothing else


class Feeder:
    """A frame-clock job standing in for a call: each tick the call hears one tone and sends another."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.heard, self.sent = Tone(HEARD_HZ), Tone(SENT_HZ)

    def __call__(self, _tick: int) -> None:
        self.recorder.hear(self.heard())
        self.recorder.send(self.sent())


async def record_on_clock(path: Path, seconds: float, **options: object) -> tuple[Recording, FrameClock]:
    clock = FrameClock()
    recorder = Recorder(path, **options)  # type: ignore[arg-type]
    clock.add("call", Feeder(recorder))  # the call's job runs before the recorder's in each tick
    recorder.start(clock)
    clock.start()
    await asyncio.sleep(seconds)
    result = await recorder.close()
    await clock.stop()
    return result, clock


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2")


def test_wav_recording_on_the_frame_clock_has_both_directions(tmp_path):
    path = tmp_path / "call-1.wav"
    result, clock = asyncio.run(record_on_clock(path, 1.0))
    assert (result.path, result.format, result.reason, result.error) == (path, "wav", "stopped", None)
    samples = read_wav(path)
    assert len(samples) == round(result.duration * SAMPLE_RATE) and result.size == path.stat().st_size
    wall = result.end_monotonic - result.start_monotonic
    assert abs(result.duration - wall) <= TOLERANCE and abs(wall - 1.0) <= 0.2
    assert abs((result.end_time - result.start_time) - wall) <= 0.01
    assert_both_tones(samples[FRAME_SAMPLES:])
    assert np.abs(samples).max() <= 16000  # 8000 + 8000: the mix is a sum, not an average
    assert clock.stats.skipped == 0 and not list(tmp_path.glob(".*.part"))


def test_mp3_recording_decodes_back_to_both_tones(tmp_path):
    path = tmp_path / "call-1.mp3"
    result, _ = asyncio.run(record_on_clock(path, 1.0, file_format="mp3"))
    assert result.reason == "stopped" and result.format == "mp3"
    decoded = decode_audio(path.read_bytes())
    assert len(decoded) == round(result.duration * SAMPLE_RATE)  # gapless: the LAME tag is fixed up at close
    assert abs(result.duration - (result.end_monotonic - result.start_monotonic)) <= TOLERANCE
    assert_both_tones(decoded[FRAME_SAMPLES:])


def test_a_real_call_heard_and_sent_on_loopback(tmp_path):
    """Wired as the engine would: the session's on_audio and source feed the recorder, in a SessionGroup."""

    async def call() -> tuple[Recording, int]:
        clock = FrameClock()
        group = SessionGroup(clock)
        recorder = Recorder(tmp_path / "call.wav")
        sending = Tone(SENT_HZ)

        def source() -> np.ndarray:
            frame = sending()
            recorder.send(frame)
            return frame

        port_a, port_b = free_port_pair(), free_port_pair()
        common = {"codec": "PCMU", "payload_type": 0}
        far = await open_session(
            group, ("127.0.0.1", port_a), remote=("127.0.0.1", port_b), source=Tone(HEARD_HZ), **common
        )
        ours = await open_session(
            group,
            ("127.0.0.1", port_b),
            remote=("127.0.0.1", port_a),
            source=source,
            on_audio=recorder.hear,
            **common,
        )
        recorder.start(clock)
        clock.start()
        await asyncio.sleep(1.0)
        result = await recorder.close()
        await clock.stop()
        received = ours.stats.received
        far.close()
        ours.close()
        return result, received

    result, received = asyncio.run(call())
    assert received > 40
    samples = read_wav(result.path)
    assert abs(result.duration - (result.end_monotonic - result.start_monotonic)) <= TOLERANCE
    assert_both_tones(samples[SAMPLE_RATE // 5 :])  # after the receive buffer's playout delay


@pytest.mark.parametrize("file_format", ["wav", "mp3"])
def test_max_duration_ends_the_recording_on_time(tmp_path, file_format):
    async def run() -> tuple[Recording, list[Recording], bool]:
        clock = FrameClock()
        ended: list[Recording] = []
        recorder = Recorder(
            tmp_path / f"short.{file_format}",
            file_format=file_format,  # type: ignore[arg-type]
            max_duration=0.5,
            on_end=ended.append,
        )
        clock.add("call", Feeder(recorder))
        recorder.start(clock)
        clock.start()
        result = await asyncio.wait_for(asyncio.shield(recorder.ended), 2.0)  # type: ignore[arg-type]
        still_ticked = recorder in clock._jobs
        await clock.stop()
        return result, ended, still_ticked

    result, ended, still_ticked = asyncio.run(run())
    assert result.reason == "max-duration" and ended == [result] and not still_ticked
    assert result.duration == 0.5
    assert abs((result.end_monotonic - result.start_monotonic) - 0.5) <= TOLERANCE
    data = result.path.read_bytes()
    assert len(decode_audio(data)) == SAMPLE_RATE // 2


@pytest.mark.parametrize("file_format", ["wav", "mp3"])
def test_nothing_half_written_is_visible_under_the_final_name(tmp_path, file_format):
    path = tmp_path / f"rec.{file_format}"

    async def run() -> tuple[list[tuple[bool, int]], Recording]:
        clock = FrameClock()
        recorder = Recorder(path, file_format=file_format, block_seconds=0.1)  # type: ignore[arg-type]
        clock.add("call", Feeder(recorder))
        recorder.start(clock)
        clock.start()
        seen = []
        for _ in range(4):
            await asyncio.sleep(0.2)
            seen.append((path.exists(), recorder.temp_path.stat().st_size))
        result = await recorder.close()
        await clock.stop()
        return seen, result

    seen, result = asyncio.run(run())
    assert not any(exists for exists, _ in seen)
    sizes = [size for _, size in seen]
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0] > 0  # written as it goes, under the temp name
    assert path.exists() and not result.path.with_name(f".{path.name}.part").exists()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


class LoggingWriter(Writer):
    """A writer of its own that notes every job queued to it."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[Recorder, str]] = []

    def put(self, recorder: Recorder, kind: str, heard: np.ndarray, sent: np.ndarray) -> None:
        self.log.append((recorder, kind))
        super().put(recorder, kind, heard, sent)


def test_writes_in_blocks_not_per_frame(tmp_path):
    writer = LoggingWriter()

    async def run() -> Recording:
        recorder = Recorder(tmp_path / "blocks.wav", block_seconds=0.5, writer=writer)
        recorder.start()
        tone = Tone(HEARD_HZ)
        for _ in range(60):  # 1.2 s of 0.5 s blocks, the first one cut short to stagger recorders
            recorder.feed(tone(), None)
        return await recorder.close()

    result = asyncio.run(run())
    kinds = [kind for _, kind in writer.log]
    assert kinds in (["open", *["block"] * 3, "close"], ["open", *["block"] * 4, "close"])  # not 60 writes
    assert result.duration == 1.2 and len(read_wav(result.path)) == 60 * FRAME_SAMPLES


def test_recorders_started_together_write_their_blocks_at_different_ticks(tmp_path):
    """So that a thousand calls answered together do not hand the writer a thousand blocks in one tick."""
    writer = LoggingWriter()

    async def run() -> list[int]:
        recorders = [Recorder(tmp_path / f"r{n}.wav", writer=writer) for n in range(50)]
        first_block_at: dict[Recorder, int] = {}
        for recorder in recorders:
            recorder.start()
        for frame in range(1, 51):  # one second
            for recorder in recorders:
                recorder.feed(None, None)
            for queued, kind in writer.log:
                if kind == "block":
                    first_block_at.setdefault(queued, frame)
        await asyncio.gather(*(recorder.close() for recorder in recorders))
        return sorted(first_block_at.values())

    assert asyncio.run(run()) == list(range(1, 51))  # one recorder's first block in each tick


def test_frames_the_clock_skipped_become_silence(tmp_path):
    async def run() -> Recording:
        recorder = Recorder(tmp_path / "skips.wav")
        recorder.start()
        tone = Tone(HEARD_HZ)
        for tick in (0, 1, 2, 6, 7):  # the clock gave up ticks 3-5
            recorder.hear(tone())
            recorder.tick(tick)
        return await recorder.close()

    result = asyncio.run(run())
    samples = read_wav(result.path).reshape(-1, FRAME_SAMPLES)
    assert len(samples) == 8 and result.duration == 0.16
    assert [bool(frame.any()) for frame in samples] == [True, True, True, True, False, False, False, True]


def test_a_recording_that_cannot_be_written_ends_with_error(tmp_path):
    async def run() -> tuple[Recording, bool]:
        clock = FrameClock()
        recorder = Recorder(tmp_path / "missing-dir" / "rec.wav")
        clock.add("call", Feeder(recorder))
        recorder.start(clock)
        clock.start()
        result = await asyncio.wait_for(asyncio.shield(recorder.ended), 2.0)  # type: ignore[arg-type]
        ticked = recorder in clock._jobs
        await clock.stop()
        return result, ticked

    result, ticked = asyncio.run(run())
    assert result.reason == "error" and "FileNotFoundError" in (result.error or "")
    assert result.size == 0 and not ticked and not result.path.exists()


def test_close_twice_and_stop_then_close(tmp_path):
    async def run() -> tuple[Recording, Recording]:
        recorder = Recorder(tmp_path / "twice.mp3", file_format="mp3")
        recorder.start()
        recorder.feed(Tone(SENT_HZ)(), None)
        recorder.stop()
        recorder.feed(Tone(SENT_HZ)(), None)  # ignored: the recording has ended
        return await recorder.close(), await recorder.close()

    first, second = asyncio.run(run())
    assert first is second and first.reason == "stopped" and first.duration == 0.02
    assert len(decode_audio(first.path.read_bytes())) == FRAME_SAMPLES


def test_bad_arguments():
    with pytest.raises(ValueError, match="wav or mp3"):
        Recorder("x.ogg", file_format="ogg")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        Recorder("x.wav", max_duration=0)
