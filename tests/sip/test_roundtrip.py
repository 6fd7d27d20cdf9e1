"""Property tests: built messages survive the wire form; mutated messages never crash the parser."""

from __future__ import annotations

import random
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trebuchet.sip import CSeq, NameAddr, ParseError, Request, Response, SipUri, Via, parse

DATA = Path(__file__).resolve().parent.parent / "data" / "rfc4475"
TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~"

tokens = st.text(TOKEN_CHARS, min_size=1, max_size=12)
# Any text without CR/LF or surrogates: escapes and quoting must carry it.
free_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), min_size=1, max_size=12
)
labels = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
hostnames = st.lists(labels, min_size=1, max_size=3).map(".".join)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
ipv6 = st.sampled_from(["[::1]", "[2001:db8::5]", "[fe80::1:2]"])
hosts = st.one_of(hostnames, ipv4, ipv6)
ports = st.one_of(st.none(), st.integers(0, 65535))
uri_params = st.lists(st.tuples(free_text, st.one_of(st.none(), free_text)), max_size=3).map(tuple)
gen_params = st.lists(st.tuples(tokens, st.one_of(st.none(), tokens)), max_size=3).map(tuple)
methods = st.one_of(
    st.sampled_from(["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO"]), tokens
)


@st.composite
def sip_uris(draw: st.DrawFn, with_headers: bool = False) -> SipUri:
    user = draw(st.one_of(st.none(), free_text))
    password = draw(st.one_of(st.none(), free_text)) if user is not None else None
    headers = draw(st.lists(st.tuples(free_text, free_text), max_size=2).map(tuple)) if with_headers else ()
    return SipUri(
        host=draw(hosts),
        user=user,
        port=draw(ports),
        params=draw(uri_params),
        headers=headers,
        password=password,
        scheme=draw(st.sampled_from(["sip", "sips"])),
    )


@st.composite
def name_addrs(draw: st.DrawFn, with_headers: bool = False) -> NameAddr:
    return NameAddr(
        uri=draw(sip_uris(with_headers)),
        display_name=draw(st.one_of(st.none(), st.just(""), free_text)),
        params=draw(gen_params),
    )


@st.composite
def vias(draw: st.DrawFn) -> Via:
    params: list[tuple[str, str | None]] = [("branch", "z9hG4bK" + draw(tokens))]
    if draw(st.booleans()):
        params.append(("rport", draw(st.one_of(st.none(), st.integers(0, 65535).map(str)))))
    if draw(st.booleans()):
        params.append(("received", draw(ipv4)))
    return Via(
        transport=draw(st.sampled_from(["UDP", "TCP", "TLS", "SCTP", "WS"])),
        host=draw(hosts),
        port=draw(ports),
        params=tuple(params),
    )


@st.composite
def common_headers(draw: st.DrawFn) -> list[tuple[str, str]]:
    via_list = draw(st.lists(vias(), min_size=1, max_size=3))
    headers = [("Via", str(v)) for v in via_list]
    from_ = draw(name_addrs())
    headers.append(("From", str(from_)))
    headers.append(("To", str(draw(name_addrs()))))
    headers.append(("Call-ID", draw(tokens) + draw(st.sampled_from(["", "@host"]))))
    headers.append(("CSeq", str(CSeq(draw(st.integers(0, 2**31 - 1)), draw(methods)))))
    headers.append(("Max-Forwards", str(draw(st.integers(0, 255)))))
    for contact in draw(st.lists(name_addrs(with_headers=True), max_size=2)):
        headers.append(("Contact", str(contact)))
    routes = draw(st.lists(name_addrs(), max_size=3))
    if routes:
        headers.append(("Route", ", ".join(map(str, routes))))
    for name, words in draw(
        st.lists(st.tuples(tokens, st.lists(tokens, min_size=1, max_size=3)), max_size=3)
    ):
        headers.append(("X-" + name, " ".join(words)))
    return headers


bodies = st.binary(max_size=64)


