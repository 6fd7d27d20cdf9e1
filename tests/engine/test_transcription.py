"""Transcriptions of recordings (spec §6): made for calls with `transcriptionEnabled` and on demand, the
`transcription` event with the words that were said, the resource and its text in the user's media, and
the refusals and the error form. The far end speaks a sentence made by espeak-ng; Whisper must hear it."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from trebuchet.media import SAMPLE_RATE
from trebuchet.media.wav import write_wav
from trebuchet.speech import speak

from ..speech.words import word_accuracy
from ..support import ServerProcess
from .support import Phone, assert_nothing_left, dial, event_types, unique

SENTENCE = "Hello, this is a reminder that your package will arrive tomorrow morning. Please call us back."
TRANSCRIBED_WITHIN = 60.0  # the server's first transcription starts its worker and loads the model


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """The sentence as a WAV the phone plays, and how long it lasts."""
    samples = asyncio.run(speak(SENTENCE, voice="Kate"))
    path = tmp_path_factory.mktemp("speech") / "message.wav"
    write_wav(path, samples)
    return path, len(samples) / SAMPLE_RATE


def events_named(callbacks, path: str, kind: str, count: int = 1, timeout: float = 15.0) -> list[dict]:
    found = callbacks.wait_for(
        lambda r: r.path == path and r.event["eventType"] == kind, count=count, timeout=timeout
    )
    return [r.event for r in found]


def record_speech(api, creds, callbacks, phones, speech, **fields: object) -> tuple[str, str, dict]:
    """A recorded call to a phone that says SENTENCE, hung up once it has; (call URL, callback path,
    the recording event)."""
    wav, seconds = speech
    phone = Phone("--play", str(wav), "--count", "1")
    phones.append(phone)
    path = unique("/tr")
    url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path), recordingEnabled=True, **fields)
    assert event_types(callbacks, path, 1) == ["answer"]
    time.sleep(seconds + 0.8)
    assert api.post(url, json={"state": "completed"}).status_code == 200
    [recorded] = events_named(callbacks, path, "recording")
    assert recorded["state"] == "complete"
    return url, path, recorded


def test_a_call_with_transcription_enabled_is_transcribed(api, creds, callbacks, phones, speech):
    url, path, recorded = record_speech(
        api, creds, callbacks, phones, speech, transcriptionEnabled=True, tag="voicemail"
    )
    [event] = events_named(callbacks, path, "transcription", timeout=TRANSCRIBED_WITHIN)
    assert event["state"] == event["status"] == "completed", event
    assert word_accuracy(SENTENCE, event["text"]) >= 0.8, event["text"]
    assert event["recordingId"] == recorded["recordingId"] and event["tag"] == "voicemail"
    call_id = url.rsplit("/", 1)[1]
    assert event["callId"] == call_id
    user_base = f"/v1/users/{creds.user_id}"
    tid = event["transcriptionId"]
    assert tid.startswith("tr-")
    assert event["transcriptionUri"].endswith(
        f"{user_base}/recordings/{recorded['recordingId']}/transcriptions/{tid}"
    )
    assert event["textUrl"].endswith(f"{user_base}/media/{tid}")
    assert event["textSize"] == len(event["text"])

    resource = api.get(f"{user_base}/recordings/{recorded['recordingId']}/transcriptions/{tid}").json()
    assert resource["state"] == "completed" and resource["text"] == event["text"]
    assert resource["textSize"] == event["textSize"] and resource["textUrl"] == event["textUrl"]
    assert abs(resource["chargeableDuration"] - speech[1]) <= 2.5, resource
    assert resource["time"].endswith("Z")
    text = api.get(f"{user_base}/media/{tid}")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert text.content.decode("utf-8") == event["text"]
    assert [t["id"] for t in api.get(f"{url}/transcriptions").json()] == [tid]
    listed = api.get(f"{user_base}/recordings/{recorded['recordingId']}/transcriptions", params={"size": 5})
    assert listed.status_code == 200 and [t["id"] for t in listed.json()] == [tid]
    assert 'rel="first"' in listed.headers["link"]
    kinds = [r.event["eventType"] for r in callbacks.requests if r.path == path]
    assert kinds.index("recording") < kinds.index("transcription")
    names = [e["name"] for e in api.get(f"{url}/events").json()]
    assert "transcription" in names


def test_a_recording_is_transcribed_on_demand(api, creds, callbacks, phones, speech):
    url, path, recorded = record_speech(api, creds, callbacks, phones, speech)
    user_base = f"/v1/users/{creds.user_id}"
    assert api.get(f"{url}/transcriptions").json() == []  # not enabled: none made by itself
    create = f"{user_base}/recordings/{recorded['recordingId']}/transcriptions"
    response = api.post(create, json={}, headers={"Idempotency-Key": "once"})
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert "/recordings/" in location and location.rsplit("/", 1)[1].startswith("tr-")
    again = api.post(create, json={}, headers={"Idempotency-Key": "once"})
    assert again.status_code == 201 and again.headers["location"] == location
    duplicate = api.post(create, json={})  # a second one, while the first runs or once it is done
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate-transcription"
    early = api.get(location).json()
    assert early["state"] in ("transcribing", "completed") and early["textUrl"].endswith(early["id"])
    [event] = events_named(callbacks, path, "transcription", timeout=TRANSCRIBED_WITHIN)
    assert event["state"] == "completed" and event["transcriptionId"] == early["id"]
    assert word_accuracy(SENTENCE, event["text"]) >= 0.8, event["text"]
    assert [t["id"] for t in api.get(f"{url}/transcriptions").json()] == [early["id"]]


def test_refusals_and_the_error_form(api, creds, callbacks, phones):
    user_base = f"/v1/users/{creds.user_id}"
    phone = Phone("--tone", "700", "--count", "1")
    phones.append(phone)
    path = unique("/tr")
    url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path), recordingEnabled=True, tag="err")
    assert event_types(callbacks, path, 1) == ["answer"]
    [running] = api.get(f"{url}/recordings").json()
    refused = api.post(f"{user_base}/recordings/{running['id']}/transcriptions", json={})
    assert refused.status_code == 403 and refused.json()["code"] == "invalid-recording-state"
    assert refused.json()["message"] == (
        f"Cannot transcribe the recording {running['id']}. The state must be complete"
    )
    time.sleep(0.5)
    assert api.post(url, json={"state": "completed"}).status_code == 200
    [recorded] = events_named(callbacks, path, "recording")
    call_id = url.rsplit("/", 1)[1]
    assert api.delete(f"{user_base}/media/{call_id}-1.wav").status_code == 200
    response = api.post(f"{user_base}/recordings/{recorded['recordingId']}/transcriptions")  # no body: {}
    assert response.status_code == 201, response.text
    [event] = events_named(callbacks, path, "transcription")
    tid = response.headers["location"].rsplit("/", 1)[1]
    assert event == {
        "eventType": "transcription",
        "state": "error",
        "status": "error",
        "transcriptionId": tid,
        "recordingId": recorded["recordingId"],
        "callId": call_id,
        "time": event["time"],
        "tag": "err",
    }
    resource = api.get(response.headers["location"]).json()
    assert resource["state"] == "error" and "text" not in resource and resource["textUrl"].endswith(tid)
    assert api.get(f"{user_base}/media/{tid}").status_code == 404
    retried = api.post(f"{user_base}/recordings/{recorded['recordingId']}/transcriptions", json={})
    assert retried.status_code == 201  # after an error, another try is no duplicate
    events_named(callbacks, path, "transcription", count=2)

    def code(response) -> tuple[int, str]:
        return response.status_code, response.json()["code"]

    rec = recorded["recordingId"]
    assert code(api.post(f"{user_base}/recordings/rec-missing/transcriptions", json={})) == (
        404,
        "recording-not-found",
    )
    assert code(api.get(f"{user_base}/recordings/rec-missing/transcriptions")) == (404, "recording-not-found")
    missing = api.get(f"{user_base}/recordings/{rec}/transcriptions/tr-missing")
    assert code(missing) == (404, "transcription-not-found")
    assert missing.json()["message"] == "The transcription tr-missing could not be found"
    assert code(api.get(f"{user_base}/calls/c-missing/transcriptions")) == (404, "call-not-found")
    assert code(api.post(f"{user_base}/recordings/{rec}/transcriptions", json=[1])) == (
        400,
        "validation-error",
    )


def test_a_transcription_cut_short_by_a_crash_ends_in_error_after_restart(
    fresh_server: ServerProcess, callbacks, phones, speech
):
    server = fresh_server.start()
    creds = server.first_user()
    with server.client(creds) as api:
        _, path, recorded = record_speech(api, creds, callbacks, phones, speech)
        create = f"/v1/users/{creds.user_id}/recordings/{recorded['recordingId']}/transcriptions"
        response = api.post(create, json={})
        assert response.status_code == 201, response.text
        location = response.headers["location"]
        assert api.get(location).json()["state"] == "transcribing"  # its worker and model are still loading
        server.stop(signal.SIGKILL, keep_trunk=True)
    server.start()
    [event] = events_named(callbacks, path, "transcription", timeout=20)
    assert event["state"] == "error" and event["transcriptionId"] == location.rsplit("/", 1)[1]
    with server.client(creds) as api:
        assert api.get(location).json()["state"] == "error"
        assert_nothing_left(api)
