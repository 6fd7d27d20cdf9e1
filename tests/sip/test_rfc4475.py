"""RFC 4475 torture tests: every archive message gets the verdict INDEX.md records for it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from trebuchet.sip import AbsoluteUri, ParseError, Request, Response, SipUri, parse

DATA = Path(__file__).resolve().parent.parent / "data" / "rfc4475"
_ROW = re.compile(r"^\| `([\w-]+)\.sip` \| [^|]* \| [^|]* \| (valid|valid-but-semantic|invalid) \|")


def _verdicts() -> dict[str, str]:
    verdicts = {}
    for line in (DATA / "INDEX.md").read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line)
        if m:
            verdicts[m.group(1)] = m.group(2)
    return verdicts


VERDICTS = _verdicts()
ACCEPTED = sorted(n for n, v in VERDICTS.items() if v != "invalid")
REFUSED = sorted(n for n, v in VERDICTS.items() if v == "invalid")


def load(name: str) -> bytes:
    return (DATA / f"{name}.sip").read_bytes()


def msg(name: str) -> Request | Response:
    return parse(load(name))


def req(name: str) -> Request:
    m = msg(name)
    assert isinstance(m, Request)
    return m


def test_index_covers_every_file() -> None:
    files = {p.stem for p in DATA.glob("*.sip")}
    assert files == set(VERDICTS)
    assert len(files) == 50
    counts = {
        v: sum(1 for n, x in VERDICTS.items() if x == v and n != "test") for v in set(VERDICTS.values())
    }
    assert counts == {"valid": 15, "valid-but-semantic": 17, "invalid": 17}
    assert VERDICTS["test"] == "invalid"


def test_sha256sums_match() -> None:
    lines = (DATA / "SHA256SUMS").read_text(encoding="ascii").splitlines()
    sums = dict(reversed(line.split(maxsplit=1)) for line in lines if line.strip())
    assert set(sums) == {p.name for p in DATA.glob("*.sip")}
    for name, digest in sums.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepted(name: str) -> None:
    m = msg(name)
    assert isinstance(m, Request | Response)
    # Everything the parser accepted round-trips through the canonical form.
    again = parse(m.to_bytes())
    assert again == m
    assert again.to_bytes() == m.to_bytes()


@pytest.mark.parametrize("name", REFUSED)
def test_refused(name: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(load(name))
    assert info.value.reason.strip()


# --------------------------------------------------------------------------- spot checks


def test_wsinv() -> None:
    m = req("wsinv")
    assert len(m.via) == 3
    assert [v.transport for v in m.via] == ["UDP", "TCP", "UDP"]
    assert m.via[2].branch == "z9hG4bK30239"
    assert m.to is not None and m.to.tag == "1918181833n"
    assert m.from_ is not None and m.from_.tag == "98asjd8"
    assert m.from_.display_name == 'J Rosenberg \\"'
    assert len(m.body) == 150
    assert m.max_forwards == 68
    assert m.cseq is not None and (m.cseq.number, m.cseq.method) == (9, "INVITE")
    assert m.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    assert m.headers.get("Subject") == ""
    assert m.headers.get("NewFangledHeader") == "newfangled value continued newfangled value"
    (contact,) = m.contact
    assert contact.display_name == 'Quoted string ""'
    assert contact.params == (("newparam", "newvalue"), ("secondparam", None), ("q", "0.33"))
    assert m.route[0].uri.has_param("unknown-no-value")


def test_intmeth() -> None:
    m = req("intmeth")
    method = "!interesting-Method0123456789_*+`.%indeed'~"
    assert m.method == method
    assert m.cseq is not None and m.cseq.method == method
    assert m.to is not None and m.to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert m.from_ is not None and m.from_.display_name == "token1~` token2'+_ token3*%!.-"
    assert m.call_id == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    assert isinstance(m.uri, SipUri)
    assert m.uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert m.uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert m.headers.get("extensionHeader-!.%*+_`'~") == "\ufeff大停電"
    assert m.max_forwards == 255


def test_esc01_unescapes_once() -> None:
    m = req("esc01")
    assert isinstance(m.uri, SipUri) and m.uri.user == "sips:user@example.com"
    assert m.to is not None and isinstance(m.to.uri, SipUri) and m.to.uri.user == "user"
    assert m.from_ is not None and isinstance(m.from_.uri, SipUri) and m.from_.uri.user == "I have spaces"
    (contact,) = m.contact
    assert isinstance(contact.uri, SipUri)
    assert contact.uri.user == "caller"
    assert contact.uri.params == (("lr", None), ("name", "value%41"))
    assert m.headers.get("Content-Type") == "application/sdp"


def test_escnull_keeps_nul() -> None:
    m = req("escnull")
    assert m.to is not None and isinstance(m.to.uri, SipUri) and m.to.uri.user == "null-\x00-null"
    users = [c.uri.user for c in m.contact if isinstance(c.uri, SipUri)]
    assert users == ["\x00", "\x00\x00"]


def test_esc02_percent_is_not_an_escape_here() -> None:
    m = req("esc02")
    assert m.method == "RE%47IST%45R"
    assert len(m.contact) == 2
    assert m.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"
    assert m.from_ is not None and m.from_.display_name == "%Z%45"
    assert m.via[0].branch == "z9hG4bK209%fzsnel234"


def test_semiuri() -> None:
    m = req("semiuri")
    assert isinstance(m.uri, SipUri)
    assert m.uri.user == "user;par=u@example.net"
    assert m.uri.params == ()
    assert m.uri.host == "example.com"
    assert len(m.headers.get_all("Accept")) == 6


def test_dblreq_ignores_trailing_invite() -> None:
    m = req("dblreq")
    assert m.method == "REGISTER"
    assert m.body == b""
    assert m.call_id == "dblreq.0ha0isndaksdj99sdfafnl3lk233412"


def test_longreq_nothing_truncated() -> None:
    m = req("longreq")
    assert len(m.via) == 34
    assert m.via[-1].branch is not None and m.via[-1].branch.endswith("longbranchvalue")
    assert m.via[-1].received == "192.0.2.5"
    assert m.to is not None and m.to.display_name is not None
    assert "extreme" * 10 in m.to.display_name
    assert isinstance(m.to.uri, SipUri)
    names = [n for n, _ in m.to.uri.params]
    assert len(names) == 3 and names[2].endswith("longParameterNameWithNoValue")
    assert m.to.uri.params[0][1] == "very" + "long" * 20 + "value"
    assert m.from_ is not None and m.from_.tag is not None and m.from_.tag == "1" + "298" * 50 + "2424"
    assert m.call_id is not None and m.call_id.endswith("reallylongcallid")
    assert len(m.body) == 150


def test_mpart01_body_untouched() -> None:
    raw = load("mpart01")
    m = req("mpart01")
    assert len(m.body) == 553
    assert raw.endswith(m.body)
    assert b"\x00" in m.body
    assert m.via[0].has_param("rport") and m.via[0].rport is None


def test_reasons() -> None:
    m = msg("unreason")
    assert isinstance(m, Response) and m.status == 200
    assert m.reason == "= 2**3 * 5**2 но сто девяносто девять - простое"
    m = msg("noreason")
    assert isinstance(m, Response) and (m.status, m.reason) == (100, "")


def test_badvers_parses_with_version() -> None:
    m = req("badvers")
    assert m.version == "SIP/7.0"
    assert m.via[0].version == "7.0"


def test_insuf_reports_missing_headers() -> None:
    m = req("insuf")
    assert m.missing_mandatory() == ["From", "To", "Call-ID"]
    assert m.from_ is None and m.to is None and m.call_id is None


def test_multi01_reports_duplicates() -> None:
    m = req("multi01")
    assert set(m.duplicate_singletons()) >= {"From", "To", "Call-ID", "CSeq", "Max-Forwards"}


def test_mismatch_cseq_method() -> None:
    m = req("mismatch01")
    assert m.cseq is not None and (m.method, m.cseq.method) == ("OPTIONS", "INVITE")
    m = req("mismatch02")
    assert m.cseq is not None and (m.method, m.cseq.method) == ("NEWMETHOD", "INVITE")


def test_transports() -> None:
    m = req("transports")
    assert [v.transport for v in m.via] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]


def test_other_schemes() -> None:
    m = req("unkscm")
    assert isinstance(m.uri, AbsoluteUri)
    assert m.uri.scheme == "nobodyknowsthisscheme"
    assert str(m.uri) == "nobodyKnowsThisScheme:totallyopaquecontent"
    m = req("novelsc")
    assert isinstance(m.uri, AbsoluteUri) and m.uri.scheme == "soap.beep"
    m = req("unksm2")
    assert m.to is not None and m.from_ is not None
    assert [m.to.uri.scheme, m.from_.uri.scheme, m.contact[0].uri.scheme] == ["isbn", "http", "name"]
    assert m.from_.tag == "3234233"


def test_contact_params_vs_uri_params() -> None:
    (c1,) = req("cparam01").contact
    assert c1.has_param("unknownparam")
    assert isinstance(c1.uri, SipUri) and not c1.uri.has_param("unknownparam")
    (c2,) = req("cparam02").contact
    assert not c2.has_param("unknownparam")
    assert isinstance(c2.uri, SipUri) and c2.uri.has_param("unknownparam")


def test_regescrt_keeps_uri_headers() -> None:
    (contact,) = req("regescrt").contact
    assert isinstance(contact.uri, SipUri)
    assert contact.uri.headers == (("Route", "<sip:sip.example.com>"),)
    assert "?Route=%3Csip:sip.example.com%3E" in str(contact.uri)


def test_misc_semantic() -> None:
    assert req("lwsdisp").from_.display_name == "caller"  # type: ignore[union-attr]
    assert len(req("inv2543").body) == 105
    assert req("inv2543").via[0].branch is None
    assert req("zeromf").max_forwards == 0
    assert req("badbranch").via[0].branch == "z9hG4bK"
    assert msg("bcast").via[1].host == "255.255.255.255"
    assert req("bext01").headers.get_all("Require") == ["nothingSupportsThis", "nothingSupportsThisEither"]
    assert req("regaut01").headers.get("Authorization") == "NoOneKnowsThisScheme opaque-data=here"
    assert req("invut").headers.get("Content-Type") == "application/unknownformat"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("badaspec", "<"),
        ("baddn", "display name"),
        ("badinv01", "empty"),
        ("clerr", "Content-Length"),
        ("ncl", "Content-Length"),
        ("mcl01", "Content-Length"),
        ("scalar02", "CSeq"),
        ("scalarlg", "CSeq"),
        ("quotbal", "quote"),
        ("escruri", "headers"),
        ("baddate", "Date"),
        ("regbadct", "<"),
        ("bigcode", "status code"),
        ("test", "request line"),
    ],
)
def test_refusal_reasons(name: str, fragment: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(load(name))
    assert fragment in info.value.reason
