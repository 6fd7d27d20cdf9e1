"""The user agent against a real peer: sipp (Debian's sip-tester) as callee and as caller, on loopback."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from trebuchet.sip.call import Call, CallEvent
from trebuchet.sip.useragent import UserAgent

from ..support import free_port

SCENARIOS = Path(__file__).resolve().parent.parent / "data" / "sipp"
SDP = (
    b"v=0\r\no=trebuchet 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 20000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
)


@pytest.fixture(autouse=True)
def _sipp_is_installed() -> None:
    if shutil.which("sipp") is None:
        pytest.fail("sipp is needed: bin/test installs Debian's sip-tester")


async def start_sipp(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        "sipp",
        *args,
        "-m",
        "1",
        "-nostdin",
        "-timeout",
        "20",
        "-timeout_error",
        "-mp",
        str(free_port()),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def finished(process: asyncio.subprocess.Process) -> tuple[int, str]:
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode or 0, out.decode(errors="replace")[-2000:]


async def next_event(call: Call, *kinds: str) -> CallEvent:
    """The next event of one of `kinds`, skipping others (bounded in time)."""
    while True:
        event = await asyncio.wait_for(call.events.get(), 10)
        if event.kind in kinds:
            return event


async def _as_uac(scenario: str, transport: str = "udp", **invite_options) -> tuple[list[str], int, str]:
    port = free_port()
    sipp = await start_sipp(
        "-sf",
        str(SCENARIOS / scenario),
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        *(["-t", "t1"] if transport == "tcp" else []),
    )
    await asyncio.sleep(0.5)
    agent = UserAgent(port=0)
    await agent.start()
    kinds: list[str] = []
    try:
        suffix = ";transport=tcp" if transport == "tcp" else ""
        call = agent.invite(
            f"sip:service@127.0.0.1:{port}{suffix}",
            from_uri="sip:+19195551212@127.0.0.1",
            sdp=SDP,
            **invite_options,
        )
        first = await next_event(call, "ringing", "answered", "failed", "cancelled")
        kinds.append(first.kind)
        if first.kind == "ringing" and scenario == "uas_cancel.xml":
            call.cancel()
            kinds.append((await next_event(call, "cancelled", "failed", "answered")).kind)
        elif first.kind == "ringing":
            kinds.append((await next_event(call, "answered", "failed")).kind)
        if kinds[-1] == "answered":
            await asyncio.sleep(0.3)
            call.bye()
            kinds.append((await next_event(call, "ended")).kind)
        code, output = await finished(sipp)
    finally:
        if sipp.returncode is None:
            sipp.kill()
        await agent.close()
    return kinds, code, output


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_call_answered_by_sipp_with_x_headers_then_hung_up(transport):
    headers = [("X-Header-1", "value1"), ("X-Header-2", "value 2")]
    kinds, code, output = asyncio.run(_as_uac("uas_answer.xml", transport, headers=headers))
    assert kinds == ["ringing", "answered", "ended"]
    assert code == 0, output


def test_missing_x_header_fails_sipps_check():
    kinds, code, _ = asyncio.run(_as_uac("uas_answer.xml", headers=[("X-Header-1", "value1")]))
    assert code != 0  # the scenario's header check is real


def test_busy_is_acked_and_reported():
    kinds, code, output = asyncio.run(_as_uac("uas_busy.xml"))
    assert kinds == ["failed"]
    assert code == 0, output  # sipp got its ACK


def test_cancel_while_ringing():
    kinds, code, output = asyncio.run(_as_uac("uas_cancel.xml"))
    assert kinds == ["ringing", "cancelled"]
    assert code == 0, output


def test_digest_challenge_is_answered():
    kinds, code, output = asyncio.run(_as_uac("uas_digest.xml", credentials=("alice", "wonderland")))
    assert kinds == ["answered", "ended"]
    assert code == 0, output


async def _as_uas() -> tuple[list[str], int, str]:
    seen: list[str] = []
    done = asyncio.Event()

    def on_incoming(call: Call) -> None:
        async def handle() -> None:
            call.ring()
            await asyncio.sleep(0.2)
            call.answer(SDP)
            while True:
                event = await asyncio.wait_for(call.events.get(), 15)
                seen.append(event.kind)
                if event.kind == "ended":
                    done.set()
                    return

        asyncio.get_running_loop().create_task(handle())

    agent = UserAgent(port=0, on_incoming=on_incoming)
    host, port = await agent.start()
    try:
        sipp = await start_sipp(
            "-sn",
            "uac",
            "-s",
            "trebuchet",
            f"{host}:{port}",
            "-i",
            "127.0.0.1",
            "-p",
            str(free_port()),
            "-d",
            "500",
        )
        code, output = await finished(sipp)
        await asyncio.wait_for(done.wait(), 5)
    finally:
        await agent.close()
    return seen, code, output


def test_sipp_calls_us_we_answer_and_it_hangs_up():
    seen, code, output = asyncio.run(_as_uas())
    assert seen == ["confirmed", "ended"]
    assert code == 0, output
