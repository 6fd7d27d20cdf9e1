"""API throughput and latency: create, get and list calls against a table of 10,000 calls.

Runs the real server process on SQLite and on PostgreSQL, seeds the table directly, then drives each
operation with `wrk` (one thread, N connections, a fixed number of seconds each).
The baseline, measured in the same run on the same server, is GET /healthz: the cheapest request the
server answers, so `vs base` says what the calls work costs beyond HTTP and the client itself.

    .venv/bin/python -m bench.api [--concurrency 16] [--seconds 10]
                                  [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from tests.support import ServerProcess, create_postgres_database, drop_postgres_database

from trebuchet.domain.call import Call
from trebuchet.domain.clock import utcnow
from trebuchet.domain.ids import new_id
from trebuchet.store import users
from trebuchet.store.calls import call_row
from trebuchet.store.database import Database
from trebuchet.store.tables import calls

TABLE_SIZE = 10_000
NUMBERS = [f"+1919555{n:04d}" for n in range(50)]


@dataclass
class Result:
    name: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


LUA = """
local bodies = {%(bodies)s}
local paths = {%(paths)s}
request = function()
  local body = nil
  if #bodies > 0 then body = bodies[math.random(#bodies)] end
  return wrk.format("%(method)s", paths[math.random(#paths)], nil, body)
end
"""


def _lua_strings(items: list[str]) -> str:
    return ", ".join('"' + item.replace('"', '\\"') + '"' for item in items)


def _ms(text: str) -> float:
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    for unit in ("us", "ms", "s"):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    return float(text)


def wrk(
    name: str,
    base_url: str,
    method: str,
    paths: list[str],
    bodies: list[str],
    headers: dict[str, str],
    args: argparse.Namespace,
    workdir: Path,
) -> Result:
    """One operation under wrk for --seconds (wrk's own hard time bound; the count follows from it)."""
    script = workdir / "op.lua"
    script.write_text(LUA % {"bodies": _lua_strings(bodies), "paths": _lua_strings(paths), "method": method})
    command = [
        "wrk",
        "-t1",
        f"-c{args.concurrency}",
        f"-d{int(args.seconds)}s",
        "--latency",
        "-s",
        str(script),
    ]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    out = subprocess.run(
        [*command, base_url], capture_output=True, text=True, timeout=args.seconds + 30
    ).stdout
    values: dict[str, str] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("50%", "99%"):
            values[parts[0]] = parts[1]
        elif line.strip().startswith("Requests/sec:"):
            values["rps"] = parts[1]
        elif "requests in" in line:
            values["count"] = parts[0]
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            values["errors"] = parts[-1]
    return Result(
        name,
        int(values.get("count", 0)),
        float(values.get("rps", 0)),
        _ms(values.get("50%", "0")),
        _ms(values.get("99%", "0")),
        int(values.get("errors", 0)),
    )


async def seed(url: str) -> tuple[str, str, str, list[str]]:
    db = Database(url)
    await db.migrate()
    async with db.write() as conn:
        user = await users.create_user(conn, call_rate_limit=0, api_rate_limit=0)
    start = utcnow() - timedelta(days=1)
    ids = []
    rows = []
    for n in range(TABLE_SIZE):
        call = Call(
            id=new_id("call"),
            user_id=user.user.id,
            direction="out",
            from_=NUMBERS[n % len(NUMBERS)],
            to=f"sip:callee{n}@127.0.0.1",
            state="completed",
            start_time=start + timedelta(seconds=n),
            end_time=start + timedelta(seconds=n + 30),
            cause="NORMAL_CLEARING",
            tag=f"seed-{n}",
        )
        ids.append(call.id)
        rows.append(call_row(call))
    async with db.write() as conn:
        for chunk in range(0, len(rows), 1000):
            await conn.execute(calls.insert(), rows[chunk : chunk + 1000])
    await db.dispose()
    return user.user.id, user.user.token, user.secret, ids


def measure(
    server: ServerProcess, creds: tuple[str, str, str, list[str]], args: argparse.Namespace, workdir: Path
) -> list[Result]:
    user_id, token, secret, ids = creds
    base = f"/v1/users/{user_id}/calls"
    auth = "Basic " + base64.b64encode(f"{token}:{secret}".encode()).decode()
    headers = {"Authorization": auth, "Content-Type": "application/json"}
    creates = [json.dumps({"from": number, "to": "+19195550000"}) for number in NUMBERS]
    sample = random.sample(ids, 500)
    scenarios = [
        ("baseline GET /healthz", "GET", ["/healthz"], []),
        ("create POST /calls", "POST", [base], creates),
        ("get GET /calls/{id}", "GET", [f"{base}/{call_id}" for call_id in sample], []),
        ("list GET /calls?page=N", "GET", [f"{base}?size=25&page={n}" for n in range(100)], []),
        ("list GET /calls?from=X", "GET", [f"{base}?size=25&from=%2B{n[1:]}" for n in NUMBERS], []),
    ]
    return [
        wrk(name, server.base_url, method, paths, bodies, headers, args, workdir)
        for name, method, paths, bodies in scenarios
    ]


def run_backend(kind: str, args: argparse.Namespace) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        url = (
            f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            if kind == "sqlite"
            else create_postgres_database()
        )
        try:
            creds = asyncio.run(seed(url))
            server = ServerProcess(data_dir=Path(tmp) / "data", database_url=url).start()
            try:
                return measure(server, creds, args, Path(tmp))
            finally:
                server.stop(signal.SIGKILL)  # skip closing 10k never-dialled calls at shutdown
        finally:
            if kind != "sqlite":
                drop_postgres_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0, help="time bound per operation")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    if shutil.which("wrk") is None:  # Debian's wrk drives the load: a Python client tops out first
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    print(
        f"table: {TABLE_SIZE} calls; {args.seconds:g} s per operation, {args.concurrency} connections (wrk)"
    )
    for kind in args.backends.split(","):
        results = run_backend(kind, args)
        baseline = results[0].rps
        print(f"\n{kind}")
        header = ("operation", "requests", "req/s", "p50 ms", "p99 ms", "vs base", "errors")
        print(f"{header[0]:<26}" + "".join(f"{h:>9}" for h in header[1:]))
        for r in results:
            print(
                f"{r.name:<26}{r.requests:>9}{r.rps:>9.0f}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}"
                f"{r.rps / baseline:>9.2f}{r.errors:>9}"
            )


if __name__ == "__main__":
    main()
