"""SQLite's write lock held by another process: the server waits for it without freezing."""

from __future__ import annotations

import sqlite3
import threading
import time

import httpx

from .support import ServerProcess
from .test_api_calls import FROM, TO, calls_path


def test_a_busy_write_lock_delays_writes_but_not_reads(tmp_path):
    db_file = tmp_path / "locked.db"
    server = ServerProcess(data_dir=tmp_path / "data", database_url=f"sqlite+aiosqlite:///{db_file}").start()
    try:
        creds = server.first_user()
        other = sqlite3.connect(db_file, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process now owns the write lock
        outcome: dict[str, object] = {}

        def create() -> None:
            began = time.monotonic()
            with server.client(creds) as api:
                outcome["response"] = api.post(calls_path(creds), json={"from": FROM, "to": TO})
            outcome["seconds"] = time.monotonic() - began

        writer = threading.Thread(target=create)
        writer.start()
        time.sleep(0.5)
        assert "response" not in outcome  # the create is waiting for the lock...
        began = time.monotonic()
        health = httpx.get(f"{server.base_url}/healthz", timeout=5)
        assert health.status_code == 200 and time.monotonic() - began < 0.5  # ...and the loop is not
        with server.client(creds) as api:
            assert api.get(calls_path(creds)).status_code == 200
        other.execute("ROLLBACK")
        writer.join(timeout=10)
        response = outcome["response"]
        assert isinstance(response, httpx.Response) and response.status_code == 201
        assert outcome["seconds"] >= 0.5
        other.close()
    finally:
        server.stop()
