"""Message framing, start lines, header syntax, compact forms and folding."""

from __future__ import annotations

import pytest

from trebuchet.sip import COMPACT_FORMS, Headers, ParseError, Request, Response, parse

BASE = (
    "OPTIONS sip:bob@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc.example.com;branch=z9hG4bK1\r\n"
    "From: <sip:alice@example.com>;tag=1\r\n"
    "To: <sip:bob@example.com>\r\n"
    "Call-ID: c1\r\n"
    "CSeq: 1 OPTIONS\r\n"
)


def build(extra: str = "", body: str = "", start: str | None = None) -> bytes:
    text = BASE if start is None else start + BASE.split("\r\n", 1)[1]
    return (text + extra + "\r\n" + body).encode()


def test_minimal_request() -> None:
    m = parse(build("Content-Length: 0\r\n"))
    assert isinstance(m, Request)
    assert m.method == "OPTIONS" and m.version == "SIP/2.0"
    assert m.call_id == "c1" and m.cseq is not None and m.cseq.number == 1
    assert m.missing_mandatory() == [] and m.duplicate_singletons() == []


@pytest.mark.parametrize(("letter", "name"), sorted(COMPACT_FORMS.items()))
def test_compact_forms(letter: str, name: str) -> None:
    headers = Headers([(letter.upper(), "x")])
    assert list(headers) == [(name, "x")]
    assert headers.get(name.upper()) == "x" and headers.get(letter) == "x"


def test_compact_forms_in_messages() -> None:
    raw = (
        b"INVITE sip:b@h SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK2\r\nf: <sip:a@h>;tag=9\r\n"
        b"t: sip:b@h\r\ni: cid\r\nm: <sip:a@10.0.0.1>\r\nc: text/plain\r\nl: 2\r\n\r\nhi"
    )
    m = parse(raw)
    assert [n for n, _ in m.headers] == [
        "Via",
        "From",
        "To",
        "Call-ID",
        "Contact",
        "Content-Type",
        "Content-Length",
    ]
    assert m.body == b"hi" and m.from_ is not None and m.from_.tag == "9"
    assert b"\r\nContent-Type: text/plain\r\n" in m.to_bytes()


def test_folding_and_colon_whitespace() -> None:
    m = parse(build("Subject  :  one\r\n  two\r\n\tthree\r\nX-Empty:\r\n"))
    assert m.headers.get("subject") == "one  two\tthree"
    assert m.headers.get("X-Empty") == ""


def test_bare_lf_and_leading_crlf() -> None:
    raw = b"\r\n\r\n" + build("Content-Length: 4\r\n", "body").replace(b"\r\n", b"\n")
    m = parse(raw)
    assert m.body == b"body" and m.call_id == "c1"


def test_multiple_lines_kept_in_order() -> None:
    m = parse(build("Via: SIP/2.0/TCP b;branch=z9hG4bK3, SIP/2.0/TCP c\r\nX-A: 1\r\nx-a: 2\r\n"))
    assert [v.host for v in m.via] == ["pc.example.com", "b", "c"]
    assert m.headers.get_all("X-A") == ["1", "2"]
    assert m.headers.get_all("Via")[1] == "SIP/2.0/TCP b;branch=z9hG4bK3"


def test_list_split_respects_quotes_and_angles() -> None:
    m = parse(build('Contact: "A, B" <sip:a@h;x=1>, <sip:c@h?h=a%2Cb>;q=0.5\r\n'))
    assert len(m.contact) == 2 and m.contact[0].display_name == "A, B"
    assert len(m.headers.get_all("Contact")) == 2


def test_contact_star() -> None:
    m = parse(build("Contact: *\r\nExpires: 0\r\n"))
    assert m.contact_is_star and m.contact == []
    with pytest.raises(ParseError):
        parse(build("Contact: *\r\nContact: <sip:a@b>\r\n"))


