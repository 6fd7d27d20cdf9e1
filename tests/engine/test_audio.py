"""Playing files and speaking sentences into live calls (`POST /calls/{id}/audio`), and a gather's prompt.

What the far end hears is checked: a `trebuchet phone` records it, and the recording must contain the
tone that was played, or the words that were spoken (transcribed back with Whisper)."""

from __future__ import annotations

import asyncio
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from trebuchet.media.audio_files import encode_mp3, encode_wav
from trebuchet.media.wav import read_wav
from trebuchet.speech import Transcriber

from ..speech.words import word_accuracy
from .support import Phone, dial, event_types, events_of, unique, wait_state


def tone(hz: float, seconds: float, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * hz * t) * 12000).astype(np.int16)


def dominant(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(float)))
    return float(np.argmax(spectrum) * 8000 / len(samples))


def toned_seconds(samples: np.ndarray) -> float:
    """How long something loud played: 20 ms frames whose RMS is well above silence."""
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160).astype(float)
    return float(np.sum(np.sqrt(np.mean(frames**2, axis=1)) > 3000) * 0.02)


def audio_events(callbacks, path: str, count: int, timeout: float = 15.0) -> list[dict]:
    found = callbacks.wait_for(
        lambda r: r.path == path and r.event["eventType"] in ("playback", "speak"),
        count=count,
        timeout=timeout,
    )
    return [r.event for r in found]


class FileServer:
    """A plain HTTP file server on loopback, counting the requests it answers."""

    def __init__(self, root: Path) -> None:
        counts = self.counts = {}

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, directory=str(root), **kwargs)

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                counts[self.path] = counts.get(self.path, 0) + 1
                super().do_GET()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def files(tmp_path: Path):
    server = FileServer(tmp_path)
    yield server, tmp_path
    server.close()


def recorded(phone: Phone, path: Path) -> np.ndarray:
    phone.wait_for("recorded")
    return read_wav(path)


def test_a_file_from_the_users_media_plays_with_started_and_done(
    live, api, creds, callbacks, phones, tmp_path
):
    put = api.put(f"/v1/users/{creds.user_id}/media/tone700.wav", content=encode_wav(tone(700, 1.0)))
    assert put.status_code == 200
    heard = tmp_path / "heard.wav"
    phone = Phone("--record", str(heard), "--count", "1")
    phones.append(phone)
    path = unique("/ok")
    url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path), tag="call-tag")
    assert event_types(callbacks, path, 1) == ["answer"]
    media_url = f"{live.base_url}/v1/users/{creds.user_id}/media/tone700.wav"
    started_at = time.monotonic()
    assert api.post(f"{url}/audio", json={"fileUrl": media_url, "tag": "greeting"}).status_code == 200
    started, done = audio_events(callbacks, path, 2)
    assert (started["eventType"], started["status"], started["tag"]) == ("playback", "started", "greeting")
    assert (done["status"], done["tag"]) == ("done", "greeting")
    assert 0.9 <= time.monotonic() - started_at <= 3
    assert api.post(url, json={"state": "completed"}).status_code == 200
    samples = recorded(phone, heard)
    loud = np.flatnonzero(np.abs(samples) > 3000)
    assert abs(toned_seconds(samples) - 1.0) < 0.1  # one second of tone reached the phone
    assert abs(dominant(samples[loud[0] : loud[0] + 4000]) - 700) < 15
    wait_state(api, url, "completed")


