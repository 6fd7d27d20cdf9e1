"""Conferences end to end: `trebuchet phone`s as members, each playing its own tone and recording what it
hears. Each member hears exactly the others; mute, hold, conference audio, member audio and the join and
leaving tones are checked in what the phones recorded, and every change in the conference's events."""

from __future__ import annotations

import io
import time
import wave
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from trebuchet.media.audio_files import encode_wav
from trebuchet.media.wav import read_wav

from ..support import CallbackServer, Credentials
from .support import FROM, Phone, answered_call, events_of, hang_up, tone_seconds, unique, wait_state

A, B, C = 400.0, 1000.0, 1600.0  # each member's tone (multiples of 50 Hz: one FFT bin each)
JOIN_NOTE = 600.0  # in both the join and the leaving tone


def create_conference(
    api: httpx.Client, creds: Credentials, callbacks: CallbackServer, **fields: Any
) -> tuple[str, str]:
    """A new conference's URL, and the callback path its events go to."""
    path = unique("/conf")
    body = {"from": FROM, "callbackUrl": callbacks.url(path), **fields}
    response = api.post(f"/v1/users/{creds.user_id}/conferences", json=body)
    assert response.status_code == 201, response.text
    assert "/conferences/conf-" in response.headers["location"]
    return response.headers["location"], path


