"""Bridges end to end: two `trebuchet phone`s, one playing a tone, both recording what they hear. Bridged,
the other hears the tone and the player hears no echo of itself; held or unbridged, nobody hears it."""

from __future__ import annotations

import io
import time
import wave
from pathlib import Path

import numpy as np

from trebuchet.media.wav import read_wav

from .support import Phone, answered_call, bridge, hang_up, tone_seconds, toned_seconds, unique


def two_phones(tmp_path: Path, phones: list[Phone]) -> tuple[Phone, Phone, Path, Path]:
    heard_a, heard_b = tmp_path / "a.wav", tmp_path / "b.wav"
    a = Phone("--tone", "1000", "--record", str(heard_a), "--count", "1")
    b = Phone("--record", str(heard_b), "--count", "1")
    phones.extend([a, b])
    return a, b, heard_a, heard_b


def test_bridged_calls_hear_each_other_and_no_echo(api, creds, callbacks, phones, tmp_path):
    a, b, heard_a, heard_b = two_phones(tmp_path, phones)
    call_a, call_b = answered_call(api, creds, callbacks, a), answered_call(api, creds, callbacks, b)
    ids = [call_a.rsplit("/", 1)[1], call_b.rsplit("/", 1)[1]]
    url = bridge(api, creds, callIds=ids)
    resource = api.get(url).json()
    assert resource["state"] == "active" and resource["callIds"] == ids and resource["bridgeAudio"] is True
    assert resource["activatedTime"] >= resource["createdTime"] and resource["calls"] == f"{url}/calls"
    time.sleep(1.5)
    assert api.post(url, json={"bridgeAudio": False}).status_code == 200  # hold: no more audio
    assert api.get(url).json()["state"] == "hold"
    time.sleep(1.0)
    hang_up(api, call_a, call_b)
    a.wait_for("recorded")
    b.wait_for("recorded")
    assert 1.2 <= toned_seconds(read_wav(heard_b), 1000) <= 1.9  # B heard A's tone while bridged only
    assert toned_seconds(read_wav(heard_a), 1000) == 0  # A never heard itself
    assert sorted(c["id"] for c in api.get(f"{url}/calls").json()) == sorted(ids)
    completed = api.get(url).json()
    assert completed["state"] == "completed" and completed["callIds"] == [] and completed["completedTime"]


def test_calls_created_with_bridge_id_join_on_answer_and_one_may_leave(
    api, creds, callbacks, phones, tmp_path
):
    a, b, _, heard_b = two_phones(tmp_path, phones)
    url = bridge(api, creds)
    assert api.get(url).json()["state"] == "created"
    bridge_id = url.rsplit("/", 1)[1]
    call_a = answered_call(api, creds, callbacks, a, bridgeId=bridge_id)
    assert api.get(url).json()["state"] == "created"  # one call: nothing to bridge yet
    call_b = answered_call(api, creds, callbacks, b, bridgeId=bridge_id)
    assert api.get(url).json()["state"] == "active"
    time.sleep(1.0)
    hang_up(api, call_a)  # A leaves; B stays up
    assert api.get(call_b).json()["state"] == "active"
    assert api.get(url).json()["callIds"] == [call_b.rsplit("/", 1)[1]]
    played = api.post(f"{url}/audio", json={"sentence": "still here"})
    assert played.status_code == 200
    hang_up(api, call_b)
    b.wait_for("recorded")
    assert 0.7 <= toned_seconds(read_wav(heard_b), 1000) <= 1.4
    assert api.get(url).json()["state"] == "completed"


def test_bridge_refusals(api, creds, callbacks, phones):
    a, b, c = Phone("--count", "1"), Phone("--count", "1"), Phone("--count", "1")
    phones.extend([a, b, c])
    urls = [answered_call(api, creds, callbacks, phone) for phone in (a, b, c)]
    ids = [url.rsplit("/", 1)[1] for url in urls]
    base = f"/v1/users/{creds.user_id}/bridges"
    overflow = api.post(base, json={"callIds": ids})
    assert overflow.status_code == 403 and overflow.json()["code"] == "bridge-callIds-overflow"
    unknown = api.post(base, json={"callIds": ["c-nosuchcallnosuchcallnosu"]})
    assert unknown.status_code == 404 and unknown.json()["code"] == "call-not-found"
    bad = api.post(base, json={"callIds": "c-1"})
    assert bad.status_code == 400 and bad.json()["code"] == "validation-error"
    first = bridge(api, creds, callIds=ids[:2])
    taken = api.post(base, json={"callIds": [ids[0]]})
    assert taken.status_code == 400 and taken.json()["code"] == "bridge-bridged-callId"
    full = api.post(first, json={"callIds": ids})
    assert full.status_code == 403 and full.json()["code"] == "bridge-callIds-overflow"
    assert api.post(first, json={"callIds": [ids[0], ids[2]]}).status_code == 200  # b out, c in
    assert api.get(first).json()["callIds"] == [ids[0], ids[2]]
    assert api.post(first, json={"callIds": []}).status_code == 200
    assert api.get(first).json()["state"] == "completed"
    closed = api.post(first, json={"bridgeAudio": True})
    assert closed.status_code == 400 and closed.json()["code"] == "bridge-invalid-state"
    assert api.get(f"{base}/brg-nosuchbridgenosuchbrid").status_code == 404
    listed = api.get(base).json()
    assert first.rsplit("/", 1)[1] in [item["id"] for item in listed]
    hang_up(api, *urls)


def test_a_recording_in_a_bridge_has_what_the_call_says_and_hears(api, creds, callbacks, phones):
    a, b = Phone("--tone", "400", "--count", "1"), Phone("--tone", "1000", "--count", "1")
    phones.extend([a, b])
    call_a = answered_call(api, creds, callbacks, a, recordingEnabled=True)
    call_b = answered_call(api, creds, callbacks, b)
    bridge(api, creds, callIds=[call_a.rsplit("/", 1)[1], call_b.rsplit("/", 1)[1]])
    time.sleep(1.5)
    hang_up(api, call_a, call_b)
    name = f"{call_a.rsplit('/', 1)[1]}-1.wav"
    deadline = time.monotonic() + 10
    while (media := api.get(f"/v1/users/{creds.user_id}/media/{name}")).status_code != 200:
        assert time.monotonic() < deadline, "the recording was never saved"
        time.sleep(0.1)
    with wave.open(io.BytesIO(media.content)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    assert tone_seconds(samples, 400) >= 1.3  # what A said
    assert 1.2 <= tone_seconds(samples, 1000) <= 2.0  # what A heard from B, while bridged


def test_a_bridge_is_created_once_per_idempotency_key(api, creds):
    base = f"/v1/users/{creds.user_id}/bridges"
    headers = {"Idempotency-Key": unique("bridge-key")}
    first = api.post(base, json={"bridgeAudio": True}, headers=headers)
    again = api.post(base, json={"bridgeAudio": True}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.headers["location"] == again.headers["location"]
    other = api.post(base, json={"bridgeAudio": False}, headers=headers)
    assert other.status_code == 409 and other.json()["code"] == "idempotency-key-reused"
