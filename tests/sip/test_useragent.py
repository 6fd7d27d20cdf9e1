"""The user agent on the wire, with raw sockets as the far end: timers, absorbed retransmissions,
refusals of bad requests, OPTIONS, re-INVITE for hold, and REGISTER with Digest against sipp."""

from __future__ import annotations

import asyncio
import socket

import pytest

from trebuchet.sip import parse
from trebuchet.sip.call import Call
from trebuchet.sip.sdp import answer, make_offer, parse_sdp
from trebuchet.sip.useragent import UserAgent

from ..support import ROOT, free_port
from .test_sipp import SCENARIOS, SDP, finished, next_event, start_sipp

RFC4475 = ROOT / "tests" / "data" / "rfc4475"


class RawPeer:
    """A UDP socket that records every datagram with its arrival time."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.received: list[tuple[float, bytes]] = []

    async def collect(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            try:
                data = await asyncio.wait_for(loop.sock_recv(self.sock, 65535), left)
            except TimeoutError:
                return
            self.received.append((loop.time(), data))

    def send(self, data: bytes, port: int) -> None:
        self.sock.sendto(data, ("127.0.0.1", port))


def test_silent_peer_gets_timer_a_retransmissions_and_the_call_fails_with_408_at_timer_b():
    async def scenario() -> tuple[list[float], object, float]:
        agent, peer = UserAgent(port=0), RawPeer()
        await agent.start()
        began = asyncio.get_running_loop().time()
        call = agent.invite(f"sip:nobody@127.0.0.1:{peer.port}", from_uri="sip:me@127.0.0.1", sdp=SDP)
        collecting = asyncio.create_task(peer.collect(34))
        event = await asyncio.wait_for(call.events.get(), 40)
        failed_at = asyncio.get_running_loop().time() - began
        await collecting
        await agent.close()
        return [t - began for t, _ in peer.received], event, failed_at

    times, event, failed_at = asyncio.run(scenario())
    assert event.kind == "failed" and event.status == 408
    assert 31.5 < failed_at < 33.5
    expected = [0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert len(times) == len(expected)
    assert all(abs(got - want) < 0.25 for got, want in zip(times, expected, strict=True)), times


def test_refused_tcp_connection_fails_the_invite_at_once_with_503():
    async def scenario() -> tuple[object, float, int]:
        agent = UserAgent(port=0)
        await agent.start()
        began = asyncio.get_running_loop().time()
        target = f"sip:nobody@127.0.0.1:{free_port()};transport=tcp"
        call = agent.invite(target, from_uri="sip:me@127.0.0.1", sdp=SDP)
        event = await asyncio.wait_for(call.events.get(), 5)
        took = asyncio.get_running_loop().time() - began
        clients = len(agent.layer.clients)
        await agent.close()
        return event, took, clients

    event, took, clients = asyncio.run(scenario())
    assert event.kind == "failed" and event.status == 503
    assert took < 1 and clients == 0  # the client transaction is gone too, so no Timer B later


INVITE = (
    "INVITE sip:agent@127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{peer};branch=z9hG4bKretx1\r\n"
    "Max-Forwards: 70\r\nFrom: <sip:raw@127.0.0.1>;tag=r1\r\nTo: <sip:agent@127.0.0.1>\r\n"
    "Call-ID: retx@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: <sip:raw@127.0.0.1:{peer}>\r\n"
    "Content-Type: application/sdp\r\nContent-Length: {length}\r\n\r\n"
)


def test_retransmitted_invite_is_absorbed_and_answered_from_the_transaction():
    async def scenario() -> tuple[list[Call], list[int]]:
        calls: list[Call] = []

        def ring_only(call: Call) -> None:
            calls.append(call)
            call.ring()

        agent, peer = UserAgent(port=0, on_incoming=ring_only), RawPeer()
        await agent.start()
        data = INVITE.format(port=agent.port, peer=peer.port, length=len(SDP)).encode() + SDP
        peer.send(data, agent.port)
        await peer.collect(0.4)
        peer.send(data, agent.port)  # the same INVITE again, as a UDP retransmission
        await peer.collect(0.4)
        await agent.close()
        return calls, [parse(raw).status for _, raw in peer.received]

    calls, statuses = asyncio.run(scenario())
    assert len(calls) == 1
    assert statuses == [100, 180, 180]  # the retransmission got the last response again, not a new call


@pytest.mark.parametrize(
    ("request_line", "extra", "status"),
    [
        ("INVITE tel:+19195551212 SIP/2.0", "", 416),
        ("INVITE sips:a@127.0.0.1 SIP/2.0", "", 416),
        ("INVITE sip:a@127.0.0.1 SIP/3.0", "", 505),
        ("OPTIONS sip:a@127.0.0.1 SIP/2.0", "", 200),
        ("SUBSCRIBE sip:a@127.0.0.1 SIP/2.0", "", 501),
        ("BYE sip:a@127.0.0.1 SIP/2.0", "", 481),
        ("INVITE sip:a@127.0.0.1 SIP/2.0", "drop-call-id", 400),
    ],
)
def test_requests_we_cannot_or_need_not_serve(request_line, extra, status):
    method = request_line.split()[0]

    async def scenario() -> list[bytes]:
        agent, peer = UserAgent(port=0, on_incoming=lambda call: call.reject(486)), RawPeer()
        await agent.start()
        lines = [
            request_line,
            f"Via: SIP/2.0/UDP 127.0.0.1:{peer.port};branch=z9hG4bKq{status}",
            "Max-Forwards: 70",
            "From: <sip:raw@127.0.0.1>;tag=q",
            "To: <sip:a@127.0.0.1>",
            "Call-ID: q@127.0.0.1",
            f"CSeq: 7 {method}",
            "Content-Length: 0",
            "",
            "",
        ]
        if extra == "drop-call-id":
            lines.remove("Call-ID: q@127.0.0.1")
        peer.send("\r\n".join(lines).encode(), agent.port)
        await peer.collect(0.5)
        await agent.close()
        return [raw for _, raw in peer.received]

    replies = [parse(raw) for raw in asyncio.run(scenario())]
    assert [reply.status for reply in replies if reply.status >= 200] == [status]
    if status == 200:
        assert "INVITE" in (replies[-1].headers.get("Allow") or "")


def test_hold_and_resume_with_re_invite():
    async def scenario() -> list[str]:
        directions: list[str] = []

        def answering(call: Call) -> None:
            offer = parse_sdp(call.remote_sdp)
            session, _ = answer(offer, "127.0.0.1", 30000, session_id=2)
            call.on_offer = lambda body: answer(parse_sdp(body), "127.0.0.1", 30000, session_id=2, version=2)[
                0
            ].to_bytes()
            call.answer(session.to_bytes())

        callee, caller = UserAgent(port=0, on_incoming=answering), UserAgent(port=0)
        await callee.start()
        await caller.start()
        offer = make_offer("127.0.0.1", 30002, session_id=1)
        call = caller.invite(
            f"sip:b@127.0.0.1:{callee.port}", from_uri="sip:a@127.0.0.1", sdp=offer.to_bytes()
        )
        await next_event(call, "answered")
        for direction in ("sendonly", "sendrecv"):
            held = make_offer("127.0.0.1", 30002, session_id=1, version=2, direction=direction)
            call.reinvite(held.to_bytes())
            event = await next_event(call, "reinvite-answered", "reinvite-failed")
            directions.append(parse_sdp(event.sdp).media[0].direction)
        call.bye()
        await caller.close()
        await callee.close()
        return directions

    assert asyncio.run(scenario()) == ["recvonly", "sendrecv"]


def test_register_answers_a_digest_challenge():
    async def scenario() -> tuple[int, int, str]:
        port = free_port()
        sipp = await start_sipp(
            "-sf", str(SCENARIOS / "registrar_digest.xml"), "-i", "127.0.0.1", "-p", str(port)
        )
        await asyncio.sleep(0.5)
        agent = UserAgent(port=0)
        await agent.start()
        response = await asyncio.wait_for(
            agent.register(f"sip:127.0.0.1:{port}", user="alice", password="wonderland"), 10
        )
        code, output = await finished(sipp)
        await agent.close()
        return response.status, code, output

    status, code, output = asyncio.run(scenario())
    assert status == 200
    assert code == 0, output


def test_rport_and_received_are_stamped_into_the_responses_via():
    async def scenario() -> tuple[bytes, int]:
        agent, peer = UserAgent(port=0), RawPeer()
        await agent.start()
        options = (
            "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.7:5060;branch=z9hG4bKnat;rport\r\n"
            "Via: SIP/2.0/UDP 127.0.0.8;branch=z9hG4bKinner\r\nMax-Forwards: 70\r\nFrom: <sip:n@x>;tag=n\r\n"
            "To: <sip:a@127.0.0.1>\r\nCall-ID: nat@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
        peer.send(options.encode(), agent.port)
        await peer.collect(0.5)
        await agent.close()
        return peer.received[0][1], peer.port

    raw, peer_port = asyncio.run(scenario())
    top, inner = parse(raw).via
    assert (top.received, top.rport, top.branch) == ("127.0.0.1", peer_port, "z9hG4bKnat")
    assert inner.branch == "z9hG4bKinner" and inner.received is None


def test_2xx_is_retransmitted_until_the_ack_arrives():
    async def scenario() -> tuple[list[tuple[float, int]], float]:
        agent = UserAgent(port=0, on_incoming=lambda call: call.answer(SDP))
        peer = RawPeer()
        await agent.start()
        data = INVITE.format(port=agent.port, peer=peer.port, length=len(SDP)).encode() + SDP
        began = asyncio.get_running_loop().time()
        peer.send(data, agent.port)
        await peer.collect(3.8)
        replies = [(t - began, parse(raw)) for t, raw in peer.received]
        ok = next(reply for _, reply in replies if reply.status == 200)
        ack = (
            f"ACK sip:agent@127.0.0.1:{agent.port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{peer.port};branch=z9hG4bKack\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:raw@127.0.0.1>;tag=r1\r\nTo: {ok.headers.get('To')}\r\n"
            "Call-ID: retx@127.0.0.1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
        )
        peer.send(ack.encode(), agent.port)
        acked_at = asyncio.get_running_loop().time() - began
        await peer.collect(4.5)
        await agent.close()
        return [(t - began, parse(raw).status) for t, raw in peer.received], acked_at

    received, acked_at = asyncio.run(scenario())
    oks = [t for t, status in received if status == 200]
    assert (
        len([t for t in oks if t < acked_at]) == 4
    )  # sent at once, then after 0.5, 1.5 and 3.5 s (T1 doubling)
    assert all(abs(t - want) < 0.25 for t, want in zip(oks, [0, 0.5, 1.5, 3.5], strict=False)), oks
    assert [t for t in oks if t > acked_at + 0.1] == []  # the ACK stopped them


def test_ended_calls_leave_no_trace_in_the_agents_tables():
    async def scenario() -> list[int]:
        callee = UserAgent(port=0, on_incoming=lambda call: call.answer(SDP))
        caller = UserAgent(port=0)
        await callee.start()
        await caller.start()
        call = caller.invite(f"sip:b@127.0.0.1:{callee.port}", from_uri="sip:a@127.0.0.1", sdp=SDP)
        await next_event(call, "answered")
        call.bye()
        await asyncio.sleep(0.3)
        incoming = next(iter(callee._dialogs.values()))
        sizes_before = [
            len(caller._owners),
            len(caller._dialogs),
            len(callee._dialogs),
            len(callee._incoming),
        ]
        caller._forget(call)  # what _forget_later does 64*T1 after the end
        callee._forget(incoming)
        sizes_after = [len(caller._owners), len(caller._dialogs), len(callee._dialogs), len(callee._incoming)]
        await caller.close()
        await callee.close()
        return sizes_before + sizes_after

    before_and_after = asyncio.run(scenario())
    assert before_and_after[:4] != [0, 0, 0, 0] and before_and_after[4:] == [0, 0, 0, 0]


def test_a_storm_of_mutated_datagrams_leaves_the_agent_answering(caplog):
    """Random damage to real messages, over the wire: nothing escapes into the loop, OPTIONS still works."""
    import random

    seeds = [
        INVITE.format(port=5060, peer=9, length=len(SDP)).encode() + SDP,
        (RFC4475 / "wsinv.sip").read_bytes(),
        (RFC4475 / "esc01.sip").read_bytes(),
    ]
    rng = random.Random(3261)

    def mutate(data: bytes) -> bytes:
        buf = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            position = rng.randrange(len(buf))
            choice = rng.random()
            if choice < 0.4:
                buf[position] = rng.randrange(256)
            elif choice < 0.7:
                del buf[position : position + rng.randint(1, 20)]
            else:
                buf[position:position] = rng.choice([b"\r\n", b":", b";", b",", b"<", b"\x00", b" "])
        return bytes(buf)

    async def scenario() -> tuple[int, object]:
        agent, peer = UserAgent(port=0, on_incoming=lambda call: call.reject(486)), RawPeer()
        await agent.start()
        for index in range(600):
            peer.send(mutate(seeds[index % len(seeds)]), agent.port)
            if index % 50 == 0:
                await asyncio.sleep(0.01)
        await peer.collect(0.5)
        peer.received.clear()
        options = (
            "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{peer.port};branch=z9hG4bKafter\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:n@x>;tag=n\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: after@x\r\n"
            "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
        peer.send(options.encode(), agent.port)
        await peer.collect(0.5)
        stats = agent.transports.stats
        await agent.close()
        return [parse(raw).status for _, raw in peer.received], stats

    statuses, stats = asyncio.run(scenario())
    assert statuses == [200]
    assert stats.malformed > 0  # the storm really was malformed in part
    assert not [r for r in caplog.records if "handler failed" in r.getMessage()]  # no exception escaped


def _digest_fields(header: str) -> dict[str, str]:
    body = header.split(" ", 1)[1]
    fields = {}
    for part in body.split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value.strip('"')
    return fields


def test_a_407_from_a_proxy_is_answered_with_proxy_authorization():
    """Trunks challenge with 407; the retried INVITE carries a Proxy-Authorization that checks out when
    computed here from RFC 2617 §3.2.2 with hashlib (not with our digest module)."""
    import hashlib

    async def scenario() -> tuple[str, bytes, object]:
        agent, peer = UserAgent(port=0), RawPeer()
        await agent.start()
        target = f"sip:+19195550123@127.0.0.1:{peer.port}"
        call = agent.invite(target, from_uri="sip:me@127.0.0.1", sdp=SDP, credentials=("trunkuser", "pw"))
        loop = asyncio.get_running_loop()
        first = parse(await asyncio.wait_for(loop.sock_recv(peer.sock, 65535), 5))
        challenge = (
            f"SIP/2.0 407 Proxy Authentication Required\r\nVia: {first.headers.get('Via')}\r\n"
            f"From: {first.headers.get('From')}\r\nTo: {first.headers.get('To')};tag=p1\r\n"
            f"Call-ID: {first.call_id}\r\nCSeq: 1 INVITE\r\n"
            'Proxy-Authenticate: Digest realm="trunk", nonce="n0nce", qop="auth", algorithm=MD5\r\n'
            "Content-Length: 0\r\n\r\n"
        )
        peer.send(challenge.encode(), agent.port)
        ack = parse(await asyncio.wait_for(loop.sock_recv(peer.sock, 65535), 5))
        second = parse(await asyncio.wait_for(loop.sock_recv(peer.sock, 65535), 5))
        await agent.close()
        assert ack.method == "ACK" and second.method == "INVITE"
        return second.headers.get("Proxy-Authorization") or "", second.body, call

    header, body, _ = asyncio.run(scenario())
    fields = _digest_fields(header)
    assert fields["username"] == "trunkuser" and fields["realm"] == "trunk" and fields["qop"] == "auth"

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1, ha2 = md5("trunkuser:trunk:pw"), md5(f"INVITE:{fields['uri']}")
    expected = md5(f"{ha1}:n0nce:{fields['nc']}:{fields['cnonce']}:auth:{ha2}")
    assert fields["response"] == expected and body == SDP
