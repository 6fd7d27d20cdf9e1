"""What mixing (bridges and conferences, media/mixer.py) costs on the frame clock, and how many bridged
call pairs one process holds.

1. Tick cost (`ticks`): real RtpSessions (`open_session` on 127.0.0.1, PCMU) in one SessionGroup on the
   running FrameClock, each fed by a far end in a separate peer process that sends G.711 RTP every 20 ms
   and takes what comes back. Every `SessionGroup.tick` is timed (median, p99). Bridges: a fixed number
   of sessions, 0 to all of them bridged in pairs through `Mix`es; the rest are wired as the controller
   wires a call with nothing going on (no hooks: no decode, the silence payload sent). Conferences: a
   fixed number of members cut into conferences of 2 to 20, with and without conference audio playing
   (`mix.play(FilePlayer(...))`). Baseline: the same number of sessions, none mixed, in the same run.
2. `Mix.mix()` alone (`micro`): no sockets, µs per call for 2 to 20 speakers (also with audio playing,
   with one member's talk gain set, with every member's noise gate on), against the same arithmetic
   done as bare numpy (stack, sum, subtract each row, clip) without ports.
3. Capacity (`capacity`): bridged pairs on the frame clock, stepped up until 1% or more of the frames
   are late (a tick run more than half a frame after it was due, or skipped); the largest passing count.
   Baseline at each step: the same sessions, not bridged.

Calls in a mix are wired as `CallController._wire` does: `on_audio` stores the frame in `port.heard`,
`source` returns `port.output`. Everything binds and sends on 127.0.0.1 only, ports from
`free_port_pair` (RTP and the RTCP port above); each measurement is a child process bounded in time.

    .venv/bin/python -m bench.mix                   # all three parts, about 6 minutes
    .venv/bin/python -m bench.mix --repeat 3        # tick runs in 3 rounds (medians), about 10 minutes
    .venv/bin/python -m bench.mix --quick           # smoke run, about a minute
    .venv/bin/python -m bench.mix --parts capacity --steps 400,500,600,700 --capacity-seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import uvloop

from trebuchet.media import FRAME_SAMPLES
from trebuchet.media.audio_files import FilePlayer
from trebuchet.media.clock import FrameClock
from trebuchet.media.g711 import encode_mulaw
from trebuchet.media.mixer import Mix, MixPort, clip, tone
from trebuchet.media.ports import free_port_pair
from trebuchet.media.rtp import RTP_HEADER
from trebuchet.media.session import RtpSession, SessionGroup, open_session

from .rtp_load import CountingPeer, cpu_seconds

HOST = "127.0.0.1"
FRAME = 0.02
GC_FREEZE = True  # set from --no-gc-freeze
WARM_UP = 1.0  # receive buffers filled, playout started, first RTCP reports out
SLICES = 10  # the far ends send in this many groups, 2 ms apart


def _more_files() -> None:
    """Thousands of sessions hold two sockets each: raise the soft descriptor limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- the far ends: a separate process, so that the server's figures are its own ------------------------------


async def _bind_pair(loop: asyncio.AbstractEventLoop) -> tuple[CountingPeer, CountingPeer, int]:
    """RTP on an even free port and RTCP above it, so our sessions' reports land on a socket of ours."""
    for _attempt in range(5):  # a port found free may be taken by someone else before we bind it
        port = free_port_pair(HOST)
        try:
            _, rtp = await loop.create_datagram_endpoint(CountingPeer, local_addr=(HOST, port))
        except OSError:
            continue
        try:
            _, rtcp = await loop.create_datagram_endpoint(CountingPeer, local_addr=(HOST, port + 1))
        except OSError:
            rtp.transport.close()  # type: ignore[union-attr]
            continue
        return rtp, rtcp, port
    raise OSError("could not find free ports for a far end")


