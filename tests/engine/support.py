"""Helpers for end-to-end call tests: phones as peers, event streams, and the "nothing left behind" check."""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from ..support import (
    CallbackServer,
    Credentials,
    Received,
    ServerProcess,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    phone_port,
    start_phone,
)

SIPP_SCENARIOS = Path(__file__).resolve().parent.parent / "data" / "sipp"


def unique(path: str) -> str:
    return f"{path}/{uuid.uuid4().hex[:8]}"


class Phone:
    """A `trebuchet phone` child whose JSON events a test can wait for, one by one, with a deadline."""

    def __init__(self, *args: str) -> None:
        self.proc = start_phone(*args)
        self.port = phone_port(self.proc)
        self.seen: list[dict[str, Any]] = []
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip():
                self._lines.put(json.loads(line))
        self._lines.put(None)

    def uri(self, user: str = "phone", transport: str | None = None) -> str:
        suffix = f";transport={transport}" if transport else ""
        return f"sip:{user}@127.0.0.1:{self.port}{suffix}"

    def wait_for(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        for event in self.seen:
            if event["event"] == kind and not event.get("_taken"):
                event["_taken"] = True
                return event
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"phone: no {kind!r} event within {timeout} s; saw {self.kinds()}")
            try:
                event = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if event is None:
                raise AssertionError(f"phone exited before {kind!r}; saw {self.kinds()}")
            self.seen.append(event)
            if event["event"] == kind:
                event["_taken"] = True
                return event

    def kinds(self) -> list[str]:
        return [event["event"] for event in self.seen]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def events_of(
    callbacks: CallbackServer, path: str, count: int, timeout: float = 15.0
) -> list[dict[str, Any]]:
    """The first `count` events delivered to `path`, in arrival order."""
    received: list[Received] = callbacks.wait_for(lambda r: r.path == path, count=count, timeout=timeout)
    return [r.event for r in received]


def event_types(callbacks: CallbackServer, path: str, count: int, timeout: float = 15.0) -> list[str]:
    return [event["eventType"] for event in events_of(callbacks, path, count, timeout)]


def settle(seconds: float = 0.5) -> None:
    """Give late duplicates a chance to show up before asserting that they did not."""
    time.sleep(seconds)


def engine_counts(api: httpx.Client) -> dict[str, float]:
    """The server's `trebuchet_engine_live` gauges (controllers, rtp_sessions, sip_calls, …)."""
    counts: dict[str, float] = {}
    for line in api.get("/metrics").text.splitlines():
        if line.startswith("trebuchet_engine_live{"):
            kind = line.split('kind="', 1)[1].split('"', 1)[0]
            counts[kind] = float(line.rsplit(" ", 1)[1])
    return counts


def metric(api: httpx.Client, name: str) -> float:
    for line in api.get("/metrics").text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


LEAK_KINDS = (
    "controllers",
    "rtp_sessions",
    "mixes",
    "sip_calls",
    "stuck_transactions",
    "tasks",
    "transcriptions",
)


def assert_nothing_left(api: httpx.Client, timeout: float = 10.0) -> None:
    """No live controller, RTP session, SIP call, stuck transaction, engine task or transcription under way
    once calls have ended."""
    deadline = time.monotonic() + timeout
    while True:
        counts = engine_counts(api)
        left = {kind: counts.get(kind) for kind in LEAK_KINDS if counts.get(kind)}
        if not left:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"left behind after the test: {left}")
        time.sleep(0.1)


def wait_state(api: httpx.Client, url: str, state: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        call = api.get(url).json()
        if call.get("state") == state:
            return call
        if time.monotonic() > deadline:
            raise AssertionError(f"call stayed {call.get('state')!r}, expected {state!r}")
        time.sleep(0.05)


def start_sipp(*args: str, calls: int = 1) -> subprocess.Popen[str]:
    """sipp with the given scenario; as a callee (`-p PORT`) it is listening when this returns."""
    options = ["-m", str(calls), "-nostdin", "-timeout", "30", "-timeout_error", "-mp", str(free_port())]
    proc = subprocess.Popen(
        ["sipp", *args, *options], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if "-p" in args:
        port = int(args[args.index("-p") + 1])
        deadline = time.monotonic() + 10
        while udp_port_free(port) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    return proc


def udp_port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def sipp_result(proc: subprocess.Popen[str], timeout: float = 30.0) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out[-3000:]


def calls_url(creds: Credentials) -> str:
    return f"/v1/users/{creds.user_id}/calls"


def live_server(backend: str, data_dir: Path, **env: str) -> ServerProcess:
    """A server of a test module's own, so other modules' ringing calls never count as its leftovers."""
    if backend.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{data_dir / 'live.db'}"
    else:
        url = create_postgres_database()
    return ServerProcess(data_dir=data_dir, database_url=url, env=dict(env)).start()


def stop_live_server(server: ServerProcess) -> None:
    server.stop()
    if not server.database_url.startswith("sqlite"):
        drop_postgres_database(server.database_url)


CALLER = "+19195551212"


def dial(api: httpx.Client, creds: Credentials, to: str, **fields: object) -> str:
    """Create a call from CALLER to `to` through the API; its URL (Location)."""
    response = api.post(calls_url(creds), json={"from": CALLER, "to": to, **fields})
    assert response.status_code == 201, response.text
    return response.headers["location"]


FROM = "+19195551212"


def toned_seconds(samples: np.ndarray, hz: float) -> float:
    """Seconds of 20 ms frames that are loud and whose strongest frequency is `hz`."""
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160).astype(float)
    loud = np.sqrt(np.mean(frames**2, axis=1)) > 2000
    peaks = np.argmax(np.abs(np.fft.rfft(frames, axis=1)), axis=1) * 8000 / 160
    return float(np.sum(loud & (np.abs(peaks - hz) <= 50)) * 0.02)


def tone_seconds(samples: np.ndarray, hz: float) -> float:
    """Seconds of 20 ms frames in which a tone of `hz` (a multiple of 50) is there at an amplitude of at
    least ~2000, whatever else sounds with it: a 160-sample frame holds whole periods, so each tone
    falls in its own FFT bin (amplitude A gives a magnitude of 80 A)."""
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160).astype(float)
    magnitude = np.abs(np.fft.rfft(frames, axis=1))[:, round(hz / 50)]
    return float(np.sum(magnitude > 160_000) * 0.02)


def answered_call(
    api: httpx.Client,
    creds: Credentials,
    callbacks: CallbackServer,
    phone: Phone,
    path: str | None = None,
    **fields: object,
) -> str:
    """Create a call to `phone` (its events to `path`) and wait for its `answer`; the call's URL."""
    path = path or unique("/ok")
    body = {"from": FROM, "to": phone.uri(), "callbackUrl": callbacks.url(path), **fields}
    response = api.post(f"/v1/users/{creds.user_id}/calls", json=body)
    assert response.status_code == 201, response.text
    assert event_types(callbacks, path, 1) == ["answer"]
    return response.headers["location"]


def bridge(api: httpx.Client, creds: Credentials, **body: object) -> str:
    response = api.post(f"/v1/users/{creds.user_id}/bridges", json=body)
    assert response.status_code == 201, response.text
    assert "/bridges/brg-" in response.headers["location"]
    return response.headers["location"]


def hang_up(api: httpx.Client, *urls: str) -> None:
    for url in urls:
        response = api.post(url, json={"state": "completed"})
        assert response.status_code == 200, response.text
    for url in urls:
        wait_state(api, url, "completed")
