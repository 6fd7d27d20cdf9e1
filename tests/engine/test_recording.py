"""Recording live calls: `recordingEnabled` at create or by update, WAV and MP3 files in the user's media,
`recording` events, `recordingMaxDuration`, and the recording resources. What is heard is checked."""

from __future__ import annotations

import io
import time
import wave
from datetime import datetime

import numpy as np

from trebuchet.media.audio_files import decode_audio

from ..support import free_port
from ..test_phone import PCAP_AUDIO, best_alignment, pcap_alaw_audio
from .support import (
    SIPP_SCENARIOS,
    Phone,
    dial,
    event_types,
    events_of,
    sipp_result,
    start_sipp,
    unique,
    wait_state,
)


def dominant(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(float)))
    return float(np.argmax(spectrum) * 8000 / len(samples))


def recording_events(callbacks, path: str, count: int) -> list[dict]:
    found = callbacks.wait_for(lambda r: r.path == path and r.event["eventType"] == "recording", count=count)
    return [r.event for r in found]


def test_a_recorded_call_saves_a_wav_of_what_was_heard(api, creds, callbacks, phones):
    phone = Phone("--tone", "1000", "--count", "1")
    phones.append(phone)
    path = unique("/ok")
    url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path), recordingEnabled=True, tag="rec")
    assert event_types(callbacks, path, 1) == ["answer"]
    time.sleep(2.0)
    assert api.post(url, json={"state": "completed"}).status_code == 200
    [event] = recording_events(callbacks, path, 1)
    assert event["state"] == event["status"] == "complete" and event["tag"] == "rec"
    assert event["recordingUri"].endswith(f"/recordings/{event['recordingId']}")
    recording = api.get(f"/v1/users/{creds.user_id}/recordings/{event['recordingId']}").json()
    call_id = url.rsplit("/", 1)[1]
    assert recording["state"] == "complete" and recording["media"].endswith(f"/media/{call_id}-1.wav")
    assert recording["call"].endswith(call_id)
    media = api.get(f"/v1/users/{creds.user_id}/media/{call_id}-1.wav")
    assert media.status_code == 200 and media.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(media.content)) as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (8000, 2, 1)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    call = wait_state(api, url, "completed")
    active = (
        datetime.fromisoformat(call["endTime"]) - datetime.fromisoformat(call["activeTime"])
    ).total_seconds()
    assert abs(len(samples) / 8000 - active) < 0.15, (len(samples) / 8000, active)
    assert abs(dominant(samples[800:-800]) - 1000) < 20
    listed = api.get(f"{url}/recordings").json()
    assert [r["id"] for r in listed] == [event["recordingId"]]


def test_toggling_records_again_and_mp3_decodes(api, creds, callbacks, phones):
    phone = Phone("--tone", "600", "--count", "1")
    phones.append(phone)
    path = unique("/ok")
    url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path), recordingEnabled=True)
    assert event_types(callbacks, path, 1) == ["answer"]
    time.sleep(0.6)
    refused = api.post(url, json={"recordingFileFormat": "mp3"})
    assert refused.status_code == 409 and refused.json()["code"] == "conflicted-recording-values-request"
    assert api.post(url, json={"recordingEnabled": False}).status_code == 200
    recording_events(callbacks, path, 1)
    assert api.post(url, json={"recordingEnabled": True, "recordingFileFormat": "mp3"}).status_code == 200
    time.sleep(1.0)
    assert api.post(url, json={"state": "completed"}).status_code == 200
    first, second = recording_events(callbacks, path, 2)
    assert first["state"] == second["state"] == "complete"
    call_id = url.rsplit("/", 1)[1]
    names = sorted(r["media"].rsplit("/", 1)[1] for r in api.get(f"{url}/recordings").json())
    assert names == [f"{call_id}-1.wav", f"{call_id}-2.mp3"]
    mp3 = api.get(f"/v1/users/{creds.user_id}/media/{call_id}-2.mp3")
    assert mp3.headers["content-type"] == "audio/mpeg"
    samples = decode_audio(mp3.content)
    assert 0.8 <= len(samples) / 8000 <= 1.4
    assert abs(dominant(samples[800:-800]) - 600) < 20


def test_recording_stops_at_its_max_duration_and_the_call_goes_on(api, creds, callbacks, phones):
    phone = Phone("--tone", "800", "--count", "1")
    phones.append(phone)
    path = unique("/ok")
    url = dial(
        api,
        creds,
        phone.uri(),
        callbackUrl=callbacks.url(path),
        recordingEnabled=True,
        recordingMaxDuration=1,
    )
    assert event_types(callbacks, path, 1) == ["answer"]
    [event] = recording_events(callbacks, path, 1)
    assert event["state"] == "complete"
    assert api.get(url).json()["state"] == "active"
    assert api.get(url).json()["recordingEnabled"] is False
    call_id = url.rsplit("/", 1)[1]
    with wave.open(io.BytesIO(api.get(f"/v1/users/{creds.user_id}/media/{call_id}-1.wav").content)) as wav:
        assert abs(wav.getnframes() / 8000 - 1.0) < 0.1
    assert api.post(url, json={"state": "completed"}).status_code == 200
    [_, _, hangup] = events_of(callbacks, path, 3)
    assert hangup["eventType"] == "hangup"


def test_sipp_speech_and_a_digit_are_recorded_and_reported(api, creds, callbacks):
    """sipp answers and plays 7 s of A-law speech and an RFC 4733 "1": the digit is an event, and the
    recording holds that speech intact (correlation) and lasts as long as the call was up."""
    port = free_port()
    sipp = start_sipp("-sf", str(SIPP_SCENARIOS / "uas_media.xml"), "-i", "127.0.0.1", "-p", str(port))
    path = unique("/ok")
    url = dial(
        api, creds, f"sip:media@127.0.0.1:{port}", callbackUrl=callbacks.url(path), recordingEnabled=True
    )
    [first] = events_of(callbacks, path, 1)
    assert first["eventType"] == "answer", first
    [digit] = callbacks.wait_for(lambda r: r.path == path and r.event["eventType"] == "dtmf", timeout=20)
    assert digit.event["dtmfDigit"] == "1"
    assert api.post(url, json={"state": "completed"}).status_code == 200
    code, output = sipp_result(sipp)
    assert code == 0, output
    recording_events(callbacks, path, 1)
    call = wait_state(api, url, "completed")
    call_id = url.rsplit("/", 1)[1]
    with wave.open(io.BytesIO(api.get(f"/v1/users/{creds.user_id}/media/{call_id}-1.wav").content)) as wav:
        heard = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    active = (
        datetime.fromisoformat(call["endTime"]) - datetime.fromisoformat(call["activeTime"])
    ).total_seconds()
    assert abs(len(heard) / 8000 - active) < 0.1, (len(heard) / 8000, active)
    sent = pcap_alaw_audio(PCAP_AUDIO)
    assert best_alignment(heard, sent) > 0.9