def test_a_remote_mp3_is_fetched_once_and_loops_until_stopped(api, creds, callbacks, phones, files, tmp_path):
    server, root = files
    (root / "beep.mp3").write_bytes(encode_mp3(tone(500, 0.4)))
    heard = tmp_path / "heard.wav"
    phone = Phone("--record", str(heard), "--count", "1")
    phones.append(phone)
    path = unique("/ok")
    url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path))
    assert event_types(callbacks, path, 1) == ["answer"]
    body = {"fileUrl": server.url("beep.mp3"), "loopEnabled": True}
    assert api.post(f"{url}/audio", json=body).status_code == 200
    time.sleep(1.5)
    assert api.post(f"{url}/audio", json={"fileUrl": ""}).status_code == 200  # stops it
    started, done = audio_events(callbacks, path, 2)
    assert (started["status"], done["status"]) == ("started", "done")
    assert api.post(f"{url}/audio", json=body | {"loopEnabled": False}).status_code == 200
    audio_events(callbacks, path, 4)
    assert server.counts == {"/beep.mp3": 1}  # the second play came from the cache
    refused = api.post(f"{url}/audio", json={"fileUrl": ""})
    assert refused.status_code == 403 and refused.json()["code"] == "call-audio-invalid-state"
    assert api.post(url, json={"state": "completed"}).status_code == 200
    samples = recorded(phone, heard)
    loud = np.flatnonzero(np.abs(samples) > 3000)
    assert 1.6 <= toned_seconds(samples) <= 2.4  # about 1.5 s looped, then one more 0.4 s pass
    assert abs(dominant(samples[loud[0] : loud[0] + 3200]) - 500) < 15


def test_a_spoken_sentence_is_heard_as_those_words(api, creds, callbacks, phones, tmp_path):
    sentence = "Thank you for calling. Please leave a message after the tone."
    heard = tmp_path / "heard.wav"
    phone = Phone("--record", str(heard), "--count", "1")
    phones.append(phone)
    path = unique("/ok")
    url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path))
    assert event_types(callbacks, path, 1) == ["answer"]
    body = {"sentence": sentence, "voice": "susan", "locale": "en_US", "gender": "female", "tag": "vm"}
    assert api.post(f"{url}/audio", json=body).status_code == 200
    started, done = audio_events(callbacks, path, 2, timeout=30)
    assert (started["eventType"], started["state"], done["state"]) == (
        "speak",
        "PLAYBACK_START",
        "PLAYBACK_STOP",
    )
    assert api.post(url, json={"state": "completed"}).status_code == 200
    samples = recorded(phone, heard)

    async def transcribe() -> str:
        async with Transcriber(executor="thread") as transcriber:
            return await transcriber.transcribe(samples)

    text = asyncio.run(transcribe())
    assert word_accuracy(sentence, text) >= 0.8, text


def test_audio_that_cannot_be_had_is_refused_and_the_call_goes_on(api, creds, callbacks, phones, files):
    server, root = files
    (root / "notes.txt").write_text("not audio at all")
    phone = Phone("--count", "1")
    phones.append(phone)
    path = unique("/ok")
    url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path))
    assert event_types(callbacks, path, 1) == ["answer"]
    for body, status, code in (
        ({"fileUrl": server.url("missing.wav")}, 503, "media-unavailable"),
        ({"fileUrl": server.url("notes.txt")}, 403, "media-not-supported"),
        ({"fileUrl": "ftp://127.0.0.1/x.wav"}, 403, "media-invalid-url"),
        ({"sentence": "hello", "voice": "Nobody"}, 400, "validation-error"),
        ({"sentence": "x" * 1001}, 400, "validation-error"),
        ({"sentence": "hello", "fileUrl": server.url("a.wav")}, 400, "validation-error"),
        ({}, 400, "validation-error"),
        ({"sentence": "hello", "volume": 5}, 400, "validation-error"),
    ):
        refused = api.post(f"{url}/audio", json=body)
        assert (refused.status_code, refused.json()["code"]) == (status, code), (body, refused.text)
    assert api.get(url).json()["state"] == "active"
    assert api.post(url, json={"state": "completed"}).status_code == 200
    wait_state(api, url, "completed")
    ended = api.post(f"{url}/audio", json={"sentence": "too late"})
    assert ended.status_code == 403 and ended.json()["code"] == "call-audio-invalid-state"
    assert [e["eventType"] for e in events_of(callbacks, path, 2)] == ["answer", "hangup"]
