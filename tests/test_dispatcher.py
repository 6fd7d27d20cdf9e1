"""The outbox dispatcher on real databases: every event delivered, each call's events in order."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

import pytest

from trebuchet.domain.clock import utcnow
from trebuchet.events.dispatcher import Dispatcher
from trebuchet.store.call_events import enqueue_callback
from trebuchet.store.database import Database

from .support import CallbackServer, create_postgres_database, drop_postgres_database

STREAMS, PER_STREAM = 30, 5


async def _run(urls: list[str], callbacks: CallbackServer, path: str) -> None:
    databases = [Database(url) for url in urls]
    await databases[0].migrate()
    async with databases[0].write() as conn:
        for n in range(PER_STREAM):  # interleaved: stream heads compete from the start
            for s in range(STREAMS):
                await enqueue_callback(
                    conn,
                    user_id="u-test",
                    stream=f"c-stream{s}",
                    payload={"eventType": "test", "callId": f"c-stream{s}", "n": n},
                    url=callbacks.url(path),
                    fallback_url=None,
                    method="POST",
                    timeout_ms=5000,
                    at=utcnow(),
                )
    dispatchers = [Dispatcher(db, concurrency=8, poll_interval=0.05) for db in databases]
    for dispatcher in dispatchers:
        dispatcher.start()
    try:
        await asyncio.to_thread(callbacks.wait_for, lambda r: r.path == path, STREAMS * PER_STREAM, 60)
    finally:
        for dispatcher in dispatchers:
            await dispatcher.stop()
        for db in databases:
            await db.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_two_dispatchers_deliver_each_calls_events_in_order(kind, tmp_path, callbacks):
    path = f"/jitter/8/{uuid.uuid4().hex[:8]}"
    url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}" if kind == "sqlite" else create_postgres_database()
    try:
        asyncio.run(_run([url, url], callbacks, path))
    finally:
        if kind == "postgresql":
            drop_postgres_database(url)
    received = [r.json for r in callbacks.requests if r.path == path]
    by_stream: dict[str, list[int]] = defaultdict(list)
    for event in received:
        by_stream[event["callId"]].append(event["n"])
    assert len(by_stream) == STREAMS
    for stream, order in by_stream.items():
        assert order == list(range(PER_STREAM)), (stream, order)