def add_member(
    api: httpx.Client, conference: str, call: str, headers: dict[str, str] | None = None, **fields: Any
) -> str:
    response = api.post(f"{conference}/members", json={"callId": last(call), **fields}, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["location"].startswith(f"{conference}/members/member-")
    return response.headers["location"]


def last(url: str) -> str:
    return url.rsplit("/", 1)[1]


def recording_phone(tmp_path: Path, phones: list[Phone], name: str, *args: str) -> tuple[Phone, Path]:
    heard = tmp_path / f"{name}.wav"
    phone = Phone(*args, "--record", str(heard), "--count", "1")
    phones.append(phone)
    return phone, heard


def heard_by(phone: Phone, path: Path) -> np.ndarray:
    phone.wait_for("recorded")
    return read_wav(path)


def member_states(events: list[dict[str, Any]]) -> list[tuple[str, int, bool, bool]]:
    return [
        (event["state"], event["activeMembers"], event["mute"], event["hold"])
        for event in events
        if event["eventType"] == "conference-member"
    ]


def test_three_members_each_hear_exactly_the_other_two(api, creds, callbacks, phones, tmp_path):
    conference, path = create_conference(api, creds, callbacks, tag="weekly")
    conference_id = last(conference)
    a, heard_a = recording_phone(tmp_path, phones, "a", "--tone", str(A))
    b, heard_b = recording_phone(tmp_path, phones, "b", "--tone", str(B), "--codec", "PCMA")
    c, heard_c = recording_phone(tmp_path, phones, "c", "--tone", str(C))
    calls = [
        answered_call(api, creds, callbacks, a, conferenceId=conference_id, recordingEnabled=True),
        answered_call(api, creds, callbacks, b, conferenceId=conference_id),
        answered_call(api, creds, callbacks, c, conferenceId=conference_id),
    ]
    assert b.wait_for("answered")["codec"] == "PCMA" and a.wait_for("answered")["codec"] == "PCMU"
    members = [add_member(api, conference, call) for call in calls]
    resource = api.get(conference).json()
    assert (resource["state"], resource["activeMembers"], resource["tag"]) == ("active", 3, "weekly")
    listed = api.get(f"{conference}/members").json()
    assert [member["id"] for member in listed] == [last(url) for url in members]
    assert [member["call"] for member in listed] == calls
    assert all(m["state"] == "active" and not m["mute"] and not m["hold"] for m in listed)
    time.sleep(2.0)
    hang_up(api, *calls)
    recordings = {"a": heard_by(a, heard_a), "b": heard_by(b, heard_b), "c": heard_by(c, heard_c)}
    tones = {"a": A, "b": B, "c": C}
    for name, samples in recordings.items():
        for other, hz in tones.items():
            seconds = tone_seconds(samples, hz)
            if other == name:
                assert seconds == 0, f"{name} heard itself for {seconds} s"
            else:
                assert 1.6 <= seconds <= 3.0, f"{name} heard {other} for {seconds} s"
    # The server's recording of A is what A said and heard: all three tones.
    media = api.get(f"/v1/users/{creds.user_id}/media/{last(calls[0])}-1.wav")
    assert media.status_code == 200
    with wave.open(io.BytesIO(media.content)) as wav:
        recorded = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    assert all(tone_seconds(recorded, hz) >= 1.6 for hz in (A, B, C))
    completed = api.get(conference).json()
    assert completed["state"] == "completed" and completed["activeMembers"] == 0
    assert completed["completedTime"] >= completed["createdTime"]
    events = events_of(callbacks, path, 8)
    first, *changes, final = events
    assert (first["eventType"], first["status"], first["tag"]) == ("conference", "created", "weekly")
    assert first["conferenceId"] == conference_id and first["conferenceUri"] == conference
    assert member_states(changes) == [
        ("active", 1, False, False),
        ("active", 2, False, False),
        ("active", 3, False, False),
        ("completed", 2, False, False),
        ("completed", 1, False, False),
        ("completed", 0, False, False),
    ]
    joined = changes[0]
    assert joined["memberId"] == last(members[0]) and joined["callId"] == last(calls[0])
    assert joined["memberUri"] == members[0] and joined["conferenceUri"] == conference
    assert (final["eventType"], final["status"]) == ("conference", "completed")
    assert final["completedTime"] == completed["completedTime"]
    gone = api.get(members[0]).json()
    assert gone["state"] == "completed" and gone["removedTime"] >= gone["addedTime"]
    refused = api.post(f"{conference}/members", json={"callId": last(calls[0])})
    assert refused.status_code == 403 and refused.json()["code"] == "conference-error"


def test_mute_and_hold_change_who_hears_whom(api, creds, callbacks, phones, tmp_path):
    conference, path = create_conference(api, creds, callbacks)
    conference_id = last(conference)
    a, heard_a = recording_phone(tmp_path, phones, "a", "--tone", str(A))
    b, heard_b = recording_phone(tmp_path, phones, "b", "--tone", str(B))
    c, heard_c = recording_phone(tmp_path, phones, "c")
    calls = [answered_call(api, creds, callbacks, p, conferenceId=conference_id) for p in (a, b, c)]
    member_a, member_b, member_c = (add_member(api, conference, call) for call in calls)
    time.sleep(1.5)  # everyone hears everyone
    assert api.post(member_a, json={"mute": True}).status_code == 200
    assert api.get(member_a).json()["mute"] is True
    time.sleep(1.5)  # A is not heard, but hears
    assert api.post(member_a, json={"mute": False}).status_code == 200
    assert api.post(member_b, json={"hold": True}).status_code == 200
    time.sleep(1.5)  # B neither hears nor is heard
    assert api.post(member_c, json={"state": "completed"}).status_code == 200
    assert api.get(calls[2]).json()["state"] == "active"  # removed from the conference, the call goes on
    assert api.post(conference, json={"state": "completed"}).status_code == 200
    assert [api.get(call).json()["state"] for call in calls] == ["active"] * 3
    hang_up(api, *calls)
    heard = {"a": heard_by(a, heard_a), "b": heard_by(b, heard_b), "c": heard_by(c, heard_c)}
    assert 2.5 <= tone_seconds(heard["c"], A) <= 3.6  # not while A was muted
    assert 2.5 <= tone_seconds(heard["c"], B) <= 3.6  # not while B was held
    assert 1.0 <= tone_seconds(heard["b"], A) <= 2.0  # B heard A only before the hold
    assert 2.5 <= tone_seconds(heard["a"], B) <= 3.6  # muted A still heard B
    assert tone_seconds(heard["a"], A) == tone_seconds(heard["b"], B) == 0
    events = events_of(callbacks, path, 11)
    assert member_states(events) == [
        ("active", 1, False, False),
        ("active", 2, False, False),
        ("active", 3, False, False),
        ("active", 3, True, False),  # A muted
        ("active", 3, False, False),  # A unmuted
        ("active", 3, False, True),  # B held
        ("completed", 2, False, False),  # C removed
        ("completed", 1, False, False),  # the conference ended: A, then B
        ("completed", 0, False, True),
    ]
    assert [event["eventType"] for event in events if event["eventType"] == "conference"] == [
        "conference"
    ] * 2
    assert api.get(conference).json()["state"] == "completed"


def test_conference_audio_member_audio_and_tones(live, api, creds, callbacks, phones, tmp_path):
    for name, hz, seconds in (("conf1200.wav", 1200, 1.0), ("member1800.wav", 1800, 0.6)):
        samples = (8000 * np.sin(2 * np.pi * hz * np.arange(int(8000 * seconds)) / 8000)).astype(np.int16)
        assert (
            api.put(f"/v1/users/{creds.user_id}/media/{name}", content=encode_wav(samples)).status_code == 200
        )
    media = f"{live.base_url}/v1/users/{creds.user_id}/media"
    conference, path = create_conference(api, creds, callbacks, tag="conf-tag")
    a, heard_a = recording_phone(tmp_path, phones, "a")
    b, heard_b = recording_phone(tmp_path, phones, "b")
    call_path = unique("/member-a")
    call_a = answered_call(api, creds, callbacks, a, call_path, conferenceId=last(conference))
    call_b = answered_call(api, creds, callbacks, b, conferenceId=last(conference))
    member_a = add_member(api, conference, call_a, joinTone=True)
    member_b = add_member(api, conference, call_b, joinTone=True, leavingTone=True)
    time.sleep(0.5)
    played = api.post(f"{conference}/audio", json={"fileUrl": f"{media}/conf1200.wav", "tag": "all"})
    assert played.status_code == 200
    time.sleep(1.3)
    alone = api.post(f"{member_a}/audio", json={"fileUrl": f"{media}/member1800.wav", "tag": "just-a"})
    assert alone.status_code == 200
    time.sleep(0.9)
    assert api.post(member_b, json={"state": "completed"}).status_code == 200
    time.sleep(0.6)
    assert api.get(conference).json()["state"] == "active"
    hang_up(api, call_a)  # the last member's call ends: the conference completes
    assert wait_conference_state(api, conference, "completed")
    hang_up(api, call_b)
    heard = {"a": heard_by(a, heard_a), "b": heard_by(b, heard_b)}
    assert 0.8 <= tone_seconds(heard["a"], 1200) <= 1.2 and 0.8 <= tone_seconds(heard["b"], 1200) <= 1.2
    assert 0.4 <= tone_seconds(heard["a"], 1800) <= 0.8 and tone_seconds(heard["b"], 1800) == 0
    # A heard its own join tone, B's, and B's leaving tone; B only its own join tone.
    assert 0.3 <= tone_seconds(heard["a"], JOIN_NOTE) <= 0.6
    assert 0.06 <= tone_seconds(heard["b"], JOIN_NOTE) <= 0.25
    events = events_of(callbacks, path, 8)
    audio = [event for event in events if event["eventType"] == "conference-playback"]
    assert [(event["status"], event["tag"]) for event in audio] == [("started", "all"), ("done", "all")]
    assert all(event["conferenceUri"] == conference for event in audio)
    assert [event["eventType"] for event in events if event["eventType"] == "conference"] == [
        "conference"
    ] * 2
    assert member_states(events) == [
        ("active", 1, False, False),
        ("active", 2, False, False),
        ("completed", 1, False, False),
        ("completed", 0, False, False),
    ]
    member_audio = [e for e in events_of(callbacks, call_path, 3) if e["eventType"] == "playback"]
    assert [(event["status"], event["tag"]) for event in member_audio] == [
        ("started", "just-a"),
        ("done", "just-a"),
    ]


def wait_conference_state(api: httpx.Client, url: str, state: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.get(url).json()["state"] == state:
            return True
        time.sleep(0.05)
    return False


def test_member_refusals_on_live_calls(api, creds, callbacks, phones):
    conference, _ = create_conference(api, creds, callbacks)
    other, _ = create_conference(api, creds, callbacks)
    a, b = Phone("--count", "1"), Phone("--count", "1")
    phones.extend([a, b])
    call_a = answered_call(api, creds, callbacks, a, conferenceId=last(conference))
    call_b = answered_call(api, creds, callbacks, b)
    elsewhere = api.post(f"{other}/members", json={"callId": last(call_a)})
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "invalid-call-conference-id"
    plain = api.post(f"{conference}/members", json={"callId": last(call_b)})
    assert plain.status_code == 403 and plain.json()["code"] == "invalid-call-conference-id"
    key = {"Idempotency-Key": unique("member-key")}
    member = add_member(api, conference, call_a, headers=key)
    assert add_member(api, conference, call_a, headers=key) == member  # a retry: the same member
    twice = api.post(f"{conference}/members", json={"callId": last(call_a)})
    assert twice.status_code == 409 and twice.json()["code"] == "conference-member-update-conflict"
    assert api.post(member, json={"state": "completed"}).status_code == 200
    again = api.post(member, json={"mute": True})
    assert again.status_code == 409 and again.json()["code"] == "conference-member-update-conflict"
    gone = api.post(f"{member}/audio", json={"sentence": "hello"})
    assert gone.status_code == 503 and gone.json()["code"] == "call-unavailable"
    assert api.get(conference).json()["state"] == "completed"  # its only member left
    hang_up(api, call_a, call_b)
    wait_state(api, call_a, "completed")
    for url in (conference, other):
        if api.get(url).json()["state"] != "completed":
            assert api.post(url, json={"state": "completed"}).status_code == 200


def tone_amplitudes(samples: np.ndarray, hz: float) -> np.ndarray:
    """Per 20 ms frame, the amplitude of the tone of `hz` (a multiple of 50) in it."""
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160).astype(float)
    return np.abs(np.fft.rfft(frames, axis=1))[:, round(hz / 50)] / 80


def test_interpret_digits_keypad_turns_down_mutes_and_leaves(api, creds, callbacks, phones, tmp_path):
    conference, path = create_conference(api, creds, callbacks)
    # Soon after joining, A presses 1 (talk volume down), then 0 (mute), then # (leave), a second apart.
    a, _ = recording_phone(tmp_path, phones, "a", "--tone", str(A), "--dtmf", "WWW1WW0WW#")
    b, heard_b = recording_phone(tmp_path, phones, "b")
    path_a = unique("/keypad-a")
    call_b = answered_call(api, creds, callbacks, b, conferenceId=last(conference))
    call_a = answered_call(api, creds, callbacks, a, path_a, conferenceId=last(conference))
    add_member(api, conference, call_a)
    add_member(api, conference, call_b)
    events = events_of(callbacks, path, 5)  # created, A and B joined, A muted, A left
    assert member_states(events) == [
        ("active", 1, False, False),
        ("active", 2, False, False),
        ("active", 2, True, False),
        ("completed", 1, True, False),
    ]
    assert api.get(call_a).json()["state"] == "active"  # leaving the conference is not hanging up
    hang_up(api, call_a, call_b)
    amplitudes = tone_amplitudes(heard_by(b, heard_b), A)
    assert np.sum((amplitudes > 7600) & (amplitudes < 8400)) * 0.02 >= 0.5  # as A spoke at first
    assert np.sum((amplitudes > 6000) & (amplitudes < 6800)) * 0.02 >= 0.5  # 0.8 of that after "1"
    assert 4.0 <= np.sum(amplitudes > 2000) * 0.02 <= 6.0  # until "0" (5 s after A answered)
    assert np.all(amplitudes[-50:] < 500)  # then nothing: muted, then gone
    assert "dtmf" not in [event["eventType"] for event in events_of(callbacks, path_a, 2)]  # answer, hangup


def test_passthru_digits_reach_the_app(api, creds, callbacks, phones):
    conference, _ = create_conference(api, creds, callbacks, profile="passthru_digits")
    a = Phone("--dtmf", "WW5", "--count", "1")
    phones.append(a)
    path_a = unique("/passthru-a")
    call_a = answered_call(api, creds, callbacks, a, path_a, conferenceId=last(conference))
    member = add_member(api, conference, call_a)
    answer, dtmf = events_of(callbacks, path_a, 2)
    assert (dtmf["eventType"], dtmf["dtmfDigit"]) == ("dtmf", "5")
    assert api.get(member).json()["mute"] is False
    hang_up(api, call_a)


def test_conference_mute_and_hold_apply_to_everyone(api, creds, callbacks, phones, tmp_path):
    conference, _ = create_conference(api, creds, callbacks)
    a, heard_a = recording_phone(tmp_path, phones, "a", "--tone", str(A))
    b, heard_b = recording_phone(tmp_path, phones, "b", "--tone", str(B))
    calls = [answered_call(api, creds, callbacks, p, conferenceId=last(conference)) for p in (a, b)]
    for call in calls:
        add_member(api, conference, call)
    time.sleep(1.0)  # both hear each other
    assert api.post(conference, json={"mute": True}).status_code == 200
    assert api.get(conference).json()["mute"] is True
    time.sleep(1.0)  # nobody is heard
    assert api.post(conference, json={"mute": False, "hold": True}).status_code == 200
    time.sleep(1.0)  # nobody hears
    assert api.post(conference, json={"hold": False}).status_code == 200
    time.sleep(1.0)  # both again
    hang_up(api, *calls)
    for samples, other in ((heard_by(a, heard_a), B), (heard_by(b, heard_b), A)):
        assert 1.5 <= tone_seconds(samples, other) <= 2.6