def _payloads(kinds: int = 8, frames: int = 50) -> list[list[bytes]]:
    """Real PCMU audio: a few one-second tones, 50 frames each, so the decoded frames are not silence."""
    out = []
    for index in range(kinds):
        samples = tone([(200.0 + 75.0 * index, frames * FRAME)], level=0.2)
        cut = [samples[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES] for i in range(frames)]
        out.append([encode_mulaw(frame) for frame in cut])
    return out


async def peer(count: int) -> dict[str, float]:
    """`count` far ends: bind, print the ports, read where to send and for how long, send RTP every 20 ms."""
    loop = asyncio.get_running_loop()
    ends = [await _bind_pair(loop) for _ in range(count)]
    print(json.dumps({"ports": [port for _, _, port in ends]}), flush=True)
    order = json.loads(sys.stdin.readline())  # blocking on purpose: nothing runs until the server is ready
    targets = [(HOST, port) for port in order["ports"]]
    seconds = min(float(order["seconds"]), 600.0)
    payloads = _payloads()
    streams = [
        (rtp.transport, target, 0x10000 + index, payloads[index % len(payloads)])
        for index, ((rtp, _, _), target) in enumerate(zip(ends, targets, strict=True))
    ]
    # Phones are not in step with us or with each other: each slice of the far ends sends at its own
    # offset in the 20 ms, so packets arrive spread over the frame, not in one burst just before a tick.
    slices = [streams[part::SLICES] for part in range(SLICES)]
    step, pack = FRAME / SLICES, RTP_HEADER.pack
    start, sub, ticks, late, skipped = loop.time(), 0, 0, 0, 0
    while sub * step < seconds:
        due = start + sub * step
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lateness = loop.time() - due
        late += lateness > FRAME / 2
        behind = int(lateness / step)
        if behind > 5 * SLICES:  # as the FrameClock does: give up on frames rather than send a burst
            skipped += behind
            sub += behind
        tick, part = divmod(sub, SLICES)
        header_seq, timestamp, which = tick & 0xFFFF, (tick * FRAME_SAMPLES) & 0xFFFFFFFF, tick % 50
        for transport, target, ssrc, frames in slices[part]:
            transport.sendto(pack(0x80, 0, header_seq, timestamp, ssrc) + frames[which], target)  # type: ignore[union-attr]
        ticks += 1
        sub += 1
    await asyncio.sleep(0.1)  # the last packets our sessions sent
    received = sum(rtp.received for rtp, _, _ in ends)
    for rtp, rtcp, _ in ends:
        rtp.transport.close()  # type: ignore[union-attr]
        rtcp.transport.close()  # type: ignore[union-attr]
    return {"ticks": ticks, "late": late / max(ticks, 1), "skipped": skipped, "received": received}


# -- the server side: sessions in one group, wired as the controller wires them ------------------------------


class Leg:
    """A call in a mix, hooked up as `CallController._wire` does it (no recorder, nothing playing to it
    alone): `_heard` stores the frame in the port, `_outgoing` sends the port's output."""

    __slots__ = ("port",)

    def __init__(self, port: MixPort) -> None:
        self.port = port

    def heard(self, frame: np.ndarray) -> None:
        self.port.heard = frame

    def outgoing(self) -> np.ndarray | None:
        return self.port.output


class Crossed:
    """Two sessions cross-wired by hand, without a Mix: the codec work of a bridge and none of the mixing."""

    __slots__ = ("frame",)

    def __init__(self) -> None:
        self.frame: np.ndarray | None = None

    def heard(self, frame: np.ndarray) -> None:
        self.frame = frame

    def outgoing(self) -> np.ndarray | None:
        return self.frame


@dataclass
class Layout:
    """What one run holds: `idle` sessions in no mix, and `count` mixes of `size` calls for each entry."""

    idle: int
    mixes: list[tuple[int, int, str]]  # (size, count, kind): kind "mix", "audio" (mix + FilePlayer), "direct"

    @property
    def sessions(self) -> int:
        return self.idle + sum(size * count for size, count, _ in self.mixes)


