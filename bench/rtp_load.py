"""One process holding N RTP sessions on loopback (pairs talking to each other), 50 packets/s each way.

Run by bench/sip.py in a child process, once with Trebuchet's media stack (`--mode stack`: RtpSession
on the shared FrameClock, G.711 encode and decode, receive buffers) and once with a bare asyncio UDP
path (`--mode bare`: one tick loop that sends a prepared 172-byte packet per stream and counts what
arrives) as the baseline. Prints one JSON line: CPU share of a core, late ticks, packets received.

    .venv/bin/python -m bench.rtp_load --mode stack --sessions 500 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time

import numpy as np
import uvloop

from trebuchet.media.clock import FrameClock
from trebuchet.media.ports import free_port_pair
from trebuchet.media.session import RtpSession, SessionGroup, open_session
from trebuchet.media.wav import Tone


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def stack(sessions: int, seconds: float) -> dict[str, float]:
    clock = FrameClock()
    group = SessionGroup(clock)
    made: list[RtpSession] = []
    for _ in range(sessions // 2):
        frame = Tone(440)()
        sink: list[np.ndarray] = []
        options = {"codec": "PCMU", "payload_type": 0, "on_audio": lambda f, s=sink: s.clear()}
        for _attempt in range(5):  # a port found free may be taken by someone else before we bind it
            a_port, b_port = free_port_pair(), free_port_pair()
            try:
                a = await open_session(
                    group,
                    ("127.0.0.1", a_port),
                    remote=("127.0.0.1", b_port),
                    source=lambda f=frame: f,
                    **options,
                )
            except OSError:
                continue
            try:
                b = await open_session(
                    group,
                    ("127.0.0.1", b_port),
                    remote=("127.0.0.1", a_port),
                    source=lambda f=frame: f,
                    **options,
                )
            except OSError:
                a.close()
                continue
            made += [a, b]
            break
        else:
            raise OSError("could not find free ports for a session pair")
    clock.start()
    await asyncio.sleep(1.0)  # warm up: buffers filled, playout started
    ticks0, late0, cpu0, wall0 = clock.stats.ticks, clock.stats.late, cpu_seconds(), time.monotonic()
    received0 = sum(s.stats.received for s in made)
    await asyncio.sleep(seconds)
    ticks, late = clock.stats.ticks - ticks0, clock.stats.late - late0
    cpu, wall = cpu_seconds() - cpu0, time.monotonic() - wall0
    received = sum(s.stats.received for s in made) - received0
    await clock.stop()
    for session in made:
        session.close()
    return {
        "cpu": cpu / wall,
        "late": late / max(ticks, 1),
        "received_share": received / (len(made) * 50 * wall),
        "skipped": clock.stats.skipped,
    }


class CountingPeer(asyncio.DatagramProtocol):
    """A far end's socket that only counts what it receives (shared with bench/mix.py)."""

    def __init__(self) -> None:
        self.received = 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received += 1


async def bare(sessions: int, seconds: float) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    ends: list[tuple[CountingPeer, tuple[str, int]]] = []
    for _ in range(sessions // 2):
        a_port, b_port = free_port_pair(), free_port_pair()
        _, a = await loop.create_datagram_endpoint(CountingPeer, local_addr=("127.0.0.1", a_port))
        _, b = await loop.create_datagram_endpoint(CountingPeer, local_addr=("127.0.0.1", b_port))
        ends += [(a, ("127.0.0.1", b_port)), (b, ("127.0.0.1", a_port))]
    packet = bytes(12) + bytes(160)
    start, tick, late, ticks = loop.time(), 0, 0, 0
    measure_from = start + 1.0
    cpu0 = wall0 = received0 = None
    while True:
        due = start + tick * 0.02
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        now = loop.time()
        if now >= measure_from:
            if cpu0 is None:
                cpu0, wall0, received0 = cpu_seconds(), time.monotonic(), sum(p.received for p, _ in ends)
            ticks += 1
            late += now - due > 0.01
            if now >= measure_from + seconds:
                break
        for protocol, peer in ends:
            protocol.transport.sendto(packet, peer)  # type: ignore[union-attr]
        tick += 1
    wall = time.monotonic() - wall0
    received = sum(p.received for p, _ in ends) - received0
    result = {
        "cpu": (cpu_seconds() - cpu0) / wall,
        "late": late / max(ticks, 1),
        "received_share": received / (len(ends) * 50 * wall),
        "skipped": 0,
    }
    for protocol, _ in ends:
        protocol.transport.close()  # type: ignore[union-attr]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["stack", "bare"], required=True)
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    run = stack if args.mode == "stack" else bare
    result = uvloop.run(run(args.sessions, args.seconds))
    print(json.dumps({"mode": args.mode, "sessions": args.sessions, **result}))


if __name__ == "__main__":
    main()
