"""SIP URI parsing and serialisation (RFC 3261 §19.1)."""

from __future__ import annotations

import pytest

from trebuchet.sip import AbsoluteUri, ParseError, SipUri, parse_uri


def sip(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


def test_full_uri() -> None:
    u = sip("sips:alice:secret@example.com:5061;transport=tcp;lr?Subject=hi&Priority=urgent")
    assert (u.scheme, u.user, u.password, u.host, u.port) == ("sips", "alice", "secret", "example.com", 5061)
    assert u.secure
    assert u.params == (("transport", "tcp"), ("lr", None))
    assert u.param("TRANSPORT") == "tcp" and u.has_param("lr") and u.param("lr") is None
    assert u.headers == (("Subject", "hi"), ("Priority", "urgent"))
    assert parse_uri(str(u)) == u


def test_plain_sip_is_not_secure() -> None:
    u = sip("SIP:example.com")
    assert not u.secure and u.scheme == "sip" and u.user is None and u.port is None


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("sip:[2001:db8::1]", "[2001:db8::1]", None),
        ("sip:bob@[2001:db8::1]:5070;transport=udp", "[2001:db8::1]", 5070),
        ("sip:192.0.2.1:0", "192.0.2.1", 0),
        ("sip:host:65535", "host", 65535),
    ],
)
def test_hosts(text: str, host: str, port: int | None) -> None:
    u = sip(text)
    assert (u.host, u.port) == (host, port)
    assert parse_uri(str(u)) == u


@pytest.mark.parametrize(
    "text",
    [
        "sip:host:65536",
        "sip:host:99999999999999999999",
        "sip:host:",
        "sip:host:-1",
        "sip:[2001:db8::zz]",
        "sip:[::1",
        "sip:[::1]x",
        "sip:",
        "sip:@host",
        "sip:user@",
        "sip:ho st",
        "sip:host;;lr",
        "sip:host;=x",
        "sip:host;a=",
        "sip:us%4",
        "sip:us%zzer@host",
        "sip:host?x",
        "<sip:host>",
        ":nothing",
        "1abc:x",
        "tel:",
        "tel:+1 555",
        "no-colon",
    ],
)
def test_invalid(text: str) -> None:
    with pytest.raises(ParseError):
        parse_uri(text)


def test_unescape_once_and_reescape() -> None:
    u = sip("sip:%61lice@example.com;n%61me=v%61lue%25%34%31")
    assert u.user == "alice"
    assert u.params == (("name", "value%41"),)
    assert str(u) == "sip:alice@example.com;name=value%2541"
    assert parse_uri(str(u)) == u


def test_escaped_nul_and_utf8() -> None:
    u = sip("sip:a%00b%E2%82%AC@h")
    assert u.user == "a\x00b\u20ac"
    assert str(u) == "sip:a%00b%E2%82%AC@h"


def test_semicolon_in_user() -> None:
    u = sip("sip:user;par=u%40example.net@example.com")
    assert u.user == "user;par=u@example.net" and u.params == ()
    assert str(u) == "sip:user;par=u%40example.net@example.com"


def test_build_and_serialise() -> None:
    u = SipUri(host="example.com", user="a b@c", params={"transport": "tcp", "lr": None})
    assert str(u) == "sip:a%20b%40c@example.com;transport=tcp;lr"
    assert parse_uri(str(u)) == u


@pytest.mark.parametrize(
    ("text", "scheme"),
    [
        ("tel:+1-201-555-0123", "tel"),
        ("nobodyKnowsThisScheme:totallyopaquecontent", "nobodyknowsthisscheme"),
        ("soap.beep://192.0.2.103:3002", "soap.beep"),
        ("isbn:2983792873", "isbn"),
        ("http://www.example.com", "http"),
        ("name:John_Smith", "name"),
    ],
)
def test_other_schemes_are_opaque(text: str, scheme: str) -> None:
    u = parse_uri(text)
    assert isinstance(u, AbsoluteUri)
    assert (u.scheme, u.text, str(u), u.secure) == (scheme, text, text, False)