def _wire(group: SessionGroup, sessions: list[RtpSession], layout: Layout) -> int:
    """Hook sessions[idle:] up in their mixes; the first `idle` stay as opened. Returns the mix count."""
    music = tone([(330.0, 0.5), (440.0, 0.5), (550.0, 1.0)], level=0.1)
    at, mixes = layout.idle, 0
    for size, count, kind in layout.mixes:
        for _ in range(count):
            members, at = sessions[at : at + size], at + size
            if kind == "direct":
                first, second = Crossed(), Crossed()
                members[0].on_audio, members[1].source = first.heard, first.outgoing
                members[1].on_audio, members[0].source = second.heard, second.outgoing
                continue
            mix = Mix()
            for index, session in enumerate(members):
                leg = Leg(mix.join(f"call-{index}"))
                session.on_audio, session.source = leg.heard, leg.outgoing
            if kind == "audio":
                mix.play(FilePlayer(music, loop=True))
            group.add_mix(mix)
            mixes += 1
    return mixes


async def _open(group: SessionGroup, remote: int) -> RtpSession:
    for _attempt in range(5):  # a port found free may be taken by someone else before we bind it
        try:
            return await open_session(
                group, (HOST, free_port_pair(HOST)), remote=(HOST, remote), codec="PCMU", payload_type=0
            )
        except OSError:
            continue
    raise OSError("could not find free ports for a session")


async def serve(layout: Layout, seconds: float, gc_freeze: bool = False) -> dict[str, object]:
    """One run: far ends in a child process, our sessions on the clock, every group tick timed.
    `gc_freeze`: what the server does once started (gc.freeze), so collections skip what is loaded."""
    peer_process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.mix",
        "--child-peer",
        str(layout.sessions),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        limit=1 << 22,
    )
    assert peer_process.stdin is not None and peer_process.stdout is not None
    clock = FrameClock()
    group = SessionGroup(clock)
    sessions: list[RtpSession] = []
    try:
        line = await asyncio.wait_for(peer_process.stdout.readline(), 120)
        for remote in json.loads(line)["ports"]:
            sessions.append(await _open(group, remote))
        mixes = _wire(group, sessions, layout)
        if gc_freeze:
            gc.collect()
            gc.freeze()
        durations: list[float] = []  # wall time of each tick
        cpu_times: list[float] = []  # CPU time of each (the wall time less any time the core was elsewhere)

        def timed(tick: int) -> None:
            began, began_cpu = time.perf_counter(), time.thread_time()
            group.tick(tick)
            cpu_times.append(time.thread_time() - began_cpu)
            durations.append(time.perf_counter() - began)

        clock.add(group, timed)  # takes the place of the group's own job
        order = {"ports": [session.local_port for session in sessions], "seconds": WARM_UP + seconds + 0.5}
        peer_process.stdin.write(json.dumps(order).encode() + b"\n")
        await peer_process.stdin.drain()
        clock.start()
        await asyncio.sleep(WARM_UP)
        durations.clear()
        cpu_times.clear()
        ticks0, late0, skipped0 = clock.stats.ticks, clock.stats.late, clock.stats.skipped
        received0 = sum(session.stats.received for session in sessions)
        cpu0, wall0 = cpu_seconds(), time.monotonic()
        clock.stats.worst_lateness = 0.0
        await asyncio.sleep(seconds)
        wall, cpu = time.monotonic() - wall0, cpu_seconds() - cpu0
        ticks, late = clock.stats.ticks - ticks0, clock.stats.late - late0
        skipped, worst = clock.stats.skipped - skipped0, clock.stats.worst_lateness
        received = sum(session.stats.received for session in sessions) - received0
        sent = sum(session.stats.sent for session in sessions)
        await clock.stop()
        out, _ = await asyncio.wait_for(peer_process.communicate(), 60)
        far = json.loads(out.decode().strip().splitlines()[-1])
    finally:
        await clock.stop()
        for session in sessions:
            session.close()
        if peer_process.returncode is None:
            peer_process.kill()
            await peer_process.wait()
    ordered, cpu_ordered = sorted(durations), sorted(cpu_times)
    return {
        "sessions": len(sessions),
        "mixes": mixes,
        "ticks": ticks,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "cpu_p50_ms": statistics.median(cpu_ordered) * 1000,
        "cpu_p99_ms": cpu_ordered[min(len(cpu_ordered) - 1, int(len(cpu_ordered) * 0.99))] * 1000,
        "late": (late + skipped) / max(ticks + skipped, 1),
        "worst_ms": worst * 1000,
        "cpu": cpu / wall,
        "received_share": received / max(len(sessions) * wall / FRAME, 1),
        "far_got_share": far["received"] / max(sent, 1),
        "far_late": far["late"],
    }


