"""Real parts for tests: a Trebuchet server process, a callback receiver, and throwaway databases."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
# The fifteen parameters of the seed's Create Call page.
SEED_PARAMETERS = (
    "from",
    "to",
    "callTimeout",
    "callbackUrl",
    "callbackTimeout",
    "callbackHttpMethod",
    "fallbackUrl",
    "bridgeId",
    "conferenceId",
    "recordingEnabled",
    "recordingMaxDuration",
    "recordingFileFormat",
    "transcriptionEnabled",
    "tag",
    "sipHeaders",
)
POSTGRES_ADMIN_URL = os.environ.get(
    "TREBUCHET_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def trebuchet_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trebuchet", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


# -- databases ---------------------------------------------------------------------------------------


def _pg_admin(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def create_postgres_database() -> str:
    """A fresh empty database; returns its SQLAlchemy URL."""
    name = f"trebuchet_test_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the server process ------------------------------------------------------------------------------


@dataclass
class Credentials:
    user_id: str
    token: str
    secret: str

    @property
    def auth(self) -> tuple[str, str]:
        return (self.token, self.secret)


@dataclass
class ServerProcess:
    """`trebuchet serve` in a child process, on a free loopback port, with its own data directory."""

    data_dir: Path
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    sip_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)
    # E.164 calls go to a trunk; by default a `trebuchet phone` that rings and never answers, so a
    # test's call stays `started` until it is hung up (or its callTimeout passes).
    ringing_trunk: bool = True
    trunk: subprocess.Popen[str] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "TREBUCHET_DATA_DIR": str(self.data_dir),
            "TREBUCHET_DATABASE_URL": self.database_url,
            "TREBUCHET_HTTP_ADDR": f"127.0.0.1:{self.port}",
            "TREBUCHET_SIP_ADDR": f"127.0.0.1:{self.sip_port}",
            **self.env,
        }

    def start(self) -> ServerProcess:
        if self.ringing_trunk and "TREBUCHET_TRUNK_URI" not in self.env and self.trunk is None:
            self.trunk = start_phone("--answer-after", "3600", "--count", "1000000")
            self.env["TREBUCHET_TRUNK_URI"] = f"sip:127.0.0.1:{phone_port(self.trunk)}"
            drain(self.trunk)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "trebuchet", "serve"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self._env(),
        )
        threading.Thread(target=self._pump, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + "".join(self.output))
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become healthy:\n" + "".join(self.output))

    def _pump(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.output.append(line)

    def stop(self, sig: int = signal.SIGTERM, *, keep_trunk: bool = False) -> int:
        code = 0
        if self.proc is not None:
            self.proc.send_signal(sig)
            try:
                code = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait()
            self.proc = None
        if self.trunk is not None and not keep_trunk:  # after the server, so its CANCELs are answered
            self.trunk.kill()
            self.trunk.wait()
            self.trunk = None
            self.env.pop("TREBUCHET_TRUNK_URI", None)
        return code

    def first_user(self) -> Credentials:
        saved = json.loads((self.data_dir / "credentials.json").read_text())
        return Credentials(saved["userId"], saved["token"], saved["secret"])

    def create_user(self, *extra: str) -> Credentials:
        done = trebuchet_cli("users", "create", "--json", *extra, env=self._env())
        assert done.returncode == 0, done.stderr
        saved = json.loads(done.stdout)
        return Credentials(saved["userId"], saved["token"], saved["secret"])

    def client(self, creds: Credentials | None) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, auth=creds.auth if creds else None, timeout=15)


def start_phone(*args: str) -> subprocess.Popen[str]:
    """`trebuchet phone` on a free loopback port; its JSON-line events are on stdout."""
    return subprocess.Popen(
        [sys.executable, "-m", "trebuchet", "phone", "--sip", "127.0.0.1:0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def phone_port(proc: subprocess.Popen[str]) -> int:
    """The SIP port from the phone's first event (`listening`)."""
    assert proc.stdout is not None
    first = json.loads(proc.stdout.readline())
    assert first["event"] == "listening", first
    return int(first["sip"].rsplit(":", 1)[1])


def drain(proc: subprocess.Popen[str]) -> None:
    """Read and drop a long-lived child's output, so a full pipe never stalls it."""
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            threading.Thread(target=stream.read, daemon=True).start()


# -- the callback receiver ---------------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event(self) -> dict[str, Any]:
        """The event's fields, whether it came as a JSON body or as a query string."""
        return self.json if self.method == "POST" else self.query


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # several dispatchers connect at once


class CallbackServer:
    """A real HTTP server on loopback that records every request. Paths choose its behaviour:

    /ok → 200; /status/NNN → NNN; /slow/MS → 200 after MS ms; /jitter/MS → 200 after 0..MS ms;
    /hang-once/MS → the first request waits MS ms, later ones answer at once;
    /fail-times/N → 500 for the first N requests, then 200.
    """

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                received = Received(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                with owner._cond:  # recorded on arrival, before any stalling
                    owner.counts[parts.path] = owner.counts.get(parts.path, 0) + 1
                    seen = owner.counts[parts.path]
                    owner.requests.append(received)
                    owner._cond.notify_all()
                status = owner._behave(parts.path, seen)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = _handle
            do_POST = _handle

        self.httpd = _Receiver(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @staticmethod
    def _behave(path: str, seen: int) -> int:
        parts = path.strip("/").split("/")
        kind = parts[0]
        arg = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        if kind == "status":
            return arg
        if kind == "slow":
            time.sleep(arg / 1000)
        if kind == "jitter":
            time.sleep(random.random() * arg / 1000)
        if kind == "hang-once" and seen == 1:
            time.sleep(arg / 1000)
        if kind == "fail-times" and seen <= arg:
            return 500
        return 200

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, predicate: Any, count: int = 1, timeout: float = 15.0) -> list[Received]:
        """Block until `count` recorded requests satisfy `predicate`; return them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matching = [r for r in self.requests if predicate(r)]
                if len(matching) >= count:
                    return matching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} matching callbacks, got {len(matching)} of {len(self.requests)}"
                    )
                self._cond.wait(remaining)

    def for_call(self, call_id: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.event.get("callId") == call_id]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def assert_error(response: httpx.Response, status: int, code: str, field: str | None = None) -> dict:
    """Catapult's error body (spec §10), naming the property when one is at fault."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"category", "code", "message", "details"}
    assert body["code"] == code and body["message"]
    names = {detail["name"]: detail["value"] for detail in body["details"]}
    assert names["requestMethod"] == response.request.method
    assert names["requestPath"].startswith("users/")
    if field is not None:
        assert names.get("property") == field, body
    return body