def check_roundtrip(msg: Request | Response) -> None:
    wire = msg.to_bytes()
    again = parse(wire)
    assert again == msg
    assert again.to_bytes() == wire
    # The structured views agree with what was built.
    assert [str(v) for v in again.via] == [v for n, v in msg.headers if n == "Via"]
    assert again.from_ is not None and str(again.from_) == msg.headers.get("From")
    assert again.cseq is not None and str(again.cseq) == msg.headers.get("CSeq")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(methods, sip_uris(), common_headers(), bodies)
def test_request_roundtrip(method: str, uri: SipUri, headers: list[tuple[str, str]], body: bytes) -> None:
    check_roundtrip(Request(method, uri, headers=headers, body=body))


reasons = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(100, 699), reasons, common_headers(), bodies)
def test_response_roundtrip(status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> None:
    check_roundtrip(Response(status, reason, headers=headers, body=body))


# --------------------------------------------------------------------------- fuzzing


def _seeds() -> list[bytes]:
    index = (DATA / "INDEX.md").read_text(encoding="utf-8")
    seeds = [
        p.read_bytes()
        for p in sorted(DATA.glob("*.sip"))
        if f"`{p.name}`" in index and f"| `{p.name}` |" in index and "| invalid |" not in _row(index, p.name)
    ]
    seeds.append(
        Request(
            "INVITE",
            "sip:bob@example.com;transport=tcp",
            headers=[
                ("Via", "SIP/2.0/TCP pc.example.com:5060;branch=z9hG4bK74bf9;rport"),
                ("From", '"Alice \\"A\\"" <sip:alice@example.com>;tag=9fxced76sl'),
                ("To", "Bob <sip:bob@example.com>"),
                ("Call-ID", "3848276298220188511@example.com"),
                ("CSeq", "1 INVITE"),
                ("Contact", "<sip:alice@[2001:db8::1]:5070;ob>;expires=60, <sips:a@h?Route=%3Csip:x%3E>"),
                ("Route", "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>"),
            ],
            body=b"v=0\r\n\x00\xff",
        ).to_bytes()
    )
    seeds.append(
        Response(200, headers=[("Via", "SIP/2.0/UDP h;branch=z9hG4bK1"), ("CSeq", "1 BYE")]).to_bytes()
    )
    return seeds


def _row(index: str, filename: str) -> str:
    for line in index.splitlines():
        if line.startswith(f"| `{filename}` |"):
            return line
    return ""


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        pos = rng.randrange(len(buf) + 1) if buf else 0
        if op == 0 and buf:  # flip bits of one byte
            buf[min(pos, len(buf) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:  # insert a byte, biased to the interesting ones
            buf.insert(
                pos,
                rng.choice(b' \t\r\n:;,<>"\\%@=/\x00\xff0123456789')
                if rng.random() < 0.7
                else rng.randrange(256),
            )
        elif op == 2 and buf:  # delete a run
            del buf[pos : pos + rng.randint(1, 8)]
        elif op == 3:  # duplicate CRLF
            buf[pos:pos] = b"\r\n" * rng.randint(1, 2)
        elif op == 4:  # truncate
            del buf[pos:]
        else:  # duplicate a slice
            end = min(len(buf), pos + rng.randint(1, 40))
            buf[pos:pos] = buf[pos:end]
    return bytes(buf)


def test_fuzz_parse_only_raises_parse_error() -> None:
    rng = random.Random(4475)
    seeds = _seeds()
    assert len(seeds) >= 30
    started = time.perf_counter()
    outcomes = {"ok": 0, "error": 0}
    for i in range(4000):
        data = _mutate(rng, seeds[i % len(seeds)])
        try:
            msg = parse(data)
        except ParseError as exc:
            assert exc.reason
            assert not exc.reason.startswith("malformed message ("), exc.__cause__  # guard never needed
            outcomes["error"] += 1
            continue
        outcomes["ok"] += 1
        # Whatever was accepted must re-serialise to something that parses to the same message.
        again = parse(msg.to_bytes())
        assert again == msg, data
    assert outcomes["ok"] > 100 and outcomes["error"] > 100
    assert time.perf_counter() - started < 15


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(data: bytes) -> None:
    try:
        parse(b"OPTIONS sip:a@b SIP/2.0\r\n" + data)
        parse(data)
    except ParseError:
        pass