def run_child(layout: Layout, seconds: float) -> dict[str, object]:
    """One run in a fresh process (its own loop, sockets and memory), bounded in time."""
    spec = json.dumps(
        {"idle": layout.idle, "mixes": layout.mixes, "seconds": seconds, "gc_freeze": GC_FREEZE}
    )
    done = subprocess.run(
        [sys.executable, "-m", "bench.mix", "--child-server", spec],
        capture_output=True,
        text=True,
        timeout=seconds + 240,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- part 1: tick cost against bridges and conference sizes --------------------------------------------------


def _tick_rows(args: argparse.Namespace) -> list[tuple[str, Layout]]:
    total = args.bridge_sessions
    rows = [(f"{total:,} sessions, none mixed (baseline)", Layout(total, []))]
    for pairs in args.bridges:
        rows.append((f"{total:,} sessions, {pairs} bridges", Layout(total - 2 * pairs, [(2, pairs, "mix")])))
    if args.bridges:
        pairs = total // 2
        label = f"{total:,} sessions, {pairs} pairs cross-wired, no Mix"
        rows.append((label, Layout(0, [(2, pairs, "direct")])))
    members = args.members
    rows.append((f"{members} members, none mixed (baseline)", Layout(members, [])))
    for size in args.sizes:
        rows.append((f"{members // size} conferences of {size}", Layout(0, [(size, members // size, "mix")])))
    for size in args.audio_sizes:
        label = f"{members // size} conferences of {size}, audio playing"
        rows.append((label, Layout(0, [(size, members // size, "audio")])))
    return rows


def ticks_part(args: argparse.Namespace) -> None:
    rows = _tick_rows(args)
    print(f"\n## tick cost: SessionGroup.tick, {args.seconds:g} s a run, medians of {args.repeat} round(s)\n")
    runs: dict[str, list[dict[str, object]]] = {}
    for _round in range(args.repeat):  # rounds interleave the rows, so a burst of load hits all of them
        for label, layout in rows:
            result = run_child(layout, args.seconds)
            result["load"] = os.getloadavg()[0]
            runs.setdefault(label, []).append(result)
            print(f"  {label}: {_brief(result)}", flush=True)
    print()
    print("| run | sessions | mixes | CPU p50 / p99 ms | vs base | wall p50 / p99 ms | vs base | late |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    base: dict[str, float] = {}
    for label, _layout in rows:
        group = runs[label]
        figures = {
            key: statistics.median(float(r[key]) for r in group)  # type: ignore[arg-type]
            for key in ("cpu_p50_ms", "cpu_p99_ms", "p50_ms", "p99_ms")
        }
        if "baseline" in label:
            base = figures
        late = statistics.median(float(r["late"]) for r in group)  # type: ignore[arg-type]
        print(
            f"| {label} | {group[0]['sessions']:,} | {group[0]['mixes']} "
            f"| {figures['cpu_p50_ms']:.2f} / {figures['cpu_p99_ms']:.2f} "
            f"| {figures['cpu_p50_ms'] / base['cpu_p50_ms']:.2f} "
            f"| {figures['p50_ms']:.2f} / {figures['p99_ms']:.2f} | {figures['p50_ms'] / base['p50_ms']:.2f} "
            f"| {late:.2%} |"
        )
    loads = [float(r["load"]) for group in runs.values() for r in group]  # type: ignore[arg-type]
    print(f"\nload average after the runs: {min(loads):.2f}-{max(loads):.2f}")


def _brief(r: dict[str, object]) -> str:
    return (
        f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, CPU p50 {r['cpu_p50_ms']:.2f} ms, "
        f"p99 {r['cpu_p99_ms']:.2f} ms, late {r['late']:.1%}, CPU {r['cpu']:.0%}, "
        f"heard {r['received_share']:.1%}, far ends got {r['far_got_share']:.1%} "
        f"(far end late ticks {r['far_late']:.1%}), load {r.get('load', 0):.2f}"
    )


# -- part 2: Mix.mix() alone ---------------------------------------------------------------------------------


def _per_call(job: Callable[[], object], number: int, repeat: int) -> float:
    """Median µs per call over `repeat` blocks of `number` calls."""
    blocks = []
    for _ in range(repeat):
        began = time.perf_counter()
        for _ in range(number):
            job()
        blocks.append((time.perf_counter() - began) / number)
    return statistics.median(blocks) * 1e6


def micro_part(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(7)
    music = tone([(440.0, 2.0)], level=0.1)
    number, repeat = (200, 5) if args.quick else (1000, 15)
    print("\n## Mix.mix() alone (no sockets), µs per call, median of", repeat, "blocks of", number, "\n")
    print(
        "| members | mix() µs | per member µs | + audio playing µs | one talk gain µs | all gated µs "
        "| bare numpy µs | mix / bare |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in args.micro_sizes:
        # rows of one array, as the group's batch decode hands them out
        frames = rng.integers(-8000, 8000, (size, FRAME_SAMPLES), dtype=np.int16)
        timings = []
        for variant in ("speech", "audio", "talk", "gated"):
            mix = Mix()
            for index in range(size):
                mix.join(f"call-{index}").heard = frames[index]
            if variant == "audio":
                mix.play(FilePlayer(music, loop=True))
            elif variant == "talk":  # a conference keypad's talk volume on one member
                mix.tune("call-0", talk=1.5)
            elif variant == "gated":  # every member's noise gate (mic sensitivity) on
                for key in mix.ports:
                    mix.tune(key, gate=100)
            timings.append(_per_call(mix.mix, number, repeat))

        def bare(rows: tuple[np.ndarray, ...] = tuple(frames)) -> None:
            """The same arithmetic with no ports: stack, sum in 32 bits, take each row back out, clip."""
            stacked = np.stack(rows)
            total = stacked.sum(axis=0, dtype=np.int32)
            clip(total)
            clip(total[np.newaxis, :] - stacked)

        plain = _per_call(bare, number, repeat)
        print(
            f"| {size} | {timings[0]:.1f} | {timings[0] / size:.2f} | {timings[1]:.1f} | {timings[2]:.1f} "
            f"| {timings[3]:.1f} | {plain:.1f} "
            f"| {timings[0] / plain:.2f} |",
            flush=True,
        )


# -- part 3: how many bridged pairs one process holds --------------------------------------------------------


def capacity_part(args: argparse.Namespace) -> None:
    """Step the bridged pairs up; at each step the same sessions unbridged (the controller's wiring of a
    call with nothing going on) run too, as the baseline. Stops at the first bridged step that fails."""
    seconds = args.capacity_seconds
    print(f"\n## bridged pairs on the frame clock, {seconds:g} s a step, stop at >= 1% late frames\n")
    print(
        "| pairs | sessions | late frames | worst ms | tick CPU p50 / p99 ms | CPU | heard "
        "| unbridged: late | CPU | far late | load |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    deadline = time.monotonic() + args.budget
    passed, failed, base_passed, base_failed = 0, None, 0, None
    for pairs in args.steps:
        if time.monotonic() > deadline:
            print(f"\n(time budget of {args.budget:g} s spent before {pairs} pairs)")
            break
        r = run_child(Layout(0, [(2, pairs, "mix")]), seconds)
        b = run_child(Layout(2 * pairs, []), seconds) if args.baseline else None
        base = f"{b['late']:.2%} | {b['cpu']:.0%}" if b is not None else " | "
        print(
            f"| {pairs:,} | {r['sessions']:,} | {r['late']:.2%} | {r['worst_ms']:.0f} "
            f"| {r['cpu_p50_ms']:.2f} / {r['cpu_p99_ms']:.2f} | {r['cpu']:.0%} | {r['received_share']:.1%} "
            f"| {base} | {r['far_late']:.1%} | {os.getloadavg()[0]:.2f} |",
            flush=True,
        )
        if b is not None and base_failed is None:
            if float(b["late"]) >= 0.01:  # type: ignore[arg-type]
                base_failed = pairs
            else:
                base_passed = pairs
        if float(r["late"]) >= 0.01:  # type: ignore[arg-type]
            failed = pairs
            break
        passed = pairs
    if failed is None:
        print(f"\nlargest bridged pair count with < 1% late frames: at least {passed:,} (no step failed)")
    else:
        print(f"\nlargest bridged pair count with < 1% late frames: {passed:,} ({failed:,} had >= 1%)")
    if args.baseline:
        more = f"({base_failed:,} pairs' worth had >= 1%)" if base_failed else "(of the steps tried)"
        print(f"same sessions unbridged: {base_passed:,} pairs' worth {more}")


# -- command line --------------------------------------------------------------------------------------------


def _ints(text: str) -> list[int]:
    return [int(value) for value in text.split(",") if value.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default="ticks,micro,capacity", help="any of ticks, micro, capacity")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured s per run (after 1 s warm-up)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the tick runs (medians)")
    parser.add_argument("--bridge-sessions", type=int, default=1000, help="sessions in every bridge run")
    parser.add_argument("--bridges", type=_ints, default=_ints("50,100,250,500"), help="bridged pairs")
    parser.add_argument("--members", type=int, default=200, help="members in every conference run")
    parser.add_argument("--sizes", type=_ints, default=_ints("2,5,10,20"), help="conference sizes")
    parser.add_argument("--audio-sizes", type=_ints, default=_ints("2,10"), help="sizes with audio playing")
    parser.add_argument("--micro-sizes", type=_ints, default=_ints("2,3,4,5,8,10,15,20"))
    parser.add_argument("--steps", type=_ints, default=list(range(100, 2001, 100)), help="bridged pairs")
    parser.add_argument("--capacity-seconds", type=float, default=10.0, help="measured s per capacity step")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds for all capacity steps")
    parser.add_argument(
        "--no-baseline", dest="baseline", action="store_false", help="capacity: skip the unbridged runs"
    )
    parser.add_argument("--quick", action="store_true", help="short smoke run of every part")
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="leave the garbage collector as Python starts it (the server freezes it once started)",
    )
    parser.add_argument("--child-server", help=argparse.SUPPRESS)
    parser.add_argument("--child-peer", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global GC_FREEZE
    GC_FREEZE = args.gc_freeze
    if args.child_peer is not None:
        _more_files()
        print(json.dumps(uvloop.run(peer(args.child_peer))), flush=True)
        return
    if args.child_server is not None:
        _more_files()
        spec = json.loads(args.child_server)
        layout = Layout(spec["idle"], [tuple(entry) for entry in spec["mixes"]])
        print(
            json.dumps(uvloop.run(serve(layout, spec["seconds"], spec.get("gc_freeze", False)))), flush=True
        )
        return
    if args.quick:
        args.seconds, args.capacity_seconds, args.repeat, args.budget = 2.0, 2.0, 1, 60.0
        args.bridges, args.sizes, args.audio_sizes = [100, 500], [2, 10], [10]
        args.steps = [200, 400, 800]
    parts = args.parts.split(",")
    if "ticks" in parts:
        ticks_part(args)
    if "micro" in parts:
        micro_part(args)
    if "capacity" in parts:
        capacity_part(args)


if __name__ == "__main__":
    main()
