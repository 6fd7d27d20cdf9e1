"""The SIP stack's figures: parsing and serialising, call setup rate, and RTP sessions per process.

1. Parse and serialise throughput on four messages, with the stdlib e-mail header parser as baseline.
2. Call setup rate: `sipp -sn uac -r RATE` places calls (INVITE, 200, ACK, BYE, 200; no media) on our
   UAS (bench/sip_uas.py) and, as the baseline in the same run, on sipp's own UAS (`sipp -sn uas`).
   Each rate runs for a fixed number of seconds; the figure is the highest rate with < 1% failed calls.
3. RTP sessions: N sessions in one process on the shared frame clock, 50 packets/s each way, against a
   bare asyncio UDP path as the baseline (bench/rtp_load.py), with CPU share and late ticks.

    .venv/bin/python -m bench.sip [--rates 100,200,400,800] [--seconds 5] [--sessions 250,500,1000]

Everything runs on loopback and stops by itself (each step is bounded in time and count).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support import free_port

from trebuchet.sip import parse

from .sip_parse import BYE, INVITE, LONGREQ, OK_200, best_time


def parsing() -> None:
    from email.parser import BytesHeaderParser

    baseline = BytesHeaderParser()
    print(f"{'message':<18}{'parse µs':>10}{'msg/s':>10}{'serialise µs':>14}{'msg/s':>10}{'vs email':>10}")
    for label, data in (
        ("INVITE + SDP", INVITE),
        ("200 OK", OK_200),
        ("BYE", BYE),
        ("RFC 4475 longreq", LONGREQ.read_bytes()),
    ):
        message = parse(data)
        parse_time = best_time(parse, data, 0.3, 30_000)
        write_time = best_time(lambda _d, m=message: m.to_bytes(), data, 0.3, 30_000)
        base = best_time(baseline.parsebytes, data, 0.3, 30_000)
        print(
            f"{label:<18}{parse_time * 1e6:>10.1f}{1 / parse_time:>10,.0f}{write_time * 1e6:>14.1f}"
            f"{1 / write_time:>10,.0f}{parse_time / base:>10.2f}"
        )


def _run_uac(port: int, rate: int, seconds: float, workdir: Path) -> tuple[int, int]:
    """(successful, failed) calls of one sipp uac run at `rate` calls/s for `seconds`."""
    stats = workdir / f"uac-{port}-{rate}.csv"
    calls = int(rate * seconds)
    subprocess.run(
        [
            "sipp",
            "-sn",
            "uac",
            f"127.0.0.1:{port}",
            "-i",
            "127.0.0.1",
            "-p",
            str(free_port()),
            "-r",
            str(rate),
            "-m",
            str(calls),
            "-d",
            "0",
            "-nostdin",
            "-timeout",
            str(int(seconds * 4 + 20)),
            "-trace_stat",
            "-stf",
            str(stats),
            "-fd",
            "1",
            "-l",
            str(max(rate * 4, 100)),
        ],
        capture_output=True,
        timeout=seconds * 4 + 60,
        check=False,
    )
    with stats.open() as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    last = rows[-1]
    return int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"])


def call_setup(rates: list[int], seconds: float) -> None:
    print(f"\n{'rate calls/s':<14}{'Trebuchet ok':>14}{'failed':>8}{'sipp uas ok':>14}{'failed':>8}")
    best = {"trebuchet": 0, "sipp": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for rate in rates:
            row = []
            for kind in ("trebuchet", "sipp"):
                port = free_port()
                if kind == "trebuchet":
                    server = subprocess.Popen(
                        [sys.executable, "-m", "bench.sip_uas", "--port", str(port)],
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                    server.stdout.readline()  # "ready PORT"
                else:
                    server = subprocess.Popen(
                        ["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(port), "-nostdin"],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    time.sleep(0.5)
                try:
                    ok, failed = _run_uac(port, rate, seconds, Path(tmp))
                finally:
                    server.kill()
                    server.wait()
                row.append((ok, failed))
                if ok and failed / (ok + failed) < 0.01:
                    best[kind] = max(best[kind], rate)
            (ours_ok, ours_failed), (sipp_ok, sipp_failed) = row
            print(f"{rate:<14}{ours_ok:>14}{ours_failed:>8}{sipp_ok:>14}{sipp_failed:>8}")
    ours, theirs = best["trebuchet"], best["sipp"]
    print(f"highest rate with < 1% failed calls: Trebuchet {ours}/s, sipp's own UAS {theirs}/s")


def rtp_sessions(counts: list[int], seconds: float) -> None:
    print(f"\n{'sessions':<10}{'stack CPU':>11}{'late ticks':>12}{'received':>10}{'bare CPU':>10}{'late':>8}")
    for count in counts:
        results = {}
        for mode in ("stack", "bare"):
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.rtp_load",
                    "--mode",
                    mode,
                    "--sessions",
                    str(count),
                    "--seconds",
                    str(seconds),
                ],
                capture_output=True,
                text=True,
                timeout=seconds + 120,
                check=True,
            )
            results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
        stack, bare = results["stack"], results["bare"]
        print(
            f"{count:<10}{stack['cpu']:>10.0%}{stack['late']:>12.1%}{stack['received_share']:>10.1%}"
            f"{bare['cpu']:>10.0%}{bare['late']:>8.1%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", default="100,200,400,800")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--sessions", default="250,500,1000")
    args = parser.parse_args()
    parsing()
    call_setup([int(r) for r in args.rates.split(",")], args.seconds)
    rtp_sessions([int(n) for n in args.sessions.split(",")], args.seconds)


if __name__ == "__main__":
    main()
