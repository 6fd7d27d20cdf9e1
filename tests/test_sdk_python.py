"""The official python-bandwidth SDK (bandwidth_sdk 3.1.0), unchanged, against the real server (§11.2)."""

from __future__ import annotations

import pytest

bandwidth = pytest.importorskip("bandwidth", reason="bandwidth_sdk is a dev dependency")
from bandwidth.voice.api_exception_module import BandwidthVoiceAPIException  # noqa: E402


@pytest.fixture
def voice(server, user):
    return bandwidth.client("voice", user.user_id, user.token, user.secret, api_endpoint=server.base_url)


def test_sdk_create_get_hangup_and_events(voice, callbacks):
    call_id = voice.create_call(
        from_="+19195551212",
        to="sip:someone@127.0.0.1",
        callback_url=callbacks.url("/ok/sdk"),
        callback_http_method="post",
        tag="from-sdk",
        sip_headers={"X-Header-1": "value1"},
    )
    assert call_id.startswith("c-")
    call = voice.get_call(call_id)
    assert call["id"] == call_id
    assert call["state"] == "started"
    assert call["recording_enabled"] is False
    # The SDK snake-cases every key it reads, header names included ("X-Header-1" → "x-_header-1").
    assert call["sip_headers"] == {"x-_header-1": "value1"}
    assert call["callback_http_method"] == "POST"
    voice.enable_call_recording(call_id)  # sends every other option as null
    assert voice.get_call(call_id)["recording_enabled"] is True
    voice.toggle_call_recording(call_id)
    assert voice.get_call(call_id)["recording_enabled"] is False
    voice.hangup_call(call_id)
    assert voice.get_call(call_id)["state"] == "completed"
    events = list(voice.list_call_events(call_id))
    assert [e["name"] for e in events] == ["create", "hangup"]
    assert voice.get_call_event(call_id, events[1]["id"])["data"] == "ORIGINATOR_CANCEL"
    assert list(voice.list_call_recordings(call_id)) == []
    [received] = callbacks.wait_for(lambda r: r.path == "/ok/sdk" and r.json.get("callId") == call_id)
    assert received.json["tag"] == "from-sdk"


def test_sdk_lists_follow_the_link_header(server):
    creds = server.create_user()
    voice = bandwidth.client("voice", creds.user_id, creds.token, creds.secret, api_endpoint=server.base_url)
    made = [voice.create_call(from_="+14045550100", to="+14045550199") for _ in range(5)]
    listed = [call["id"] for call in voice.list_calls(from_="+14045550100", size=2)]
    assert listed == made[::-1]  # three pages of 2, 2 and 1, newest first
    ascending = [call["id"] for call in voice.list_calls(size=2, sort_order="asc")]
    assert ascending == made


def test_sdk_sees_errors_with_message_and_code(voice):
    with pytest.raises(BandwidthVoiceAPIException) as refused:
        voice.create_call(from_="+19195551212", to="sips:secure@127.0.0.1")
    assert refused.value.status_code == 403
    assert refused.value.code == "invalid-call-to-number"
    assert "SIPS is not supported" in refused.value.message
    with pytest.raises(BandwidthVoiceAPIException) as missing:
        voice.get_call("c-doesnotexist")
    assert missing.value.status_code == 404 and missing.value.code == "call-not-found"
    call_id = voice.create_call(from_="+19195551212", to="+19195550000")
    with pytest.raises(BandwidthVoiceAPIException) as invalid:
        voice.answer_call(call_id)  # an outbound call cannot be answered by the API
    assert invalid.value.status_code == 403 and invalid.value.code == "call-invalid-state"
