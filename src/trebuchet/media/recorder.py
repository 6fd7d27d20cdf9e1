"""Recording one call to a WAV or MP3 file, fed on the frame clock, written by a thread.

Each tick the call hands over what it heard and what it sent (`hear`, `send`); the recorder's clock job
(`tick`) moves on one frame, so the file is exactly as long as the ticks it ran, and frames the clock
skipped when it fell behind become silence rather than a shortened file. Both directions go into
one-second blocks of memory; a full block is mixed (sum, clipped to int16), encoded and written by the
writer thread, so the event loop never waits on the disk or on LAME, and the disk sees one write a
second, not one per packet. One writer thread serves every recorder in the process, fed through a queue
with no reply per block (only opening failures, write errors and the finished file come back to the
loop), and recorders started together have their first block cut short by different amounts, so their
blocks reach the writer spread over the second rather than all in one tick. (A pool with a future per
block, tried first, kept the GIL busy in bursts: 1,000 WAV recorders made 6% of the ticks late.)

The file is written under a hidden temporary name beside its final one (`.NAME.part`) and renamed when
it is complete (WAV header or MP3 tag fixed up, fsync'd), so a half-written recording is never visible
under its final name. `max_duration` ends the recording on the tick that reaches it; `ended` (a future)
and `on_end` say that it ended and why: `stopped`, `max-duration` or `error`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import numpy as np

from . import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE
from .audio_files import Mp3Encoder, wav_header
from .clock import FrameClock

log = logging.getLogger("trebuchet.media")

FileFormat = Literal["wav", "mp3"]
Reason = Literal["stopped", "max-duration", "error"]
FRAMES_PER_SECOND = 1000 // FRAME_MS

_PHASES = itertools.count()  # staggers the block boundaries of recorders started together


class Writer:
    """One thread doing every recorder's file work (open, mix + encode + write a block, finish), in order.

    LAME and the write(2) calls release the GIL, so encoding and disk run beside the event loop; what the
    thread does with the GIL held is a few microseconds a block.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Recorder, str, np.ndarray, np.ndarray]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0  # the process the thread runs in: a forked child starts its own
        self._start_lock = threading.Lock()
        self.jobs = 0  # queued so far

    def put(self, recorder: Recorder, kind: str, heard: np.ndarray, sent: np.ndarray) -> None:
        if self._pid != os.getpid():
            with self._start_lock:
                if self._pid != os.getpid():
                    self._jobs = queue.SimpleQueue()
                    self._thread = threading.Thread(target=self._run, name="recorder-writer", daemon=True)
                    self._thread.start()
                    self._pid = os.getpid()
        self.jobs += 1
        self._jobs.put((recorder, kind, heard, sent))

    def _run(self) -> None:
        while True:
            recorder, kind, heard, sent = self._jobs.get()
            try:
                recorder._do(kind, heard, sent)
            except Exception:  # _do keeps its own errors; this is a bug, and the thread must live on
                log.exception("recorder writer job %s for %s failed", kind, recorder.path)


_shared_writer = Writer()


@dataclass(frozen=True)
class Recording:
    """A finished recording: where it is, when it ran, and why it ended."""

    path: Path
    format: FileFormat
    reason: Reason
    start_monotonic: float
    start_time: float  # epoch seconds
    end_monotonic: float
    end_time: float
    duration: float  # seconds of audio in the file
    size: int  # bytes (0 when the recording failed and no file was kept)
    error: str | None = None


