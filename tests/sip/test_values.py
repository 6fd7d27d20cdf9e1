"""Structured header values: name-addr, Via, CSeq, Max-Forwards, Call-ID, Date."""

from __future__ import annotations

import pytest

from trebuchet.sip import CSeq, NameAddr, ParseError, SipUri, Via, parse_cseq, parse_name_addr, parse_via
from trebuchet.sip.values import parse_call_id, parse_date, parse_max_forwards


def test_name_addr_quoted_with_escapes() -> None:
    na = parse_name_addr(r'"A \"B\" \\ C" <sip:a@b>;tag=x;lr', "From")
    assert na.display_name == 'A "B" \\ C'
    assert na.tag == "x" and na.has_param("lr")
    assert str(na) == r'"A \"B\" \\ C" <sip:a@b>;tag=x;lr'
    assert parse_name_addr(str(na), "From") == na


def test_name_addr_forms() -> None:
    assert parse_name_addr("Bob Smith <sip:b@h>", "To").display_name == "Bob Smith"
    assert parse_name_addr("bob<sip:b@h>", "To").display_name == "bob"
    assert parse_name_addr('""<sip:b@h>', "To").display_name == ""
    bare = parse_name_addr("sip:b@h;tag=1", "To")
    assert bare.display_name is None and bare.tag == "1"
    assert isinstance(bare.uri, SipUri) and bare.uri.params == ()
    inner = parse_name_addr("<sip:b@h;tag=1>", "To")
    assert inner.tag is None and isinstance(inner.uri, SipUri) and inner.uri.param("tag") == "1"
    quoted = parse_name_addr('<sip:b@h>;x="a;b, c"', "Contact")
    assert quoted.param("x") == '"a;b, c"'
    ctrl = NameAddr(SipUri(host="h"), display_name="a\x00b")
    assert parse_name_addr(str(ctrl), "To") == ctrl


@pytest.mark.parametrize(
    "text",
    [
        '"unterminated <sip:a@b>',
        "< sip:a@b >",
        "<sip:a@b",
        "<>",
        "Bell, Alexander <sip:a@b>",
        "sip:a@b?Route=x",
        "sip:a@b;;tag=1",
        "<sip:a@b>;tag=",
        "<sip:a@b> junk",
        '"x" sip:a@b',
        "",
        "sip:a b@c",
        "<sip:a@b>;tag=a b",
    ],
)
def test_name_addr_invalid(text: str) -> None:
    with pytest.raises(ParseError):
        parse_name_addr(text, "To")


def test_via_full() -> None:
    v = parse_via(
        "SIP / 2.0 / TLS  host.example.com : 5061 ; branch = z9hG4bK1 ;rport;"
        "received=192.0.2.1;ttl=5;maddr=224.0.0.1"
    )
    assert (v.protocol, v.version, v.transport, v.host, v.port) == (
        "SIP",
        "2.0",
        "TLS",
        "host.example.com",
        5061,
    )
    assert v.branch == "z9hG4bK1" and v.has_param("rport") and v.rport is None
    assert v.received == "192.0.2.1" and v.ttl == 5 and v.maddr == "224.0.0.1"
    assert (
        str(v)
        == "SIP/2.0/TLS host.example.com:5061;branch=z9hG4bK1;rport;received=192.0.2.1;ttl=5;maddr=224.0.0.1"
    )
    assert parse_via(str(v)) == v


def test_via_build_ipv6() -> None:
    v = Via("UDP", "[2001:db8::1]", 5060, {"branch": "z9hG4bKx", "rport": "5070"})
    assert str(v) == "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKx;rport=5070"
    assert parse_via(str(v)).rport == 5070


@pytest.mark.parametrize(
    "text",
    [
        "SIP/2.0 host",
        "SIP/2.0/UDP",
        "SIP/2.0/UDP host;;",
        "SIP/2.0/UDP host;ttl=256",
        "SIP/2.0/UDP host;rport=x",
        "SIP/2.0/UDP host;received=bad@host",
        "SIP/2.0/UDP host;branch",
        "SIP/2.0/UDP host:99999",
        "SIP/2.0/U<P host",
        "SIP/2.0/UDP ho$t",
    ],
)
def test_via_invalid(text: str) -> None:
    with pytest.raises(ParseError):
        parse_via(text)


def test_cseq() -> None:
    assert parse_cseq("0009 INVITE") == CSeq(9, "INVITE")
    assert parse_cseq(f"{2**31 - 1} ACK").number == 2**31 - 1
    assert str(CSeq(1, "BYE")) == "1 BYE"
    for bad in (
        f"{2**31} INVITE",
        "1",
        "1 INVITE x",
        "-1 INVITE",
        "x INVITE",
        "1 IN<VITE",
        "9" * 5000 + " A",
    ):
        with pytest.raises(ParseError):
            parse_cseq(bad)


def test_max_forwards() -> None:
    assert parse_max_forwards("0068") == 68
    assert parse_max_forwards("0") == 0
    assert parse_max_forwards("000000000255") == 255
    for bad in ("256", "300", "-1", "", "7a", "\u0663"):
        with pytest.raises(ParseError):
            parse_max_forwards(bad)


def test_call_id_and_date() -> None:
    assert parse_call_id("abc@def") == "abc@def"
    for bad in ("a b", "a@b@c", ""):
        with pytest.raises(ParseError):
            parse_call_id(bad)
    assert parse_date("Sat, 15 Oct 2005 04:44:56 GMT")
    for bad in ("Fri, 01 Jan 2010 16:00:00 EST", "yesterday", "Sat, 15 Oct 2005 04:44 GMT"):
        with pytest.raises(ParseError):
            parse_date(bad)
