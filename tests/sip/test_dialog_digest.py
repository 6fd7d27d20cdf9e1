"""Dialogs (route sets, in-dialog requests, CSeq order) and Digest answers from the RFCs' examples."""

from __future__ import annotations

import pytest

from trebuchet.sip.dialog import Dialog, destination
from trebuchet.sip.digest import DigestError, authorization, parse_challenge
from trebuchet.sip.message import Request, Response
from trebuchet.sip.uri import parse_uri

from .test_transactions import request


def _answered(invite: Request, *, record_route: list[str]) -> Response:
    headers = [(n, v) for n, v in invite.headers if n in ("Via", "From", "Call-ID", "CSeq")]
    headers += [("To", f"{invite.headers.get('To')};tag=callee1"), ("Contact", "<sip:bob@127.0.0.9:5099>")]
    headers += [("Record-Route", value) for value in record_route]
    return Response(200, headers=headers)


def test_uac_dialog_reverses_record_route_and_routes_loosely():
    invite = request()
    ok = _answered(invite, record_route=["<sip:p2.example;lr>", "<sip:p1.example:5070;lr>"])
    dialog = Dialog.as_uac(invite, ok)
    assert dialog.id == ("call-1@127.0.0.1", "from1", "callee1")
    bye = dialog.request("BYE", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKb")
    assert str(bye.uri) == "sip:bob@127.0.0.9:5099"
    assert bye.headers.get_all("Route") == ["<sip:p1.example:5070;lr>", "<sip:p2.example;lr>"]
    assert str(bye.cseq) == "2 BYE" and bye.to.tag == "callee1" and bye.from_.tag == "from1"
    assert dialog.next_hop() == ("p1.example", 5070, "udp")


def test_strict_router_gets_the_request_uri():
    invite = request()
    dialog = Dialog.as_uac(invite, _answered(invite, record_route=["<sip:strict.example>"]))
    bye = dialog.request("BYE", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKc")
    assert str(bye.uri) == "sip:strict.example"
    assert bye.headers.get_all("Route") == ["<sip:bob@127.0.0.9:5099>"]


def test_uas_dialog_and_request_order():
    invite = request()
    invite.headers.add("Contact", "<sip:caller@127.0.0.1:5060;transport=tcp>")
    dialog = Dialog.as_uas(invite, "uas9")
    assert dialog.local.tag == "uas9" and dialog.remote.tag == "from1" and dialog.remote_seq == 1
    assert dialog.next_hop() == ("127.0.0.1", 5060, "tcp")
    assert dialog.accepts(request("BYE", cseq=5))
    assert not dialog.accepts(request("INFO", cseq=4))  # older than the last one
    bye = dialog.request("BYE", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKd")
    assert bye.from_.tag == "uas9" and bye.to.tag == "from1"


def test_destinations():
    assert destination(parse_uri("sip:bob@127.0.0.1")) == ("127.0.0.1", 5060, "udp")
    assert destination(parse_uri("sip:bob@host;maddr=10.0.0.1;transport=TCP")) == ("10.0.0.1", 5060, "tcp")
    assert destination(parse_uri("sip:[::1]:5070")) == ("::1", 5070, "udp")
    with pytest.raises(ValueError):
        destination(parse_uri("sips:bob@127.0.0.1"))


def test_digest_md5_with_qop_matches_rfc_2617():
    challenge = parse_challenge(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    answer = authorization(
        challenge,
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle Of Life",
        cnonce="0a4f113b",
    )
    assert 'response="6629fae49393a05397450978507c4ef1"' in answer
    assert (
        "qop=auth" in answer
        and "nc=00000001" in answer
        and 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in answer
    )


def test_digest_sha256_matches_rfc_7616():
    challenge = parse_challenge(
        'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
    )
    answer = authorization(
        challenge,
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle of Life",
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )
    assert 'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"' in answer


def test_digest_refusals():
    for bad in (
        'Basic realm="x"',
        'Digest realm="x"',
        'Digest realm="x", nonce="n", algorithm=SHA1',
        'Digest realm="x", nonce="n", qop="auth-int"',
        'Digest realm="x, nonce="n',
    ):
        with pytest.raises(DigestError):
            parse_challenge(bad)


def test_a_dialog_survives_a_round_trip_through_its_record():
    """What a restarted server keeps of an answered call is enough to build the same BYE."""
    from trebuchet.sip.dialog import Dialog
    from trebuchet.sip.uri import parse_uri
    from trebuchet.sip.values import parse_name_addr

    dialog = Dialog(
        call_id="abc@127.0.0.1",
        local_tag="l1",
        remote_tag="r1",
        local=parse_name_addr('"Us" <sip:+19195551212@127.0.0.1>;tag=l1', "From"),
        remote=parse_name_addr("<sip:bob@127.0.0.1:5070>;tag=r1", "To"),
        remote_target=parse_uri("sip:bob@127.0.0.1:5070;transport=tcp"),
        route_set=[parse_name_addr("<sip:proxy@127.0.0.1:5080;lr>", "Route")],
        local_seq=3,
    )
    restored = Dialog.from_record(dialog.to_record())
    assert restored == dialog
    via = "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx"
    assert restored.request("BYE", via).to_bytes() == dialog.request("BYE", via).to_bytes()
