"""Mixing calls together on the frame clock: bridges (two calls) and conferences (up to twenty).

Theory of operation
-------------------
A `Mix` is a set of `MixPort`s, one per call in it. Each tick of the session group runs in three phases:

1. every session hands in what its far end said this tick; a call in a mix stores it in `port.heard`;
2. every mix runs once (`Mix.mix`): the frames of the ports that *speak* are summed in 32 bits, the
   mix's own sources (conference audio, join and leave tones) are added, and each port that *hears*
   gets the sum minus its own contribution, clipped to 16 bits, in `port.output` (None: nothing to hear);
3. every session sends: a call in a mix adds `port.output` to whatever plays to it alone.

Nobody hears themselves, because their own frame is taken back out of the sum. A muted port hears but does
not speak; a held one does neither. Frames are linear PCM after decoding, so calls with different codecs
(PCMU, PCMA) mix together. Sans-IO: nothing here knows about sockets or the clock; a test calls `mix()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import FRAME_SAMPLES, SAMPLE_RATE

Source = Callable[[], np.ndarray | None]  # a frame per call, None once it has finished


class MixPort:
    """One call's place in a mix: what its far end said this tick and what it is to hear."""

    __slots__ = ("gate", "heard", "hears", "key", "listen", "output", "speaks", "talk")

    def __init__(self, key: str, *, speaks: bool = True, hears: bool = True) -> None:
        self.key = key
        self.speaks = speaks
        self.hears = hears
        self.talk = 1.0  # gain on what it says (a conference keypad's talk volume)
        self.listen = 1.0  # gain on what it hears (receive volume)
        self.gate = 0  # RMS under which what it says counts as silence (mic sensitivity)
        self.heard: np.ndarray | None = None  # set by the call's session in phase 1
        self.output: np.ndarray | None = None  # set by the mix in phase 2


@dataclass
class MixSource:
    """Audio the mix plays to everyone who hears: `on_done` is called once when it has finished."""

    frames: Source
    on_done: Callable[[], None] | None = None


