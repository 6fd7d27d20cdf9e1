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


def test_sdk_conference_create_get_update_members_and_terminate(voice, callbacks):
    conference_id = voice.create_conference(
        from_="+19195551212",
        callback_url=callbacks.url("/ok/sdk-conference"),
        callback_timeout=2000,
        callback_http_method="post",
        tag="sdk-room",
    )
    assert conference_id.startswith("conf-")
    conference = voice.get_conference(conference_id)
    assert conference["id"] == conference_id
    assert conference["state"] == "created"
    assert conference["active_members"] == 0
    assert conference["callback_timeout"] == 2000 and conference["callback_http_method"] == "POST"
    assert conference["tag"] == "sdk-room"
    voice.mute_conference(conference_id, True)  # update_conference, every other option null
    voice.hold_conference(conference_id, True)
    conference = voice.get_conference(conference_id)
    assert conference["mute"] is True and conference["hold"] is True and conference["state"] == "created"
    assert list(voice.list_conference_members(conference_id)) == []
    call_id = voice.create_call(from_="+19195551212", to="+19195550000", conference_id=conference_id)
    with pytest.raises(BandwidthVoiceAPIException) as ringing:
        voice.create_conference_member(conference_id, call_id=call_id, join_tone=True)
    assert ringing.value.status_code == 403 and ringing.value.code == "call-invalid-state"
    voice.hangup_call(call_id)
    voice.terminate_conference(conference_id)
    conference = voice.get_conference(conference_id)
    assert conference["state"] == "completed" and conference["completed_time"]
    with pytest.raises(BandwidthVoiceAPIException) as ended:
        voice.update_conference(conference_id, mute=False)
    assert ended.value.status_code == 403 and ended.value.code == "conference-error"
    with pytest.raises(BandwidthVoiceAPIException) as missing:
        voice.get_conference("conf-doesnotexist")
    assert missing.value.status_code == 404 and missing.value.code == "conference-not-found"
    found = callbacks.wait_for(
        lambda r: r.path == "/ok/sdk-conference" and r.json.get("conferenceId") == conference_id, count=2
    )
    assert [r.json["status"] for r in found] == ["created", "completed"]
