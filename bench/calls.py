"""Real calls end to end: call setup rate through the API, and simultaneous answered calls with RTP.

1. Call setup rate. `trebuchet serve` (SQLite in a temp dir) places calls to a sipp UAS
   (bench/data/uas_answer_bye.xml: 100, 180, 200 with SDP, ACK, 1 s of call, then the callee's BYE).
   This script POSTs /calls at a fixed rate for a fixed time per step and timestamps the `answer` and
   `hangup` callbacks on its own HTTP receiver. A call fails on a non-201, a missing event or a hangup
   cause other than NORMAL_CLEARING. Latency runs from the moment a POST was due to its `answer`
   callback. Baseline in the same run, at the same rates, against the same sipp UAS: sipp's own UAC
   (bench/data/uac_bye_wait.xml), timing INVITE to 200. Our steps stop at >= 1% failed calls or when
   the server falls behind (p99 of due -> 201 or of due -> answer over 1 s); sipp's go on alone.
2. Simultaneous answered calls with RTP. A fresh server, a sipp UAS that answers, holds the call until
   our BYE and echoes RTP (bench/data/uas_answer_hold.xml, -rtp_echo). Live calls are ramped level by
   level; at each one the server's CPU share (from /proc) is measured while `GET /metrics` must show
   every call up (controllers, RTP sessions, SIP calls). Baseline: bench/rtp_load.py's media stack
   alone with the same number of sessions. At the end every call is hung up through the API and the
   live counts must return to 0.

    .venv/bin/python -m bench.calls            # the full run, about 7 minutes
    .venv/bin/python -m bench.calls --quick    # a smoke run, under a minute
    .venv/bin/python -m bench.calls --only setup --rates 200 --seconds 10

Everything binds and sends on 127.0.0.1 only, writes only under /tmp, and every step is bounded in
count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import uvloop
from tests.support import Credentials, ServerProcess, free_port

DATA = Path(__file__).resolve().parent / "data"
CLK_TCK = os.sysconf("SC_CLK_TCK")
CALLER = "+19195551212"
HOLD_SECONDS = 1.0  # how long uas_answer_bye.xml keeps a call before its BYE
LIVE_KINDS = ("controllers", "rtp_sessions", "sip_calls")
P99_LIMIT = 1.0  # a rate is sustained when p99 of due->201 and of due->answer stay under this (s)
LOGS = Path("/tmp/bench-calls-logs")  # the server's full log of each part, kept after the run
SIPP_COUNTERS = ("SuccessfulCall", "FailedCall", "Retransmissions", "OutOfCallMsgs", "DeadCallMsgs")


# -- small helpers -----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads), from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def udp_counters() -> dict[str, int]:
    """Host-wide UDP counters (InDatagrams, RcvbufErrors, ...) from /proc/net/snmp."""
    with open("/proc/net/snmp") as handle:
        rows = [line.split() for line in handle if line.startswith("Udp:")]
    return {name: int(value) for name, value in zip(rows[0][1:], rows[1][1:], strict=True)}


def udp_socket_drops(ranges: dict[str, tuple[int, int]]) -> dict[str, int]:
    """Datagrams dropped so far by the UDP sockets bound to each named port range (/proc/net/udp)."""
    drops = dict.fromkeys(ranges, 0)
    with open("/proc/net/udp") as handle:
        for line in list(handle)[1:]:
            parts = line.split()
            port = int(parts[1].rsplit(":", 1)[1], 16)
            for name, (low, high) in ranges.items():
                if low <= port <= high:
                    drops[name] += int(parts[-1])
    return drops


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages, to show what else was running."""
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def udp_block_free(low: int, count: int) -> bool:
    """Whether the UDP ports low .. low+count-1 can all be bound on 127.0.0.1 right now."""
    for port in range(low, low + count):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def find_udp_block(count: int, start: int, stop: int) -> int:
    """An even first port of `count` free UDP ports in [start, stop): below the ephemeral range, so
    ports other programs pick at random do not land in it, and away from the default RTP range."""
    for low in range(start, stop - count, 100):
        if udp_block_free(low, count):
            return low
    raise OSError(f"no {count} free UDP ports between {start} and {stop}")


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(value: float) -> str:
    """Seconds as milliseconds for a table cell."""
    return "-" if value != value else f"{value * 1000:.1f}"  # NaN: nothing measured


def share(value: float) -> str:
    """A CPU share as a percentage for a table cell."""
    return "-" if value != value else f"{value:.0%}"


# -- HTTP, both ways ---------------------------------------------------------------------------------