class Mix:
    def __init__(self) -> None:
        self.ports: dict[str, MixPort] = {}
        self.sources: list[MixSource] = []
        self.tuned = 0  # ports with a gain or gate of their own: they take the general path

    def __len__(self) -> int:
        return len(self.ports)

    def join(self, key: str, *, speaks: bool = True, hears: bool = True) -> MixPort:
        port = MixPort(key, speaks=speaks, hears=hears)
        self.ports[key] = port
        return port

    def leave(self, key: str) -> None:
        port = self.ports.pop(key, None)
        if port is not None:
            port.output = None
            self._count_tuned()

    def tune(self, key: str, *, talk: float = 1.0, listen: float = 1.0, gate: int = 0) -> None:
        """A port's own gains and noise gate (1.0, 1.0, 0: none)."""
        port = self.ports[key]
        port.talk, port.listen, port.gate = talk, listen, gate
        self._count_tuned()

    def _count_tuned(self) -> None:
        self.tuned = sum(1 for p in self.ports.values() if p.talk != 1.0 or p.listen != 1.0 or p.gate)

    def play(self, frames: Source, on_done: Callable[[], None] | None = None) -> MixSource:
        source = MixSource(frames, on_done)
        self.sources.append(source)
        return source

    def stop(self, source: MixSource) -> bool:
        """Take a source out before it finished (its `on_done` is called); False if it had already ended."""
        if source not in self.sources:
            return False
        self.sources.remove(source)
        if source.on_done is not None:
            source.on_done()
        return True

    def mix(self) -> None:
        """Phase 2 of a tick: every hearing port's output from this tick's heard frames and sources."""
        played = self._play_sources()
        speakers = [port for port in self.ports.values() if port.speaks and port.heard is not None]
        listeners = [port for port in self.ports.values() if port.hears]
        for port in self.ports.values():
            port.output = None
        if not listeners or (not speakers and played is None):
            return
        if played is None and len(speakers) <= 2 and not self.tuned:
            self._pass_on(speakers, listeners)
            return
        stacked = np.array([port.heard for port in speakers], dtype=np.int32) if speakers else None
        if stacked is not None and self.tuned:
            _tune_speech(stacked, speakers)
        total = np.zeros(FRAME_SAMPLES, np.int32) if stacked is None else stacked.sum(axis=0)
        if played is not None:
            total += played
        everyone = clip(total)
        others = (
            total[np.newaxis, :] - stacked if stacked is not None else None
        )  # row i: what speaker i hears
        heard_by_speakers = clip(others) if others is not None else None
        own = {port.key: index for index, port in enumerate(speakers)}
        for port in listeners:
            index = own.get(port.key)
            if port.listen != 1.0:
                raw = total if index is None or others is None else others[index]
                port.output = clip(raw * port.listen)
            elif index is None or heard_by_speakers is None:
                port.output = everyone
            else:
                port.output = heard_by_speakers[index]

    @staticmethod
    def _pass_on(speakers: list[MixPort], listeners: list[MixPort]) -> None:
        """One or two speakers and nothing playing (a bridge): each hears the other's frame as it came;
        only a listener who does not speak (muted) needs a sum."""
        both = None
        for port in listeners:
            others = [speaker for speaker in speakers if speaker is not port]
            if len(others) == 1:
                port.output = others[0].heard
            elif len(others) == 2:
                if both is None:
                    both = clip(others[0].heard.astype(np.int32) + others[1].heard)  # type: ignore[union-attr]
                port.output = both

    def _play_sources(self) -> np.ndarray | None:
        """This tick's frames of the mix's own sources, summed; finished ones are dropped and told."""
        if not self.sources:
            return None
        total: np.ndarray | None = None
        for source in list(self.sources):
            frame = source.frames()
            if frame is None:
                self.sources.remove(source)
                if source.on_done is not None:
                    source.on_done()
                continue
            total = frame.astype(np.int32) if total is None else total + frame
        return total


def _tune_speech(stacked: np.ndarray, speakers: list[MixPort]) -> None:
    """The speakers' noise gates and talk gains, applied to their rows of this tick's frames (in place),
    for all of them at once."""
    gates = np.array([port.gate for port in speakers])
    if gates.any():
        loudness = np.sqrt(np.mean(np.square(stacked, dtype=np.float64), axis=1))
        stacked[loudness < gates] = 0
    gains = np.array([port.talk for port in speakers])
    if (gains != 1.0).any():
        stacked[:] = stacked * gains[:, np.newaxis]


def clip(samples: np.ndarray) -> np.ndarray:
    """32-bit sums back to 16-bit samples: loud sums are clipped, never wrapped around. (np.minimum and
    np.maximum: a third of np.clip's cost on a frame.)"""
    clipped = np.maximum(samples, -32768)
    np.minimum(clipped, 32767, out=clipped)
    return clipped.astype(np.int16)


def tone(notes: list[tuple[float, float]], level: float = 0.25) -> np.ndarray:
    """Notes of (frequency Hz, seconds) one after the other, with 5 ms fades so that no note clicks."""
    parts = []
    fade = int(SAMPLE_RATE * 0.005)
    for hz, seconds in notes:
        count = int(SAMPLE_RATE * seconds)
        wave = np.sin(2 * np.pi * hz * np.arange(count) / SAMPLE_RATE) * level * 32767
        ramp = np.minimum(1.0, np.minimum(np.arange(count), np.arange(count)[::-1]) / fade)
        parts.append(wave * ramp)
    return np.concatenate(parts).astype(np.int16)


# What members hear when someone joins (rising) or leaves (falling) a conference with joinTone/leavingTone.
JOIN_TONE = tone([(600.0, 0.15), (900.0, 0.15)])
LEAVING_TONE = tone([(900.0, 0.15), (600.0, 0.15)])
