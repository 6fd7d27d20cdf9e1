"""SDP parsing and offer/answer (RFC 4566, RFC 3264) on offers as real peers send them."""

from __future__ import annotations

import pytest

from trebuchet.sip.sdp import SdpError, accept_answer, answer, make_offer, parse_sdp

# The shape of sipp's built-in UAC offer (PCMU only, no telephone-event).
SIPP_OFFER = (
    b"v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)
# A softphone-style offer: Opus first, then PCMA, PCMU, DTMF at 96, and a video stream.
PHONE_OFFER = (
    b"v=0\r\no=- 1 2 IN IP4 127.0.0.2\r\ns=call\r\nt=0 0\r\n"
    b"m=audio 40000 RTP/AVP 111 8 0 96\r\nc=IN IP4 127.0.0.2\r\na=rtpmap:111 opus/48000/2\r\n"
    b"a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
    b"m=video 40002 RTP/AVP 97\r\nc=IN IP4 127.0.0.2\r\na=rtpmap:97 H264/90000\r\n"
)


def test_sipp_offer_gets_pcmu_without_dtmf():
    session, chosen = answer(parse_sdp(SIPP_OFFER), "127.0.0.1", 20000, session_id=7)
    assert (chosen.codec, chosen.payload_type, chosen.telephone_event) == ("PCMU", 0, None)
    assert (chosen.remote_address, chosen.remote_port, chosen.direction) == ("127.0.0.1", 6000, "sendrecv")
    wire = session.to_bytes()
    assert b"m=audio 20000 RTP/AVP 0\r\n" in wire and b"c=IN IP4 127.0.0.1\r\n" in wire
    assert wire.startswith(b"v=0\r\no=trebuchet 7 1 IN IP4 127.0.0.1\r\n")


def test_offerers_preference_is_kept_and_other_streams_are_rejected():
    session, chosen = answer(parse_sdp(PHONE_OFFER), "127.0.0.1", 20002, session_id=1)
    assert (chosen.codec, chosen.payload_type, chosen.telephone_event) == ("PCMA", 8, 96)
    assert [(m.kind, m.port) for m in session.media] == [("audio", 20002), ("video", 0)]
    assert session.media[0].formats == ["8", "96"]
    assert ("fmtp", "96 0-15") in session.media[0].attributes


@pytest.mark.parametrize(
    ("change", "direction", "on_hold"),
    [
        (b"a=sendrecv", "sendrecv", False),
        (b"a=sendonly", "recvonly", True),
        (b"a=inactive", "inactive", True),
    ],
)
def test_hold_and_resume(change, direction, on_hold):
    offer = PHONE_OFFER.replace(b"a=sendrecv", change)
    _, chosen = answer(parse_sdp(offer), "127.0.0.1", 20002, session_id=1)
    assert chosen.direction == direction and chosen.on_hold is on_hold


def test_old_style_hold_with_a_null_address():
    _, chosen = answer(
        parse_sdp(SIPP_OFFER.replace(b"c=IN IP4 127.0.0.1", b"c=IN IP4 0.0.0.0")),
        "127.0.0.1",
        1,
        session_id=1,
    )
    assert chosen.on_hold


def test_no_common_codec_is_refused():
    offer = PHONE_OFFER.replace(b"111 8 0 96", b"111 96")
    with pytest.raises(SdpError):
        answer(parse_sdp(offer), "127.0.0.1", 20002, session_id=1)


def test_our_offer_and_their_answer():
    offer = make_offer("127.0.0.1", 20004, session_id=42)
    parsed = parse_sdp(offer.to_bytes())
    assert parsed.media[0].formats == ["0", "8", "101"]
    their_session, their_choice = answer(parsed, "127.0.0.3", 30000, session_id=9)
    assert their_choice.codec == "PCMU" and their_choice.telephone_event == 101
    ours = accept_answer(offer, parse_sdp(their_session.to_bytes()))
    assert (ours.codec, ours.remote_address, ours.remote_port, ours.telephone_event) == (
        "PCMU",
        "127.0.0.3",
        30000,
        101,
    )


def test_an_answer_may_prefer_a_later_codec_of_the_offer():
    parsed = parse_sdp(make_offer("127.0.0.1", 20004, session_id=42).to_bytes())
    _, chosen = answer(parsed, "127.0.0.3", 30000, session_id=9, prefer="PCMA")
    assert (chosen.codec, chosen.payload_type) == ("PCMA", 8)
    only_mulaw = parse_sdp(PHONE_OFFER.replace(b"111 8 0 96", b"0 96"))
    assert answer(only_mulaw, "127.0.0.3", 30000, session_id=9, prefer="PCMA")[1].codec == "PCMU"


@pytest.mark.parametrize(
    "bad",
    [
        b"v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\n",
        b"nonsense\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN XX 1.2.3.4\r\n",
        b"v=0\r\ns=-\r\n",
    ],
)
def test_malformed_sdp_is_refused(bad):
    with pytest.raises(SdpError):
        parse_sdp(bad)
