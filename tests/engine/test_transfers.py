"""Transfers end to end (`state: transferring`, spec §2.6): a `trebuchet phone` in a call is transferred to
another one, which hears the whisper first and then the caller; a busy target gives the call back; the
caller hanging up takes the ringing target with it."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from trebuchet.media.wav import read_wav

from .support import Phone, answered_call, events_of, hang_up, tone_seconds, unique, wait_state
from .test_inbound import caller, number_with_app

CALLER_ID = "+19195550100"


def transfer(api, call: str, target: Phone, **fields: object):
    return api.post(call, json={"state": "transferring", "transferTo": target.uri(), **fields})


def test_a_transfer_whispers_to_the_target_then_bridges_it_with_the_call(
    api, creds, callbacks, phones, tmp_path: Path
):
    heard_a, heard_b = tmp_path / "a.wav", tmp_path / "b.wav"
    a = Phone("--tone", "400", "--record", str(heard_a), "--count", "1")
    b = Phone("--record", str(heard_b), "--count", "1")
    phones.extend([a, b])
    call_a = answered_call(api, creds, callbacks, a)
    path_b = unique("/leg")
    response = transfer(
        api,
        call_a,
        b,
        transferCallerId=CALLER_ID,
        callbackUrl=callbacks.url(path_b),
        whisperAudio={"sentence": "A customer is on the line for you"},
    )
    assert response.status_code == 201, response.text
    leg = response.headers["location"]
    assert leg.startswith(call_a.rsplit("/", 1)[0] + "/c-") and leg != call_a
    assert api.get(call_a).json()["state"] == "transferring"  # while the target rings and hears the whisper
    assert b.wait_for("incoming")["from"].startswith(f"sip:{CALLER_ID}@")
    answer, started, done = events_of(callbacks, path_b, 3)
    assert answer["eventType"] == "answer" and answer["callId"] == leg.rsplit("/", 1)[1]
    assert (started["eventType"], started["status"], done["status"]) == ("speak", "started", "done")
    wait_state(api, call_a, "active")
    a_now, b_now = api.get(call_a).json(), api.get(leg).json()
    assert b_now["state"] == "active" and b_now["from"] == CALLER_ID and b_now["direction"] == "out"
    assert a_now["bridgeId"] == b_now["bridgeId"]
    bridge = api.get(f"/v1/users/{creds.user_id}/bridges/{a_now['bridgeId']}").json()
    assert bridge["state"] == "active" and sorted(bridge["callIds"]) == sorted([a_now["id"], b_now["id"]])
    time.sleep(1.5)
    hang_up(api, call_a)
    assert wait_state(api, leg, "completed")["state"] == "completed"  # the target goes with the caller
    b.wait_for("recorded")
    a.wait_for("recorded")
    target = read_wav(heard_b)
    assert 1.2 <= tone_seconds(target, 400) <= 2.5  # the caller, once connected
    frames = target[: len(target) // 160 * 160].reshape(-1, 160).astype(float)
    loud = np.flatnonzero(np.sqrt(np.mean(frames**2, axis=1)) > 500)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    pure = (power[:, 8] > 0.8 * power.sum(axis=1)) & (np.sqrt(frames.var(axis=1)) > 2000)  # the tone alone
    first_tone = int(np.flatnonzero(pure)[0])
    assert loud[0] < first_tone - 25  # the whisper came first, for more than half a second
    assert np.max(np.abs(read_wav(heard_a))) < 500  # the caller never heard the whisper


def test_a_busy_target_gives_the_call_back(api, creds, callbacks, phones):
    a, b = Phone("--count", "1"), Phone("--reject", "486", "--count", "1")
    phones.extend([a, b])
    call_a = answered_call(api, creds, callbacks, a)
    path_b = unique("/busy-leg")
    response = transfer(api, call_a, b, callbackUrl=callbacks.url(path_b))
    assert response.status_code == 201, response.text
    [hangup] = events_of(callbacks, path_b, 1)
    assert (hangup["eventType"], hangup["cause"]) == ("hangup", "USER_BUSY")
    wait_state(api, call_a, "active")
    assert api.post(f"{call_a}/audio", json={"sentence": "sorry, nobody is free"}).status_code == 200
    hang_up(api, call_a)


def test_the_caller_hanging_up_cancels_the_ringing_target(api, creds, callbacks, phones):
    a, b = Phone("--count", "1"), Phone("--answer-after", "20", "--count", "1")
    phones.extend([a, b])
    call_a = answered_call(api, creds, callbacks, a)
    response = transfer(api, call_a, b)
    assert response.status_code == 201, response.text
    b.wait_for("incoming")
    hang_up(api, call_a)
    wait_state(api, response.headers["location"], "completed")
    b.wait_for("cancelled")


def test_transfer_refusals(api, creds, callbacks, phones):
    a = Phone("--count", "1")
    phones.append(a)
    call_a = answered_call(api, creds, callbacks, a)
    bad_whisper = api.post(
        call_a, json={"state": "transferring", "transferTo": a.uri(), "whisperAudio": {"loopEnabled": True}}
    )
    assert bad_whisper.status_code == 400 and bad_whisper.json()["code"] == "validation-error"
    assert api.get(call_a).json()["state"] == "active"  # refused: nothing rang, nothing changed
    hang_up(api, call_a)
    ended = api.post(call_a, json={"state": "transferring", "transferTo": a.uri()})
    assert ended.status_code == 403 and ended.json()["code"] == "call-invalid-state"


def test_the_python_sdk_transfers_and_gets_the_new_call_id(live, api, creds, callbacks, phones):
    bandwidth = pytest.importorskip("bandwidth", reason="bandwidth_sdk is a dev dependency")
    voice = bandwidth.client("voice", creds.user_id, creds.token, creds.secret, api_endpoint=live.base_url)
    a, b = Phone("--count", "1"), Phone("--count", "1")
    phones.extend([a, b])
    call_a = answered_call(api, creds, callbacks, a)
    whisper = voice.build_sentence(sentence="Transferring you now", gender="female", loop_enabled=True)
    leg_id = voice.transfer_call(call_a.rsplit("/", 1)[1], b.uri(), whisper_audio=whisper)
    assert leg_id.startswith("c-")
    leg = f"{call_a.rsplit('/', 1)[0]}/{leg_id}"
    wait_state(api, leg, "active")
    wait_state(api, call_a, "active")  # once the whisper has played (one pass, though it asked to loop)
    assert voice.get_call(leg_id)["bridge_id"] == api.get(call_a).json()["bridgeId"]
    hang_up(api, call_a)
    wait_state(api, leg, "completed")


def test_an_inbound_calls_diversion_is_reported_and_stacked_on_transfer(live, api, creds, callbacks, phones):
    path = unique("/diverted")
    number = number_with_app(api, creds, callbacks, path)
    diverted = "<sip:+15551230000@127.0.0.1>;reason=user-busy;counter=2;x-site=east"
    a = caller(live, number, "--header", f"Diversion: {diverted}")
    b = Phone("--count", "1")
    phones.extend([a, b])
    incoming, answer = events_of(callbacks, path, 2)
    expected = {
        "origTo": "+15551230000",
        "reason": "user-busy",
        "screen": "no",
        "privacy": "off",
        "counter": 2,
        "x-site": "east",
    }
    assert incoming["diversion"] == expected and answer["diversion"] == expected
    call_a = f"/v1/users/{creds.user_id}/calls/{incoming['callId']}"
    body = {"diversionTreatment": "stack", "diversionReason": "unconditional"}
    assert transfer(api, call_a, b, **body).status_code == 201
    lines = b.wait_for("incoming")["diversion"]  # one header line, newest first
    assert ", ".join(lines) == f"<sip:{number}@127.0.0.1>;reason=unconditional;counter=1, {diverted}"
    hang_up(api, call_a)
