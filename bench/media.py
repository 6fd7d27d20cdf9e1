"""How many calls one process records at once: RTP sessions with a Recorder each, against the same sessions
not recording.

Pairs of RTP sessions on loopback (PCMU, 50 packets/s each way) in one SessionGroup on the shared frame
clock, as in bench/rtp_load.py. In mode `wav` or `mp3` every session also records: what it hears
(`on_audio`) and what it sends (`source`) go to its own Recorder, which commits one frame per tick and has
one-second blocks mixed, encoded and written by the writer thread. Mode `none` is the baseline: the same
sessions, no recorders. Measured after a one-second warm-up: CPU share of one core (the writer thread
included), ticks more than half a frame late, the worst lateness, frames the clock skipped; then every
recorder is closed and its file checked (length within 40 ms of the time it ran).

    .venv/bin/python -m bench.media                  # 250-1,000 sessions x none, wav, mp3 x 3 rounds, ~7 min
    .venv/bin/python -m bench.media --sessions 500 --seconds 5 --modes none,mp3 --repeat 1

Each run is a child process (`--child`), bounded in time; files go to a temporary directory, removed after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import uvloop

from trebuchet.media.clock import FrameClock
from trebuchet.media.ports import free_port_pair
from trebuchet.media.recorder import Recorder, Recording, Writer
from trebuchet.media.session import RtpSession, SessionGroup, open_session
from trebuchet.media.wav import Tone

from .rtp_load import cpu_seconds


def _sender(frame: np.ndarray, recorder: Recorder | None):
    """The session's source: a fixed tone frame, also handed to the recorder as what was sent."""
    if recorder is None:
        return lambda: frame

    def source() -> np.ndarray:
        recorder.send(frame)
        return frame

    return source


async def _pair(group: SessionGroup, recorders: list[Recorder | None]) -> list[RtpSession]:
    frames = Tone(440)(), Tone(1000)()
    for _attempt in range(5):  # a port found free may be taken by someone else before we bind it
        ports = free_port_pair(), free_port_pair()
        made: list[RtpSession] = []
        try:
            for index in (0, 1):
                recorder = recorders[index]
                made.append(
                    await open_session(
                        group,
                        ("127.0.0.1", ports[index]),
                        remote=("127.0.0.1", ports[1 - index]),
                        codec="PCMU",
                        payload_type=0,
                        source=_sender(frames[index], recorder),
                        on_audio=recorder.hear if recorder is not None else lambda _frame: None,
                    )
                )
        except OSError:
            for session in made:
                session.close()
            continue
        return made
    raise OSError("could not find free ports for a session pair")


async def run(mode: str, sessions: int, seconds: float, directory: Path) -> dict[str, object]:
    clock = FrameClock()
    writer = Writer()  # the shared one would do; its own keeps runs apart
    group = SessionGroup(clock)
    made: list[RtpSession] = []
    recorders: list[Recorder] = []
    for pair in range(sessions // 2):
        two: list[Recorder | None] = [None, None]
        if mode != "none":
            two = [
                Recorder(directory / f"call-{pair}-{side}.{mode}", file_format=mode, writer=writer)  # type: ignore[arg-type]
                for side in "ab"
            ]
            recorders += two  # type: ignore[arg-type]
        made += await _pair(group, two)
    clock.start()
    await asyncio.sleep(0.2)
    for recorder in recorders:  # after the sessions in the clock's order: a tick's frames, then the commit
        recorder.start(clock)
    await asyncio.sleep(1.0)  # warm-up: receive buffers filled, playout started, first blocks written
    ticks0, late0, cpu0, wall0 = clock.stats.ticks, clock.stats.late, cpu_seconds(), time.monotonic()
    clock.stats.worst_lateness = 0.0
    await asyncio.sleep(seconds)
    wall = time.monotonic() - wall0
    ticks, late = clock.stats.ticks - ticks0, clock.stats.late - late0
    cpu = cpu_seconds() - cpu0
    worst, skipped = clock.stats.worst_lateness, clock.stats.skipped
    closing = time.monotonic()
    results: list[Recording] = list(await asyncio.gather(*(recorder.close() for recorder in recorders)))
    close_seconds = time.monotonic() - closing
    await clock.stop()
    for session in made:
        session.close()
    good = sum(
        1
        for result in results
        if result.reason == "stopped"
        and abs(result.duration - (result.end_monotonic - result.start_monotonic)) <= 0.04
        and result.path.exists()
    )
    return {
        "mode": mode,
        "sessions": len(made),
        "cpu": cpu / wall,
        "late": late / max(ticks, 1),
        "worst_ms": worst * 1000,
        "skipped": skipped,
        "recordings_ok": good,
        "recordings": len(results),
        "bytes": sum(result.size for result in results),
        "close_s": close_seconds,
    }


def child(mode: str, sessions: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-media-") as directory:
        result = uvloop.run(run(mode, sessions, seconds, Path(directory)))
    print(json.dumps(result))


COLUMNS = ("sessions", "mode", "CPU", "late", "worst ms", "skipped", "files ok", "MB", "close s", "load")
WIDTHS = (8, 5, 6, 7, 9, 8, 10, 7, 8, 6)


def _line(r: dict[str, object]) -> str:
    files = f"{r['recordings_ok']}/{r['recordings']}" if r["recordings"] else "-"
    return (
        f"{r['sessions']:>8} {r['mode']:>5} {r['cpu']:>6.0%} {r['late']:>7.1%} {r['worst_ms']:>9.1f} "
        f"{r['skipped']:>8} {files:>10} {r['bytes'] / 1e6:>7.1f} {r['close_s']:>8.2f} {r['load']:>6.2f}"  # type: ignore[operator]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", default="250,500,750,1000", help="comma-separated session counts")
    parser.add_argument("--modes", default="none,wav,mp3")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3, help="rounds over every count and mode (medians)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.modes, int(args.sessions), args.seconds)
        return
    header = " ".join(f"{name:>{width}}" for name, width in zip(COLUMNS, WIDTHS, strict=True))
    print(header)
    runs: dict[tuple[int, str], list[dict[str, object]]] = {}
    for _round in range(args.repeat):  # rounds interleave the modes, so a burst of load hits all of them
        for count in [int(value) for value in args.sessions.split(",")]:
            for mode in args.modes.split(","):
                command = [sys.executable, "-m", "bench.media", "--child", "--modes", mode]
                command += ["--sessions", str(count), "--seconds", str(args.seconds)]
                done = subprocess.run(
                    command, capture_output=True, text=True, timeout=args.seconds + 180, check=True
                )
                result = json.loads(done.stdout.strip().splitlines()[-1])
                result["load"] = os.getloadavg()[0]  # the machine's 1-minute load average after the run
                runs.setdefault((count, mode), []).append(result)
                print(_line(result), flush=True)
    if args.repeat > 1:
        print(f"\nmedians of {args.repeat} rounds (files ok: the worst round)")
        print(header)
        for group in runs.values():
            summary = {key: statistics.median(r[key] for r in group) for key in ("cpu", "late", "worst_ms")}  # type: ignore[misc]
            summary |= {key: max(r[key] for r in group) for key in ("skipped", "close_s", "load")}  # type: ignore[type-var]
            summary["recordings_ok"] = min(r["recordings_ok"] for r in group)  # type: ignore[type-var]
            print(_line({**group[0], **summary}))


if __name__ == "__main__":
    main()
