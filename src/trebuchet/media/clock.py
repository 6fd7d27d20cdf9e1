"""One 20 ms frame clock for every media session in the process.

A timer per call does not scale: thousands of callbacks drift apart and each pays the event loop's
overhead. Instead one task ticks every 20 ms and runs every registered job once per tick, so decoding,
mixing, recording and encoding run as batch work. The schedule is computed from the loop's clock
(tick n is due at start + n * 20 ms), so a late tick does not shift the ones after it; when the loop
falls more than a few frames behind, the clock skips ahead and counts the frames it dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from . import FRAME_MS

log = logging.getLogger("trebuchet.media")

Job = Callable[[int], None]  # called with the tick number


@dataclass
class ClockStats:
    ticks: int = 0
    late: int = 0  # ticks that ran more than half a frame after they were due
    skipped: int = 0  # frames given up on because the loop fell too far behind
    worst_lateness: float = 0.0  # seconds


class FrameClock:
    def __init__(self, *, frame_seconds: float = FRAME_MS / 1000, max_catch_up: int = 5) -> None:
        self.frame = frame_seconds
        self.max_catch_up = max_catch_up
        self.stats = ClockStats()
        self._jobs: dict[object, Job] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, key: object, job: Job) -> None:
        """Run `job(tick)` on every tick until `remove(key)`."""
        self._jobs[key] = job

    def remove(self, key: object) -> None:
        self._jobs.pop(key, None)

    def __len__(self) -> int:
        return len(self._jobs)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="frame-clock")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def run_tick(self, tick: int) -> None:
        """Run every job for one tick; a failing job is logged and removed, the others go on."""
        for key, job in list(self._jobs.items()):
            try:
                job(tick)
            except Exception:
                log.exception("media job %r failed; removed from the frame clock", key)
                self._jobs.pop(key, None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        tick = 0
        while True:
            due = start + tick * self.frame
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            lateness = loop.time() - due
            if lateness > self.frame / 2:
                self.stats.late += 1
            self.stats.worst_lateness = max(self.stats.worst_lateness, lateness)
            behind = int(lateness / self.frame)
            if behind > self.max_catch_up:
                self.stats.skipped += behind
                tick += behind
            self.run_tick(tick)
            self.stats.ticks += 1
            tick += 1
