"""SIP transports on loopback: UDP and TCP on one port, stream framing, keep-alives, stateless 400s."""

from __future__ import annotations

import asyncio
import socket

import pytest

from trebuchet.sip.framing import FramingError, StreamFramer, bad_request_reply
from trebuchet.sip.message import Request, Response
from trebuchet.sip.transport import SipTransports

from .test_transactions import request


def test_framer_cuts_a_stream_wherever_it_was_split():
    one, two = request().to_bytes(), request("BYE", cseq=2).to_bytes()
    stream = b"\r\n\r\n" + one + b"\r\n" + two
    framer = StreamFramer()
    out = []
    for index in range(len(stream)):
        out += framer.feed(stream[index : index + 1])
    assert out == [one, two] and framer.pings == 1


@pytest.mark.parametrize(
    "head",
    [
        b"INVITE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab",
    ],
)
def test_framer_refuses_what_loses_the_framing(head):
    with pytest.raises(FramingError):
        StreamFramer().feed(head)


def test_bad_request_reply_echoes_the_routing_headers():
    raw = (
        b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK1\r\nf: <sip:x@y>;tag=1\r\n"
        b"CSeq: 99999999999 INVITE\r\nCall-ID: c1\r\n\r\n"
    )
    reply = bad_request_reply(raw, "CSeq number out of range")
    assert reply.startswith(b"SIP/2.0 400 Bad Request - CSeq number out of range\r\n")
    assert (
        b"\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK1\r\n" in reply
        and b"\r\nCall-ID: c1\r\n" in reply
    )
    assert bad_request_reply(b"SIP/2.0 200 OK\r\n\r\n", "x") is None  # responses are dropped
    assert bad_request_reply(b"INVITE sip:a@b SIP/2.0\r\nCall-ID: c\r\n\r\n", "x") is None  # no Via, no route


async def _exchange() -> dict[str, object]:
    got_a: list[tuple[object, tuple, str]] = []
    got_b: list[tuple[object, tuple, str]] = []
    a, b = (
        SipTransports(lambda m, s, t: got_a.append((m, s, t))),
        SipTransports(lambda m, s, t: got_b.append((m, s, t))),
    )
    await a.start("127.0.0.1", 0)
    await b.start("127.0.0.1", 0)
    options = Request("OPTIONS", f"sip:b@127.0.0.1:{b.local[1]}", request("OPTIONS").headers)
    a.send(options, b.local, "udp")
    a.send(options, b.local, "tcp")
    await asyncio.sleep(0.3)
    # B answers each on the transport it came by; on TCP that is the connection A opened.
    for message, source, transport in list(got_b):
        b.send(
            Response(
                200,
                headers=[(n, v) for n, v in message.headers if n in ("Via", "From", "To", "Call-ID", "CSeq")],
            ),
            source,
            transport,
        )
    # A stranger sends garbage over UDP: it gets a 400, B's handler never sees it.
    garbage = (
        b"INVITE sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKq\r\n"
        b"Max-Forwards: 70\r\nCSeq: nonsense\r\nCall-ID: q\r\n\r\n"
    )

    def stranger() -> bytes:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
            raw.settimeout(2)
            raw.sendto(garbage, b.local)
            return raw.recv(2000)

    reply = await asyncio.to_thread(stranger)
    # And a TCP client pings, then sends a message in pieces.
    reader, writer = await asyncio.open_connection(*b.local)
    writer.write(b"\r\n\r\n")
    pong = await asyncio.wait_for(reader.readexactly(2), 2)
    data = request("BYE", branch="z9hG4bK-pieces").to_bytes()
    for index in range(0, len(data), 7):
        writer.write(data[index : index + 7])
        await writer.drain()
    await asyncio.sleep(0.2)
    writer.close()
    await a.close()
    await b.close()
    return {"a": got_a, "b": got_b, "reply": reply, "pong": pong, "stats_b": b.stats}


def test_udp_and_tcp_on_one_port_with_replies_on_the_same_path():
    result = asyncio.run(_exchange())
    got_b = result["b"]
    assert [(m.method, t) for m, _, t in got_b] == [("OPTIONS", "udp"), ("OPTIONS", "tcp"), ("BYE", "tcp")]
    assert sorted(t for m, _, t in result["a"]) == ["tcp", "udp"]
    assert all(isinstance(m, Response) and m.status == 200 for m, _, _ in result["a"])
    assert result["reply"].startswith(b"SIP/2.0 400 ") and b"Call-ID: q" in result["reply"]
    assert result["pong"] == b"\r\n"
    assert result["stats_b"].rejected == 1


def test_port_zero_tries_again_when_the_tcp_side_is_taken_and_a_fixed_port_fails_loudly():
    async def scenario() -> tuple[int, bool]:
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            tcp.listen()
            held = tcp.getsockname()[1]
            fixed_failed = False
            try:
                await SipTransports(lambda m, s, t: None).start("127.0.0.1", held)
            except OSError:
                fixed_failed = True

            class FirstPickTaken(SipTransports):
                """The system's first pick for port 0 is a port whose TCP side someone holds."""

                picks = 0

                async def _bind(self, host: str, port: int) -> tuple[str, int]:
                    self.picks += 1
                    return await super()._bind(host, held if self.picks == 1 else port)

            transports = FirstPickTaken(lambda m, s, t: None)
            _, port = await transports.start("127.0.0.1", 0)
            await transports.close()
            return port if port != held and transports.picks == 2 else 0, fixed_failed

    port, fixed_failed = asyncio.run(scenario())
    assert port > 0 and fixed_failed