class HttpPool:
    """A minimal HTTP/1.1 keep-alive client for the API (far cheaper per request than httpx, so the
    load generator takes as little CPU from the server as it can on a 2-core machine)."""

    IDLE_LIMIT = 3.0  # uvicorn closes idle connections after 5 s; never reuse one that old

    def __init__(self, port: int, creds: Credentials | None, size: int = 64) -> None:
        self.port = port
        self.auth = (
            "Authorization: Basic " + base64.b64encode(f"{creds.token}:{creds.secret}".encode()).decode()
            if creds
            else ""
        )
        self._slots = asyncio.Semaphore(size)
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def request(
        self, method: str, path: str, body: dict[str, object] | None = None, limit: float = 30.0
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, lower-cased headers, body); status 0 when the connection failed or timed out."""
        payload = json.dumps(body).encode() if body is not None else b""
        head = [
            f"{method} {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            f"Content-Length: {len(payload)}",
        ]
        if self.auth:
            head.append(self.auth)
        if body is not None:
            head.append("Content-Type: application/json")
        data = ("\r\n".join(head) + "\r\n\r\n").encode() + payload
        async with self._slots:
            now = time.monotonic()
            while self._idle and now - self._idle[-1][2] > self.IDLE_LIMIT:
                self._idle.pop()[1].close()
            try:
                if self._idle:
                    reader, writer, _ = self._idle.pop()
                else:
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                return 0, {}, b""
            try:
                async with asyncio.timeout(limit):
                    writer.write(data)
                    raw = await reader.readuntil(b"\r\n\r\n")
                    lines = raw.decode("latin-1").split("\r\n")
                    status = int(lines[0].split()[1])
                    headers = {}
                    for line in lines[1:]:
                        name, _, value = line.partition(":")
                        if name:
                            headers[name.strip().lower()] = value.strip()
                    content = await reader.readexactly(int(headers.get("content-length", "0")))
            except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                writer.close()
                return 0, {}, b""
            if headers.get("connection", "").lower() == "close":
                writer.close()
            else:
                self._idle.append((reader, writer, time.monotonic()))
            return status, headers, content

    def close(self) -> None:
        for _, writer, _ in self._idle:
            writer.close()
        self._idle.clear()


@dataclass
class Events:
    """What the callback receiver saw for one call (keyed by the call's tag)."""

    answer_at: float | None = None
    hangup_at: float | None = None
    cause: str | None = None
    call_id: str | None = None
    others: list[str] = field(default_factory=list)


class CallbackReceiver:
    """An asyncio HTTP server on 127.0.0.1 that answers 200 at once and timestamps each call event."""

    OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

    def __init__(self) -> None:
        self.calls: dict[str, Events] = {}
        self.untagged = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=512)
        self.port = self.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                body = await reader.readexactly(int(match.group(1)) if match else 0)
                at = time.perf_counter()
                writer.write(self.OK)
                self._record(body, at)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def _record(self, body: bytes, at: float) -> None:
        try:
            event = json.loads(body)
        except ValueError:
            self.untagged += 1
            return
        tag = event.get("tag")
        if tag is None:
            self.untagged += 1
            return
        seen = self.calls.setdefault(tag, Events())
        seen.call_id = event.get("callId")
        kind = event.get("eventType")
        if kind == "answer" and seen.answer_at is None:
            seen.answer_at = at
        elif kind == "hangup" and seen.hangup_at is None:
            seen.hangup_at, seen.cause = at, event.get("cause")
        else:
            seen.others.append(str(kind))

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self.server.wait_closed()


# -- processes ---------------------------------------------------------------------------------------


