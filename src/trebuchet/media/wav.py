"""WAV files in and out, and frame sources: what a phone or a call plays and records.

Everything becomes 8 kHz mono int16, the media layer's one format. Resampling here is linear
interpolation, good enough for the phone's files and test tones; calls decode and resample audio files
with soxr in `audio_files.py`.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from . import FRAME_SAMPLES, SAMPLE_RATE


def read_wav(path: str | Path) -> np.ndarray:
    """A WAV file (PCM 8/16/32-bit, any rate, any channels) as 8 kHz mono int16."""
    with wave.open(str(path), "rb") as wav:
        width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    if width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.int32) - 128) << 8
    elif width == 2:
        samples = np.frombuffer(raw, "<i2").astype(np.int32)
    elif width == 4:
        samples = np.frombuffer(raw, "<i4").astype(np.int64) >> 16
    else:
        raise ValueError(f"{path}: {width * 8}-bit WAV is not supported")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE and len(samples):
        positions = np.arange(0, len(samples), rate / SAMPLE_RATE)
        samples = np.interp(positions, np.arange(len(samples)), samples)
    return np.clip(samples, -32768, 32767).astype(np.int16)


def write_wav(path: str | Path, samples: np.ndarray) -> None:
    """8 kHz mono 16-bit PCM."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(np.asarray(samples, dtype="<i2").tobytes())


class Player:
    """Hands out 20 ms frames of a sample array; None once it has played (unless looping)."""

    def __init__(self, samples: np.ndarray, *, loop: bool = False) -> None:
        self.samples = samples
        self.loop = loop
        self.position = 0

    def __call__(self) -> np.ndarray | None:
        if self.position >= len(self.samples):
            if not self.loop or not len(self.samples):
                return None
            self.position = 0
        frame = self.samples[self.position : self.position + FRAME_SAMPLES]
        self.position += FRAME_SAMPLES
        if len(frame) < FRAME_SAMPLES:
            frame = np.pad(frame, (0, FRAME_SAMPLES - len(frame)))
        return frame


class Tone:
    """An endless sine tone, phase-continuous across frames."""

    def __init__(self, frequency: float, amplitude: int = 8000) -> None:
        self.frequency = frequency
        self.amplitude = amplitude
        self.position = 0

    def __call__(self) -> np.ndarray:
        t = (np.arange(FRAME_SAMPLES) + self.position) / SAMPLE_RATE
        self.position += FRAME_SAMPLES
        return (self.amplitude * np.sin(2 * np.pi * self.frequency * t)).astype(np.int16)