@pytest.mark.parametrize(
    ("extra", "body"),
    [
        ("Content-Length: 10\r\n", "short"),
        ("Content-Length: -1\r\n", ""),
        ("Content-Length: abc\r\n", ""),
        ("Content-Length: 1\r\nContent-Length: 2\r\n", "xx"),
        ("Content-Length: " + "9" * 5000 + "\r\n", ""),
        ("Bad Name: x\r\n", ""),
        ("NoColon\r\n", ""),
        ("Max-Forwards: 256\r\n", ""),
        ("Route: <sip:a@b>,,<sip:c@d>\r\n", ""),
        ("Record-Route: sip:a@b, junk\r\n", ""),
        ("CSeq: 2147483648 OPTIONS\r\n", ""),
    ],
)
def test_bad_headers_and_framing(extra: str, body: str) -> None:
    with pytest.raises(ParseError):
        parse(build(extra, body))


def test_same_content_length_twice_is_fine() -> None:
    assert parse(build("Content-Length: 2\r\nl: 02\r\n", "xy")).body == b"xy"


def test_body_without_content_length_is_rest_of_datagram() -> None:
    assert parse(build("", "rest\r\nof it")).body == b"rest\r\nof it"


@pytest.mark.parametrize(
    "start",
    [
        "OPTIONS  sip:a@b SIP/2.0\r\n",
        "OPTIONS sip:a@b SIP/2.0 \r\n",
        " OPTIONS sip:a@b SIP/2.0\r\n",
        "OPTIONS sip:a@b\r\n",
        "OPTIONS <sip:a@b> SIP/2.0\r\n",
        "OPTIONS sip:a@b?Route=x SIP/2.0\r\n",
        "OPT<IONS sip:a@b SIP/2.0\r\n",
        "OPTIONS sip:a@b SIP/2\r\n",
        "OPTIONS sip:a@b HTTP/1.1\r\n",
        "OPTIONS sip:a@b SIP/2.x\r\n",
        "OPTIONS\tsip:a@b SIP/2.0\r\n",
        "SIP/2.0 99 Low\r\n",
        "SIP/2.0 700 High\r\n",
        "SIP/2.0 2000 Long\r\n",
        "SIP/2.0  200 OK\r\n",
        "SIP/2.0\r\n",
        "SIP/2.x 200 OK\r\n",
    ],
)
def test_bad_start_lines(start: str) -> None:
    with pytest.raises(ParseError):
        parse(build(start=start))


def test_responses() -> None:
    m = parse(build(start="SIP/2.0 180 Ringing \u2603\r\n"))
    assert isinstance(m, Response) and (m.status, m.reason) == (180, "Ringing \u2603")
    m = parse(build(start="SIP/3.1 200 \r\n"))
    assert isinstance(m, Response) and m.version == "SIP/3.1" and m.reason == ""


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b"\x00", b"OPTIONS", b"\xff\xfe\r\n\r\n", "é".encode()])
def test_garbage(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse(data)


def test_build_and_serialise() -> None:
    r = Request(
        "INVITE",
        "sip:bob@example.com",
        headers=[("v", "SIP/2.0/UDP h;branch=z9hG4bK9"), ("Call-ID", "x"), ("Content-Length", "99")],
        body=b"\x00\x01",
    )
    wire = r.to_bytes()
    assert wire.startswith(b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK9\r\n")
    assert b"Content-Length: 2\r\n\r\n\x00\x01" in wire
    again = parse(wire)
    assert again == r and again.to_bytes() == wire
    assert Response(200).reason == "OK"
    resp = Response(486, headers=[("Via", "SIP/2.0/UDP h;branch=z9hG4bK9")])
    assert parse(resp.to_bytes()) == resp
    with pytest.raises(ValueError):
        r.headers.add("X-Evil", "a\r\nVia: injected")


def test_cache_follows_mutation() -> None:
    m = parse(build())
    assert m.call_id == "c1"
    m.headers.set("Call-ID", "c2")
    assert m.call_id == "c2"
    m.headers.insert_first("Via", "SIP/2.0/TCP proxy;branch=z9hG4bKp")
    assert [v.host for v in m.via] == ["proxy", "pc.example.com"]
    assert m.headers.remove("Via") == 2 and m.via == [] and m.top_via is None