@dataclass
class Sipp:
    """A sipp UAS on 127.0.0.1, its scenario copied into a temp dir so its files stay under /tmp."""

    scenario: str
    workdir: Path
    echo: bool = False
    port: int = field(default_factory=free_port)
    media: int = 0
    stats: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Sipp:
        """Start sipp on a free SIP port and a free media block; give it half a second to bind."""
        self.media = find_udp_block(4, 14_000, 20_000)  # sipp echoes on -mp and -mp + 2
        run_dir = Path(tempfile.mkdtemp(prefix="sipp-uas-", dir=self.workdir))
        shutil.copy(DATA / self.scenario, run_dir)
        self.stats = run_dir / "stats.csv"
        command = ["sipp", "-sf", str(run_dir / self.scenario), "-i", "127.0.0.1", "-p", str(self.port)]
        command += ["-trace_stat", "-stf", str(self.stats), "-fd", "1", "-trace_err"]
        command += [
            "-mi",
            "127.0.0.1",
            "-mp",
            str(self.media),
            "-nostdin",
            "-l",
            "10000",
            "-buff_size",
            "4194304",
        ]
        if self.echo:
            command.append("-rtp_echo")
        self.proc = subprocess.Popen(
            command, cwd=run_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(0.5)
        if self.proc.poll() is not None:
            raise RuntimeError(f"sipp UAS exited at once: {' '.join(command)}")
        return self

    @property
    def uri(self) -> str:
        return f"sip:bench@127.0.0.1:{self.port}"

    def unexpected(self) -> Counter[str]:
        """sipp's complaints so far (its -trace_err log), grouped with call ids and numbers masked."""
        found: Counter[str] = Counter()
        if self.stats is not None:
            for log in self.stats.parent.glob("*_errors.log"):
                for line in log.read_text(errors="replace").splitlines():
                    if "unexpected" in line.lower() or "aborting" in line.lower():
                        found[re.sub(r"'[^']*@[^']*'|\d+", "#", line.split(": ", 1)[-1])[:160]] += 1
        return found

    def totals(self) -> dict[str, int]:
        """sipp's cumulative counters (its stats file, rewritten every second)."""
        return sipp_totals(self.stats) if self.stats else {}

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def sipp_totals(stats: Path) -> dict[str, int]:
    """The cumulative (C) counters of the last line of a sipp -trace_stat file."""
    rows = stats.read_text().splitlines() if stats.exists() else []
    if len(rows) < 2:
        return {}
    values = dict(zip(rows[0].split(";"), rows[-1].split(";"), strict=False))
    names = [*SIPP_COUNTERS, *(k[:-3] for k in values if k.startswith("Failed") and k.endswith("(C)"))]
    return {name: int(values.get(f"{name}(C)", 0) or 0) for name in dict.fromkeys(names)}


def start_server(workdir: Path, rtp_low: int, rtp_high: int) -> tuple[ServerProcess, Credentials]:
    """`trebuchet serve` on SQLite in a fresh temp dir, and a user whose rate limits never bite."""
    data = Path(tempfile.mkdtemp(prefix="server-", dir=workdir))
    server = ServerProcess(
        data_dir=data,
        database_url=f"sqlite+aiosqlite:///{data / 'bench.db'}",
        env={"TREBUCHET_RTP_PORTS": f"{rtp_low}-{rtp_high}"},
        ringing_trunk=False,
    ).start()
    creds = server.create_user("--call-rate", "100000", "--api-rate", "100000")
    return server, creds


def server_problems(server: ServerProcess, name: str) -> list[str]:
    """Warning, error and traceback lines of the server's log, grouped with ids and times masked, most
    frequent first; the whole log is kept under /tmp for a closer look."""
    LOGS.mkdir(exist_ok=True)
    log = LOGS / f"{name}-server.log"
    log.write_text("".join(server.output))
    bad = Counter(
        re.sub(r"\b[a-z]{1,3}-[a-z0-9]{16,}\b", "<id>", re.sub(r"^\S+ \S+ ", "", line.rstrip()))
        for line in server.output
        if " WARNING " in line or " ERROR " in line or "Traceback" in line or "Exception" in line
    )
    found = [f"{count} x {text}" for text, count in bad.most_common(10)]
    return [*found, f"(full log: {log})"] if found else []


async def live_counts(api: HttpPool) -> dict[str, int]:
    """The engine's `trebuchet_engine_live` gauges from GET /metrics ({} when it does not answer)."""
    status, _, body = await api.request("GET", "/metrics", limit=10)
    if status != 200:
        return {}
    found = {}
    for match in re.finditer(r'trebuchet_engine_live\{kind="(\w+)"\} ([0-9.e+]+)', body.decode()):
        found[match.group(1)] = int(float(match.group(2)))
    return found


async def wait_delivered(api: HttpPool, seconds: float) -> None:
    """Poll /metrics until no callback event is pending (at most `seconds`), before the receiver goes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, _, body = await api.request("GET", "/metrics", limit=10)
        match = re.search(rb"^trebuchet_outbox_pending ([0-9.e+]+)", body, re.MULTILINE)
        if status == 200 and match and float(match.group(1)) == 0:
            return
        await asyncio.sleep(0.25)


async def wait_idle(api: HttpPool, seconds: float) -> dict[str, int]:
    """Poll /metrics until no controller, RTP session or SIP call is live (at most `seconds`)."""
    deadline = time.monotonic() + seconds
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        counts = await live_counts(api)
        if counts and all(counts.get(kind, 0) == 0 for kind in LIVE_KINDS):
            break
        await asyncio.sleep(0.25)
    return counts


# -- 1. call setup rate ------------------------------------------------------------------------------


@dataclass
class Step:
    """One rate's figures, for our API path or for sipp's UAC."""

    attempted: int = 0
    answered: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)  # due -> answer callback, or INVITE -> 200
    post_latencies: list[float] = field(default_factory=list)  # due -> 201
    statuses: Counter[int] = field(default_factory=Counter)
    causes: Counter[str] = field(default_factory=Counter)
    missing_answer: int = 0
    missing_hangup: int = 0
    server_cpu: float = float("nan")
    peer_cpu: float = float("nan")  # the sipp UAS
    driver_cpu: float = float("nan")  # this process, or the sipp UAC
    cpu_ms_per_call: float = float("nan")  # the server's CPU from the first POST to the last hangup
    left_live: dict[str, int] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # tag -> call id, from Location
    unfinished: list[str] = field(default_factory=list)  # created calls without a hangup event
    uas: dict[str, int] = field(default_factory=dict)  # what the sipp UAS counted during the step
    server_answer: list[float] = field(default_factory=list)  # startTime -> activeTime, a sample
    sip_drops: dict[str, int] = field(default_factory=dict)  # datagrams the SIP sockets dropped

    @property
    def failed_share(self) -> float:
        return self.failed / self.attempted if self.attempted else 1.0

    @property
    def kept_up(self) -> bool:
        """No p99 over P99_LIMIT: POST due -> 201, and due -> answer (or sipp's INVITE -> 200)."""
        return all(
            not values or pct(values, 0.99) < P99_LIMIT for values in (self.post_latencies, self.latencies)
        )

    @property
    def sustained(self) -> bool:
        return self.attempted > 0 and self.failed_share < 0.01 and self.kept_up


async def post_calls(
    api: HttpPool, path: str, bodies: list[dict[str, object]], rate: float, step: Step
) -> dict[str, float]:
    """POST each body at its due time (open loop: a slow answer never delays the next POST).
    Returns each tag's due time."""
    due_at: dict[str, float] = {}

    async def one(body: dict[str, object], due: float) -> None:
        status, headers, _ = await api.request("POST", path, body)
        step.statuses[status] += 1
        if status == 201:
            step.post_latencies.append(time.perf_counter() - due)
            step.ids[str(body["tag"])] = headers.get("location", "").rsplit("/", 1)[-1]

    tasks = []
    begin = time.perf_counter() + 0.05
    for n, body in enumerate(bodies):
        due = begin + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due_at[str(body["tag"])] = due
        tasks.append(asyncio.create_task(one(body, due)))
    await asyncio.gather(*tasks)
    return due_at


async def api_step(
    api: HttpPool,
    receiver: CallbackReceiver,
    server: ServerProcess,
    creds: Credentials,
    uas: Sipp,
    rate: int,
    seconds: float,
    label: str,
) -> Step:
    """One rate through the API for `seconds`; waits for every call's hangup (bounded) before counting."""
    step = Step(attempted=int(rate * seconds))
    bodies: list[dict[str, object]] = [
        {"from": CALLER, "to": uas.uri, "callbackUrl": receiver.url, "tag": f"{label}-{n}"}
        for n in range(step.attempted)
    ]
    pids = (server.proc.pid, uas.proc.pid, os.getpid())  # type: ignore[union-attr]
    uas0 = uas.totals()
    sockets = {"server": (server.sip_port, server.sip_port), "sipp": (uas.port, uas.port)}
    drops0 = udp_socket_drops(sockets)
    cpu0, wall0 = [cpu_seconds(pid) for pid in pids], time.monotonic()
    due_at = await post_calls(api, f"/v1/users/{creds.user_id}/calls", bodies, rate, step)
    cpu1, wall1 = [cpu_seconds(pid) for pid in pids], time.monotonic()
    step.server_cpu, step.peer_cpu, step.driver_cpu = (
        (b - a) / (wall1 - wall0) for a, b in zip(cpu0, cpu1, strict=True)
    )
    created = step.statuses[201]
    deadline = time.monotonic() + HOLD_SECONDS + 20
    while time.monotonic() < deadline:  # every created call's hangup, or the deadline
        done = sum(1 for tag in due_at if (seen := receiver.calls.get(tag)) and seen.hangup_at)
        if done >= created:
            break
        await asyncio.sleep(0.2)
    step.cpu_ms_per_call = (cpu_seconds(pids[0]) - cpu0[0]) * 1000 / max(created, 1)
    step.left_live = await wait_idle(api, 15)
    await asyncio.sleep(1.1)  # sipp rewrites its stats file every second
    step.uas = {name: value - uas0.get(name, 0) for name, value in uas.totals().items()}
    step.sip_drops = {name: value - drops0[name] for name, value in udp_socket_drops(sockets).items()}
    step.server_answer = await server_answer_times(api, creds, list(step.ids.values()))
    for tag, due in due_at.items():
        seen = receiver.calls.pop(tag, None)
        answered = seen is not None and seen.answer_at is not None
        hung_up = seen is not None and seen.hangup_at is not None
        if answered:
            step.latencies.append(seen.answer_at - due)  # type: ignore[union-attr, operator]
        if seen is not None and seen.cause:
            step.causes[seen.cause] += 1
        step.answered += answered
        step.missing_answer += not answered
        step.missing_hangup += not hung_up
        ok = answered and hung_up and seen.cause == "NORMAL_CLEARING"  # type: ignore[union-attr]
        step.failed += not ok
        if not hung_up and tag in step.ids:
            step.unfinished.append(step.ids[tag])
    return step


async def server_answer_times(api: HttpPool, creds: Credentials, call_ids: list[str]) -> list[float]:
    """startTime -> activeTime by the server's own clock, for 40 calls spread over the step: with the
    callback latency, it tells a late SIP answer from a late callback."""
    spread = call_ids[:: max(1, len(call_ids) // 40)][:40]
    found = []
    for call_id in spread:
        status, _, body = await api.request("GET", f"/v1/users/{creds.user_id}/calls/{call_id}")
        call = json.loads(body) if status == 200 else {}
        if call.get("startTime") and call.get("activeTime"):
            start = datetime.fromisoformat(call["startTime"])
            found.append((datetime.fromisoformat(call["activeTime"]) - start).total_seconds())
    return found


async def sipp_uac_step(uas: Sipp, rate: int, seconds: float, workdir: Path) -> Step:
    """The baseline: sipp's own UAC against the same UAS at the same rate, INVITE -> 200 per call."""
    step = Step(attempted=int(rate * seconds))
    run_dir = Path(tempfile.mkdtemp(prefix=f"sipp-uac-{rate}-", dir=workdir))
    shutil.copy(DATA / "uac_bye_wait.xml", run_dir)
    stats = run_dir / "stats.csv"
    media = find_udp_block(4, 14_000, 20_000)
    command = ["sipp", "-sf", str(run_dir / "uac_bye_wait.xml"), f"127.0.0.1:{uas.port}"]
    command += ["-i", "127.0.0.1", "-p", str(free_port()), "-mi", "127.0.0.1", "-mp", str(media)]
    command += ["-r", str(rate), "-m", str(step.attempted), "-l", "10000", "-nostdin"]
    command += ["-timeout", f"{int(seconds * 2 + 30)}s", "-trace_stat", "-stf", str(stats), "-fd", "1"]
    command += ["-trace_rtt", "-rtt_freq", "1", "-buff_size", "4194304"]
    uas0 = uas.totals()
    peer_cpu0, wall0 = cpu_seconds(uas.proc.pid), time.monotonic()  # type: ignore[union-attr]
    proc = await asyncio.create_subprocess_exec(
        *command, cwd=run_dir, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    uac_cpu = 0.0
    try:
        async with asyncio.timeout(seconds * 2 + 60):
            while proc.returncode is None:  # the UAC's own CPU, sampled until it exits
                with contextlib.suppress(OSError, IndexError, ValueError):
                    uac_cpu = cpu_seconds(proc.pid)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.2):
                        await proc.wait()
    except TimeoutError:
        proc.kill()
        await proc.wait()
    wall = time.monotonic() - wall0
    # The window that matches ours is the sending one, but sipp's is a little longer (the last calls'
    # hold): shares are over the whole run.
    step.peer_cpu = (cpu_seconds(uas.proc.pid) - peer_cpu0) / wall  # type: ignore[union-attr]
    step.driver_cpu = uac_cpu / wall
    step.answered = sipp_totals(stats).get("SuccessfulCall", 0)
    step.failed = step.attempted - step.answered
    await asyncio.sleep(1.1)  # the UAS's stats file catches up
    step.uas = {name: value - uas0.get(name, 0) for name, value in uas.totals().items()}
    for rtt in run_dir.glob("*_rtt.csv"):
        for line in rtt.read_text().splitlines()[1:]:
            parts = line.split(";")
            if len(parts) >= 2:
                step.latencies.append(float(parts[1]) / 1000)
    return step


async def setup_rate(
    args: argparse.Namespace, workdir: Path
) -> tuple[list[tuple[int, Step | None, Step]], list[str]]:
    """Part 1: each rate through the API, then through sipp's UAC; (rate, ours, sipp's) per rate."""
    rtp_low = find_udp_block(args.rtp_ports, 21_000, 32_000)
    server, creds = start_server(workdir, rtp_low, rtp_low + args.rtp_ports - 1)
    uas = Sipp("uas_answer_bye.xml", workdir).start()
    receiver = CallbackReceiver()
    await receiver.start()
    api = HttpPool(server.port, creds)
    rows: list[tuple[int, Step | None, Step]] = []
    print(
        f"\n1. call setup rate: {args.seconds:g} s per rate, callee holds {HOLD_SECONDS:g} s then BYE; "
        f"load {loadavg()}"
    )
    head = ("calls/s", "tried", "answered", "failed", "p50 ms", "p99 ms", "srv CPU", "CPU ms/c")
    print(f"{'':<10}" + "".join(f"{h:>10}" for h in (*head, "uas CPU", "gen CPU")))
    try:
        ours_stopped = False
        for n, rate in enumerate(args.rates):
            ours = None
            if not ours_stopped:
                ours = await api_step(api, receiver, server, creds, uas, rate, args.seconds, f"r{n}")
                print_step("trebuchet", rate, ours)
            theirs = await sipp_uac_step(uas, rate, args.seconds, workdir)
            print_step("sipp uac", rate, theirs)
            rows.append((rate, ours, theirs))
            print("\n".join(f"          {note}" for note in step_notes(ours, theirs)))
            if ours is not None and not ours.sustained:
                why = [f"{ours.failed_share:.1%} failed"] + ([] if ours.kept_up else ["p99 over 1 s"])
                print("          Trebuchet stops here: " + ", ".join(why) + "; sipp's UAC goes on alone")
                ours_stopped = True
                if ours.unfinished:
                    await leftovers(api, creds, ours.unfinished)
            if not theirs.sustained:
                print("          sipp's UAC stops here")
                break
    finally:
        await wait_delivered(api, 15)
        api.close()
        await receiver.close()
        complaints = uas.unexpected()
        uas.stop()
        problems = server_problems(server, "part1")
        server.stop()
    for text, count in complaints.most_common(5):
        print(f"sipp UAS: {count} x {text}")
    return rows, problems


def print_step(name: str, rate: int, step: Step) -> None:
    """One row of part 1's table."""
    per_call = "-" if step.cpu_ms_per_call != step.cpu_ms_per_call else f"{step.cpu_ms_per_call:.1f}"
    print(
        f"{name:<10}{rate:>10}{step.attempted:>10}{step.answered:>10}{step.failed:>10}"
        f"{ms(pct(step.latencies, 0.5)):>10}{ms(pct(step.latencies, 0.99)):>10}"
        f"{share(step.server_cpu):>10}{per_call:>10}{share(step.peer_cpu):>10}{share(step.driver_cpu):>10}"
    )


def step_notes(ours: Step | None, theirs: Step) -> list[str]:
    """What else a step showed: POST latency, odd statuses and causes, leftovers, sipp's complaints."""
    notes = []
    if ours is not None:
        notes.append(
            f"POST due->201 p50 {ms(pct(ours.post_latencies, 0.5))} ms, "
            f"p99 {ms(pct(ours.post_latencies, 0.99))} ms; server's startTime->activeTime "
            f"p50 {ms(pct(ours.server_answer, 0.5))} ms, max {ms(pct(ours.server_answer, 1.0))} ms "
            f"({len(ours.server_answer)} calls)"
        )
        if set(ours.statuses) - {201}:
            notes.append(f"POST statuses {dict(ours.statuses)}")
        if any(ours.sip_drops.values()):
            notes.append(f"datagrams dropped by the SIP sockets (full receive buffer): {ours.sip_drops}")
        if set(ours.causes) - {"NORMAL_CLEARING"}:
            notes.append(f"hangup causes {dict(ours.causes)}")
        if ours.missing_answer or ours.missing_hangup:
            notes.append(f"no answer event {ours.missing_answer}, no hangup event {ours.missing_hangup}")
        if any(ours.left_live.get(kind, 0) for kind in LIVE_KINDS) or not ours.left_live:
            live = {kind: ours.left_live.get(kind) for kind in LIVE_KINDS}
            notes.append(f"still live 15 s after the step: {live}")
    for name, step in (("ours", ours), ("sipp's", theirs)):
        if step is not None and any(step.uas.get(k) for k in SIPP_COUNTERS[1:]):
            counted = {k: v for k, v in step.uas.items() if v}
            notes.append(f"sipp UAS during {name}: {counted}")
    notes.append(f"load {loadavg()}")
    return notes


async def leftovers(api: HttpPool, creds: Credentials, call_ids: list[str]) -> None:
    """Calls of the last step that never got a hangup event: still live a while later? In what state?"""
    counts = await wait_idle(api, 45)
    states: Counter[str] = Counter()
    for call_id in call_ids[:50]:
        status, _, body = await api.request("GET", f"/v1/users/{creds.user_id}/calls/{call_id}")
        states[json.loads(body).get("state", "?") if status == 200 else f"HTTP {status}"] += 1
    live = {kind: counts.get(kind) for kind in LIVE_KINDS}
    print(
        f"          {len(call_ids)} calls had no hangup event; 45 s later the engine has live {live}; "
        f"states of {min(len(call_ids), 50)} of them: {dict(states)}"
    )


# -- 2. simultaneous answered calls with RTP ---------------------------------------------------------


@dataclass
class Level:
    """One level of part 2: how many calls were live and what it cost."""

    calls: int
    answered: int = 0
    live: dict[str, int] = field(default_factory=dict)
    server_cpu: float = float("nan")
    sipp_cpu: float = float("nan")
    driver_cpu: float = float("nan")
    udp_in_per_s: float = 0.0
    drops: dict[str, int] = field(default_factory=dict)  # by the server's RTP sockets, by sipp's
    early_hangups: int = 0
    baseline_cpu: float = float("nan")
    baseline_received: float = float("nan")

    @property
    def up(self) -> bool:
        return (
            self.answered == self.calls
            and self.early_hangups == 0
            and all(self.live.get(kind) == self.calls for kind in LIVE_KINDS)
        )

    @property
    def held(self) -> bool:
        return self.up and self.server_cpu < 0.9


def rtp_load_baseline(sessions: int, seconds: float) -> dict[str, float]:
    """bench/rtp_load.py's media stack alone with `sessions` sessions (its own process)."""
    command = [sys.executable, "-m", "bench.rtp_load", "--mode", "stack"]
    done = subprocess.run(
        [*command, "--sessions", str(sessions), "--seconds", str(seconds)],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if done.returncode == 0 and lines else {}


async def held_calls(
    args: argparse.Namespace, workdir: Path
) -> tuple[list[Level], dict[str, object], list[str]]:
    """Part 2: ramp live answered calls level by level, measure, hang all up, then the baselines."""
    rtp_low = find_udp_block(args.rtp_ports, 21_000, 32_000)
    server, creds = start_server(workdir, rtp_low, rtp_low + args.rtp_ports - 1)
    uas = Sipp("uas_answer_hold.xml", workdir, echo=True).start()
    receiver = CallbackReceiver()
    await receiver.start()
    api = HttpPool(server.port, creds)
    path = f"/v1/users/{creds.user_id}/calls"
    ranges = {"server": (rtp_low, rtp_low + args.rtp_ports - 1), "sipp": (uas.media, uas.media + 3)}
    levels: list[Level] = []
    ending: dict[str, object] = {}
    pids = (server.proc.pid, uas.proc.pid, os.getpid())  # type: ignore[union-attr]
    print(
        f"\n2. simultaneous answered calls, RTP both ways (sipp -rtp_echo), ramp {args.ramp_rate}/s, "
        f"CPU over {args.measure:g} s; load {loadavg()}"
    )
    head = ("calls", "up", "srv CPU", "sipp CPU", "gen CPU", "UDP in/s", "expected", "srv drop", "sipp drop")
    print("".join(f"{h:>10}" for h in head))
    tags: list[str] = []
    started = time.monotonic()
    try:
        for target in [0, *args.levels]:
            if time.monotonic() - started > args.budget:
                print(f"stop: the {args.budget:g} s budget for this part is spent")
                break
            level = Level(target)
            new = [f"h-{n}" for n in range(len(tags), target)]
            bodies: list[dict[str, object]] = [
                {"from": CALLER, "to": uas.uri, "callbackUrl": receiver.url, "tag": tag} for tag in new
            ]
            ramp = Step()
            await post_calls(api, path, bodies, args.ramp_rate, ramp)
            tags += new
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                level.answered = sum(
                    1 for tag in tags if (seen := receiver.calls.get(tag)) and seen.answer_at
                )
                if level.answered >= target:
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(args.settle)
            drops0 = udp_socket_drops(ranges)
            cpu0, udp0, wall0 = [cpu_seconds(pid) for pid in pids], udp_counters(), time.monotonic()
            await asyncio.sleep(args.measure)
            cpu1, udp1, wall1 = [cpu_seconds(pid) for pid in pids], udp_counters(), time.monotonic()
            wall = wall1 - wall0
            level.server_cpu, level.sipp_cpu, level.driver_cpu = (
                (b - a) / wall for a, b in zip(cpu0, cpu1, strict=True)
            )
            level.udp_in_per_s = (udp1["InDatagrams"] - udp0["InDatagrams"]) / wall
            level.drops = {k: v - drops0[k] for k, v in udp_socket_drops(ranges).items()}
            level.live = await live_counts(api)
            level.early_hangups = sum(
                1 for tag in tags if (seen := receiver.calls.get(tag)) and seen.hangup_at
            )
            levels.append(level)
            expected = target * 100  # 50 packets/s from us to sipp and 50 echoed back, per call
            print(
                f"{target:>10}{'yes' if level.up else 'NO':>10}"
                f"{level.server_cpu:>10.0%}{level.sipp_cpu:>10.0%}"
                f"{level.driver_cpu:>10.0%}{level.udp_in_per_s:>10,.0f}{expected:>10,}"
                f"{level.drops['server']:>10}{level.drops['sipp']:>10}"
            )
            if not level.up:
                print(
                    f"          answered {level.answered}/{target}, hung up early {level.early_hangups}, "
                    f"live {level.live}, POST statuses {dict(ramp.statuses)}"
                )
            if not level.held:
                print("          stop: " + ("calls not all up" if not level.up else "server CPU >= 90%"))
                break
        ending = await hang_up_all(api, receiver, path, tags)
    finally:
        await wait_delivered(api, 15)
        api.close()
        await receiver.close()
        problems = server_problems(server, "part2")
        server.stop()
        complaints = uas.unexpected()
        uas.stop()
    for text, count in complaints.most_common(5):
        print(f"sipp UAS: {count} x {text}")
    print(
        f"hung up {ending.get('requested')} calls through the API, 32 requests at a time: POSTs done in "
        f"{ending.get('posted', 0):.1f} s, hangup events in {ending.get('events', 0):.1f} s, idle in "
        f"{ending.get('seconds', 0):.1f} s; statuses {ending.get('statuses')}, hangup events "
        f"{ending.get('hangups')} (causes {ending.get('causes')}); live afterwards {ending.get('live')}"
    )
    if args.baseline:
        print(f"baseline: bench/rtp_load.py --mode stack, {args.measure:g} s each")
        print(f"{'sessions':>10}{'CPU':>10}{'received':>10}{'engine':>10}")
        for level in levels:
            if level.calls == 0:
                continue
            result = rtp_load_baseline(level.calls, args.measure)
            level.baseline_cpu = result.get("cpu", float("nan"))
            level.baseline_received = result.get("received_share", float("nan"))
            print(
                f"{level.calls:>10}{level.baseline_cpu:>10.0%}{level.baseline_received:>10.1%}"
                f"{level.server_cpu:>10.0%}"
            )
    return levels, ending, problems


async def hang_up_all(
    api: HttpPool, receiver: CallbackReceiver, path: str, tags: list[str]
) -> dict[str, object]:
    """POST {"state": "completed"} to every call (32 at a time), then wait for hangups and idle counts."""
    began = time.monotonic()
    statuses: Counter[int] = Counter()
    slots = asyncio.Semaphore(32)
    ids = [seen.call_id for tag in tags if (seen := receiver.calls.get(tag)) and seen.call_id]

    async def one(call_id: str) -> None:
        async with slots:
            status, _, _ = await api.request("POST", f"{path}/{call_id}", {"state": "completed"})
            statuses[status] += 1

    await asyncio.gather(*(one(call_id) for call_id in ids))
    posted = time.monotonic() - began
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if all((seen := receiver.calls.get(tag)) and seen.hangup_at for tag in tags):
            break
        await asyncio.sleep(0.1)
    events = time.monotonic() - began
    live = await wait_idle(api, 30)
    causes = Counter(str(seen.cause) for tag in tags if (seen := receiver.calls.get(tag)) and seen.hangup_at)
    return {
        "requested": len(ids),
        "posted": posted,
        "events": events,
        "seconds": time.monotonic() - began,
        "statuses": dict(statuses),
        "hangups": sum(causes.values()),
        "causes": dict(causes),
        "live": {kind: live.get(kind) for kind in (*LIVE_KINDS, "sip_transactions", "stuck_transactions")},
    }


# -- the run -----------------------------------------------------------------------------------------


def summary(rows: list[tuple[int, Step | None, Step]], levels: list[Level]) -> None:
    """The headline figures of both parts."""
    print("\nsummary")
    ours = max((rate for rate, step, _ in rows if step is not None and step.sustained), default=0)
    theirs = max((rate for rate, _, step in rows if step.sustained), default=0)
    top = " (the top rate tried)" if rows and theirs == rows[-1][0] and rows[-1][2].sustained else ""
    print(
        f"  highest rate with < 1% failed calls and p99 < {P99_LIMIT:g} s: Trebuchet {ours}/s, "
        f"sipp UAC {theirs}/s{top}"
    )
    for rate, mine, base in rows:
        if mine is not None and mine.latencies and base.latencies:
            print(
                f"  {rate}/s: POST->answer p50 {ms(pct(mine.latencies, 0.5))} ms vs sipp INVITE->200 p50 "
                f"{ms(pct(base.latencies, 0.5))} ms (sipp counts whole ms); server CPU "
                f"{mine.cpu_ms_per_call:.1f} ms per call"
            )
    held = [level for level in levels if level.held and level.calls]
    if held:
        top_level = held[-1]
        print(
            f"  most simultaneous answered calls held, all up, server CPU < 90%: {top_level.calls} "
            f"(server {top_level.server_cpu:.0%} of a core; "
            f"the media stack alone {share(top_level.baseline_cpu)})"
        )
    else:
        print("  no level of simultaneous calls was held")


def main() -> None:
    """Parse flags (--quick picks short defaults), run the parts, print the summary."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--rates", help="calls/s per step (default 10,20,30,40,50,75,100,150,200)")
    parser.add_argument("--seconds", type=float, help="seconds per rate (default 10)")
    parser.add_argument("--levels", help="live call levels (default 50,100,200,400,600,800,1000)")
    parser.add_argument("--ramp-rate", type=int, help="calls/s while ramping to a level (default 50)")
    parser.add_argument("--measure", type=float, help="seconds of CPU measurement per level (default 5)")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip rtp_load")
    parser.add_argument("--only", choices=["setup", "held"], help="run one part")
    args = parser.parse_args()
    quick = args.quick
    args.rates = [
        int(r) for r in (args.rates or ("10,25" if quick else "10,20,30,40,50,75,100,150,200")).split(",")
    ]
    args.seconds = args.seconds or (3.0 if quick else 10.0)
    args.levels = [
        int(n) for n in (args.levels or ("20,50" if quick else "50,100,200,400,600,800,1000")).split(",")
    ]
    args.ramp_rate = args.ramp_rate or 50
    args.measure = args.measure or (2.0 if quick else 5.0)
    args.settle = 1.0 if quick else 2.0
    args.budget = 60.0 if quick else 240.0
    args.rtp_ports = 2 * max([*args.levels, max(args.rates) * 3]) + 200
    if shutil.which("sipp") is None:
        sys.exit("sipp is missing: apt-get install sip-tester")
    print(f"{os.cpu_count()} CPUs, load average {loadavg()} at start")
    rows: list[tuple[int, Step | None, Step]] = []
    levels: list[Level] = []
    with tempfile.TemporaryDirectory(prefix="bench-calls-", dir="/tmp") as tmp:
        if args.only in (None, "setup"):
            rows, problems = uvloop.run(setup_rate(args, Path(tmp)))
            if problems:
                print("server log, part 1:\n  " + "\n  ".join(problems))
        if args.only in (None, "held"):
            levels, _, problems = uvloop.run(held_calls(args, Path(tmp)))
            if problems:
                print("server log, part 2:\n  " + "\n  ".join(problems))
    summary(rows, levels)
    print(f"load average at the end {loadavg()}")


if __name__ == "__main__":
    main()
