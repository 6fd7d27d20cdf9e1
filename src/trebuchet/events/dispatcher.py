"""The outbox dispatcher: a background task that delivers queued callbacks, many calls at once, each in order.

It sleeps until woken (a transaction queued events) or until the poll interval passes (events left by a
restart, by another node, or waiting out a backoff), claims due stream heads, and delivers each in its own
task. When a delivery settles, the stream's next event becomes its head and the dispatcher looks again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

import httpx

from ..domain.clock import utcnow
from ..metrics import CALLBACK_SECONDS, CALLBACKS
from ..store import outbox, user_errors
from ..store.database import Database
from ..store.outbox import PendingCallback
from .delivery import Verdict, deliver, worst_case_seconds

log = logging.getLogger("trebuchet.events")


class Dispatcher:
    def __init__(self, db: Database, *, concurrency: int = 64, poll_interval: float = 1.0) -> None:
        self.db = db
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._inflight: dict[asyncio.Task[None], PendingCallback] = {}
        self._task: asyncio.Task[None] | None = None
        self._client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency),
            follow_redirects=False,
            timeout=None,
            trust_env=False,
        )

    def wake(self) -> None:
        """Ask for a look at the outbox now (called after a transaction queued events)."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        """Stop claiming; give deliveries in flight a moment, then cancel them and release their claims."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._inflight:
            _, pending = await asyncio.wait(list(self._inflight), timeout=2)
            unfinished = [self._inflight[task].seq for task in pending if task in self._inflight]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            async with self.db.write() as conn:
                await outbox.release(conn, unfinished)
        await self._client.aclose()

    async def _run(self) -> None:
        while True:
            try:
                await self._claim_and_launch()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end delivery for good
                log.exception("outbox poll failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            self._wake.clear()

    async def _claim_and_launch(self) -> None:
        room = self.concurrency - len(self._inflight)
        if room <= 0:
            return
        now = utcnow()
        async with self.db.write() as conn:
            claimed = await outbox.claim_heads(
                conn,
                now=now,
                lease_for=lambda event: now + timedelta(seconds=worst_case_seconds(event)),
                limit=room,
                postgres=not self.db.is_sqlite,
            )
        for event in claimed:
            task = asyncio.create_task(self._deliver(event), name=f"callback-{event.id}")
            self._inflight[task] = event
            task.add_done_callback(lambda done: self._inflight.pop(done, None))

    async def _deliver(self, event: PendingCallback) -> None:
        began = time.perf_counter()
        verdict = await deliver(self._client, event)
        CALLBACK_SECONDS.observe(time.perf_counter() - began)
        CALLBACKS.labels("delivered" if verdict.delivered else "failed").inc()
        try:
            await self._settle(event, verdict)
        finally:
            self.wake()  # the stream's next event, if any, is now its head

    async def _settle(self, event: PendingCallback, verdict: Verdict) -> None:
        now = utcnow()
        async with self.db.write() as conn:
            await outbox.settle(
                conn,
                event.seq,
                at=now,
                outcome="delivered" if verdict.delivered else "failed",
                error=verdict.last_error,
            )
            failed_urls: dict[str, str] = {}
            for attempt in verdict.attempts:
                if not attempt.ok:
                    failed_urls[attempt.url] = attempt.detail
            event_type = event.payload.get("eventType")
            for url, detail in failed_urls.items():
                await user_errors.record_error(
                    conn,
                    event.user_id,
                    at=now,
                    category="unavailable",
                    code="callback-delivery-failed",
                    message=f"The {event_type} event could not be delivered to {url}: {detail}",
                    details=[
                        ("eventId", event.id),
                        ("eventType", str(event_type)),
                        ("callId", str(event.payload.get("callId", event.stream))),
                        ("url", url),
                        ("reason", detail),
                        ("delivered", "true" if verdict.delivered else "false"),
                    ],
                )
        if not verdict.delivered:
            log.warning("callback %s for %s failed: %s", event.id, event.stream, verdict.last_error)