class Recorder:
    """One call's recording: `start(clock)`, then `hear`/`send` each tick, then `await close()`."""

    def __init__(
        self,
        path: str | Path,
        *,
        file_format: FileFormat = "wav",
        max_duration: float | None = None,
        block_seconds: float = 1.0,
        on_end: Callable[[Recording], None] | None = None,
        writer: Writer | None = None,
    ) -> None:
        if file_format not in ("wav", "mp3"):
            raise ValueError(f"recordings are wav or mp3, not {file_format!r}")
        if max_duration is not None and max_duration <= 0:
            raise ValueError("max_duration must be positive")
        self.path = Path(path)
        self.temp_path = self.path.with_name(f".{self.path.name}.part")
        self.format: FileFormat = file_format
        self.max_frames = None if max_duration is None else max(1, round(max_duration * FRAMES_PER_SECOND))
        self.on_end = on_end
        self.frames = 0  # 20 ms frames recorded so far
        self.reason: Reason | None = None  # set when recording stops
        self.ended: asyncio.Future[Recording] | None = None
        self.start_monotonic = self.start_time = 0.0
        self.end_monotonic = self.end_time = 0.0
        self._writer = writer or _shared_writer
        block_frames = max(1, round(block_seconds * FRAMES_PER_SECOND))
        self._block_samples = block_frames * FRAME_SAMPLES
        self._heard = np.zeros(self._block_samples, dtype=np.int16)
        self._sent = np.zeros(self._block_samples, dtype=np.int16)
        self._fill = 0  # samples of the current block already committed
        self._block_end = self._block_samples - (next(_PHASES) % block_frames) * FRAME_SAMPLES  # staggered
        self._clock: FrameClock | None = None
        self._last_tick: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # The writer thread's side.
        self._file: IO[bytes] | None = None
        self._mp3: Mp3Encoder | None = None
        self._failure: BaseException | None = None
        self._size: int | None = None  # set by the writer once the file is final

    # -- the event loop's side ---------------------------------------------------------------------------

    def start(self, clock: FrameClock | None = None) -> None:
        """Open the file (in the writer) and, given a clock, record one frame per tick from now on.

        Without a clock the caller drives it with `feed` (one frame each call).
        """
        if self.ended is not None:
            raise RuntimeError("a recorder records once")
        self._loop = asyncio.get_running_loop()
        self.ended = self._loop.create_future()
        self.start_monotonic, self.start_time = time.monotonic(), time.time()
        self._submit("open")
        if clock is not None:
            self._clock = clock
            clock.add(self, self.tick)

    @property
    def recording(self) -> bool:
        return self.ended is not None and self.reason is None

    @property
    def duration(self) -> float:
        """Seconds recorded so far."""
        return self.frames * FRAME_SAMPLES / SAMPLE_RATE

    def hear(self, frame: np.ndarray) -> None:
        """What the call heard this tick (int16, up to one frame; missing samples are silence)."""
        if self.reason is None:
            count = min(len(frame), FRAME_SAMPLES)
            self._heard[self._fill : self._fill + count] = frame[:count]

    def send(self, frame: np.ndarray) -> None:
        """What the call sent this tick."""
        if self.reason is None:
            count = min(len(frame), FRAME_SAMPLES)
            self._sent[self._fill : self._fill + count] = frame[:count]

    def tick(self, tick: int) -> None:
        """The frame-clock job: commit this tick's frame, plus silence for ticks the clock skipped."""
        advance = 1 if self._last_tick is None else max(1, tick - self._last_tick)
        self._last_tick = tick
        self._advance(advance)

    def feed(self, heard: np.ndarray | None, sent: np.ndarray | None) -> None:
        """One frame of both directions at once, for a caller that drives the recorder itself."""
        if heard is not None:
            self.hear(heard)
        if sent is not None:
            self.send(sent)
        self._advance(1)

    def stop(self) -> None:
        """Stop recording now; `ended` resolves once the file is complete."""
        self._finish("stopped")

    async def close(self) -> Recording:
        """Stop (unless already ended) and wait until the file is complete under its final name."""
        if self.ended is None:
            raise RuntimeError("the recorder was never started")
        self._finish("stopped")
        return await asyncio.shield(self.ended)

    def _advance(self, frames: int) -> None:
        if self.reason is not None or self.ended is None:
            return
        if self.max_frames is not None:
            frames = min(frames, self.max_frames - self.frames)
        for _ in range(frames):
            self._fill += FRAME_SAMPLES
            self.frames += 1
            if self._fill == self._block_end:
                self._submit("block", self._heard[: self._fill], self._sent[: self._fill])
                self._heard = np.zeros(self._block_samples, dtype=np.int16)
                self._sent = np.zeros(self._block_samples, dtype=np.int16)
                self._fill, self._block_end = 0, self._block_samples
        if self.max_frames is not None and self.frames >= self.max_frames:
            self._finish("max-duration")

    def _finish(self, reason: Reason) -> None:
        if self.reason is not None or self.ended is None:
            return
        self.reason = reason
        self.end_monotonic, self.end_time = time.monotonic(), time.time()
        if self._clock is not None:
            self._clock.remove(self)
            self._clock = None
        if self._fill:
            self._submit("block", self._heard[: self._fill], self._sent[: self._fill])
        self._submit("close")

    def _submit(self, kind: str, heard: np.ndarray | None = None, sent: np.ndarray | None = None) -> None:
        empty = np.empty(0, dtype=np.int16)
        self._writer.put(self, kind, empty if heard is None else heard, empty if sent is None else sent)

    def _written(self) -> None:
        """Back on the loop after the writer reported: stop on a write error, resolve `ended` once final."""
        if self._failure is not None and self.reason is None:
            log.error("recording %s failed: %s", self.path, self._failure)
            self._finish("error")
        if self._size is None or self.ended is None or self.ended.done():
            return
        failed = self._failure is not None
        result = Recording(
            path=self.path,
            format=self.format,
            reason="error" if failed else self.reason or "stopped",
            start_monotonic=self.start_monotonic,
            start_time=self.start_time,
            end_monotonic=self.end_monotonic,
            end_time=self.end_time,
            duration=self.duration,
            size=self._size,
            error=None if not failed else f"{type(self._failure).__name__}: {self._failure}",
        )
        self.ended.set_result(result)
        if self.on_end is not None:
            try:
                self.on_end(result)
            except Exception:
                log.exception("on_end callback of the recording %s failed", self.path)

    # -- the writer thread's side ------------------------------------------------------------------------

    def _do(self, kind: str, heard: np.ndarray, sent: np.ndarray) -> None:
        """One job, in the writer thread; the loop hears back only about failures and the finished file."""
        if kind == "close":
            self._close_file()
        elif self._failure is None:
            try:
                if kind == "open":
                    self._open_file()
                else:
                    self._write_block(heard, sent)
                return
            except Exception as exc:
                self._failure = exc
        else:
            return  # blocks after a failure: dropped, the close job reports
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._written)

    def _open_file(self) -> None:
        self._file = open(self.temp_path, "wb")  # noqa: SIM115 - closed by _close_file, blocks apart
        if self.format == "mp3":
            self._mp3 = Mp3Encoder()
            self._file.write(self._mp3.tag_frame())  # a placeholder of the final tag's size
        else:
            self._file.write(wav_header(0))

    def _write_block(self, heard: np.ndarray, sent: np.ndarray) -> None:
        assert self._file is not None
        mixed = np.add(heard, sent, dtype=np.int32)
        np.clip(mixed, -32768, 32767, out=mixed)
        mixed16 = mixed.astype("<i2")
        self._file.write(self._mp3.encode(mixed16) if self._mp3 is not None else mixed16.data)
        self._file.flush()  # one write(2) per block: the disk sees each block when it is done

    def _close_file(self) -> None:
        """Finish the header or tag, fsync, rename into place; on failure remove the partial file."""
        file, self._file = self._file, None
        try:
            if self._failure is None and file is not None:
                if self._mp3 is not None:
                    file.write(self._mp3.flush())
                    file.seek(0)
                    file.write(self._mp3.tag_frame())
                else:
                    data_bytes = file.tell() - 44
                    file.seek(0)
                    file.write(wav_header(data_bytes))
                file.seek(0, os.SEEK_END)
                size = file.tell()
                file.flush()
                os.fsync(file.fileno())
                file.close()
                os.replace(self.temp_path, self.path)
                self._size = size
                return
        except Exception as exc:
            self._failure = exc
        if file is not None:
            with contextlib.suppress(OSError):
                file.close()
        with contextlib.suppress(OSError):
            self.temp_path.unlink()
        self._size = 0
