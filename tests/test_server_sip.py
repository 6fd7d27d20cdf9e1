"""The server listens for SIP on TREBUCHET_SIP_ADDR over UDP and TCP, where the engine takes calls."""

from __future__ import annotations

import socket

from trebuchet.sip import parse

from .support import ServerProcess


def request(method: str, port: int, transport: str) -> bytes:
    return (
        f"{method} sip:trebuchet@127.0.0.1:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} 127.0.0.1:9;branch=z9hG4bK{method}{transport};rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:trebuchet@127.0.0.1>\r\n"
        f"Call-ID: probe-{method}-{transport}@127.0.0.1\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def replies_udp(data: bytes, port: int, count: int) -> list[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.sendto(data, ("127.0.0.1", port))
        return [parse(sock.recv(65535)).status for _ in range(count)]


def test_options_over_udp_and_tcp(server: ServerProcess):
    assert replies_udp(request("OPTIONS", server.sip_port, "UDP"), server.sip_port, 1) == [200]
    with socket.create_connection(("127.0.0.1", server.sip_port), timeout=3) as sock:
        sock.sendall(request("OPTIONS", server.sip_port, "TCP"))
        reply = parse(sock.recv(65535))
    assert reply.status == 200 and "INVITE" in (reply.headers.get("Allow") or "")


def test_an_invite_for_no_number_of_ours_is_404(server: ServerProcess):
    """`trebuchet` is not an E.164 number of any user: not found (the engine tests cover real numbers)."""
    assert replies_udp(request("INVITE", server.sip_port, "UDP"), server.sip_port, 2) == [100, 404]
