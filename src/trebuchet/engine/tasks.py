"""BackgroundTasks: work a service starts and does not wait for there and then.

Each task is kept until it ends (asyncio holds only weak references to running tasks), a failure is
logged rather than lost, and whoever owns the set can cancel the rest and wait for them when it stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("trebuchet.engine")


class BackgroundTasks:
    def __init__(self, what: str) -> None:
        self.what = what  # for the log: "a {what} task failed"
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a %s task failed", self.what, exc_info=task.exception())

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def wait(self) -> None:
        """Until every task started so far has ended (however it ended)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
