"""DTMF gathers end to end. The server calls one of its own numbers, so both legs are ours: leg A sends
digits with `POST /dtmf` exactly when the test says, and leg B (the inbound call) gathers them."""

from __future__ import annotations

import itertools
import time

from .support import calls_url, events_of, unique, wait_state

FROM = "+19195551212"
_numbers = itertools.count(7100)


def two_legs(live, api, creds, callbacks) -> tuple[str, str, str, str]:
    """(leg A url, leg B url, A's callback path, B's callback path), both legs answered."""
    path_a, path_b = unique("/ok"), unique("/ok")
    base = f"/v1/users/{creds.user_id}"
    app = api.post(f"{base}/applications", json={"name": path_b, "incomingCallUrl": callbacks.url(path_b)})
    assert app.status_code == 201, app.text
    number = f"+1919555{next(_numbers):04d}"
    app_id = app.headers["location"].rsplit("/", 1)[1]
    assert (
        api.post(f"{base}/phoneNumbers", json={"number": number, "applicationId": app_id}).status_code == 201
    )
    created = api.post(
        calls_url(creds),
        json={
            "from": FROM,
            "to": f"sip:{number}@127.0.0.1:{live.sip_port}",
            "callbackUrl": callbacks.url(path_a),
        },
    )
    assert created.status_code == 201, created.text
    leg_a = created.headers["location"]
    incoming, _ = events_of(callbacks, path_b, 2)  # incomingcall, answer (auto)
    assert events_of(callbacks, path_a, 1)[0]["eventType"] == "answer"
    leg_b = f"{calls_url(creds)}/{incoming['callId']}"
    return leg_a, leg_b, path_a, path_b


def gather_events(callbacks, path: str, timeout: float = 10.0) -> list[dict]:
    received = callbacks.wait_for(
        lambda r: r.path == path and r.event["eventType"] == "gather", timeout=timeout
    )
    return [r.event for r in received]


def start_gather(api, leg: str, **body: object) -> str:
    response = api.post(f"{leg}/gather", json=body)
    assert response.status_code == 201, response.text
    assert f"{leg.rsplit('/', 1)[1]}/gather/gtr-" in response.headers["location"]
    return response.headers["location"]


def hang_up(api, *legs: str) -> None:
    for leg in legs:
        assert api.post(leg, json={"state": "completed"}).status_code == 200
    for leg in legs:
        wait_state(api, leg, "completed")


def test_terminating_digit_ends_a_gather_without_being_counted(live, api, creds, callbacks):
    leg_a, leg_b, _, path_b = two_legs(live, api, creds, callbacks)
    gather = start_gather(api, leg_b, maxDigits=5, tag="pin")
    assert api.get(gather).json()["state"] == "started"
    assert api.post(f"{leg_a}/dtmf", json={"dtmfOut": "12#"}).status_code == 200
    [event] = gather_events(callbacks, path_b)
    assert (event["reason"], event["digits"], event["state"], event["tag"]) == (
        "terminating-digit",
        "12",
        "completed",
        "pin",
    )
    assert event["gatherId"] == gather.rsplit("/", 1)[1] and event["callId"] == leg_b.rsplit("/", 1)[1]
    resource = api.get(gather).json()
    assert resource["state"] == "completed" and resource["reason"] == "terminating-digit"
    assert resource["digits"] == "12" and resource["call"].endswith(leg_b.rsplit("/", 1)[1])
    assert resource["completedTime"] >= resource["createdTime"]
    dtmf = [e["dtmfDigit"] for e in events_of(callbacks, path_b, 6) if e["eventType"] == "dtmf"]
    assert dtmf == ["1", "2", "#"]  # every digit is also its own dtmf event
    hang_up(api, leg_a)


def test_max_digits_and_a_second_gather(live, api, creds, callbacks):
    leg_a, leg_b, _, path_b = two_legs(live, api, creds, callbacks)
    start_gather(api, leg_b, maxDigits=3, terminatingDigits="")
    assert api.post(f"{leg_a}/dtmf", json={"dtmfOut": "1234"}).status_code == 200
    [event] = gather_events(callbacks, path_b)
    assert (event["reason"], event["digits"]) == ("max-digits", "123")
    callbacks.wait_for(lambda r: r.path == path_b and r.event.get("dtmfDigit") == "4")  # heard, not gathered
    start_gather(api, leg_b, maxDigits=1)  # the first is complete, so another may start
    assert api.post(f"{leg_a}/dtmf", json={"dtmfOut": "9"}).status_code == 200
    second = callbacks.wait_for(lambda r: r.path == path_b and r.event["eventType"] == "gather", count=2)[1]
    assert (second.event["reason"], second.event["digits"]) == ("max-digits", "9")
    hang_up(api, leg_a)


def test_inter_digit_timeout_counts_from_the_last_digit(live, api, creds, callbacks):
    leg_a, leg_b, _, path_b = two_legs(live, api, creds, callbacks)
    start_gather(api, leg_b, interDigitTimeout=1)
    started = time.monotonic()
    assert api.post(f"{leg_a}/dtmf", json={"dtmfOut": "7w8"}).status_code == 200
    [event] = gather_events(callbacks, path_b)
    assert (event["reason"], event["digits"]) == ("inter-digit-timeout", "78")
    assert 1.5 <= time.monotonic() - started <= 4  # 0.5 s pause, then a second of waiting
    hang_up(api, leg_a)


def test_hang_up_and_stop_complete_a_gather(live, api, creds, callbacks):
    leg_a, leg_b, _, path_b = two_legs(live, api, creds, callbacks)
    gather = start_gather(api, leg_b, interDigitTimeout=30)
    duplicate = api.post(f"{leg_b}/gather", json={})
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "call-duplicate-gather-error"
    assert api.post(gather, json={"state": "completed"}).status_code == 200
    [event] = gather_events(callbacks, path_b)
    assert event["reason"] == "cancelled" and event["digits"] == ""
    assert api.post(gather, json={"state": "completed"}).status_code == 200  # quietly, once more
    start_gather(api, leg_b, interDigitTimeout=30)
    hang_up(api, leg_a)  # B hears the BYE: its gather ends hung-up
    hung = callbacks.wait_for(lambda r: r.path == path_b and r.event["eventType"] == "gather", count=2)[1]
    assert hung.event["reason"] == "hung-up"


def test_bad_gathers_are_refused(live, api, creds, callbacks):
    leg_a, leg_b, _, _ = two_legs(live, api, creds, callbacks)
    for body, field in (
        ({"maxDigits": 31}, "maxDigits"),
        ({"maxDigits": "two"}, "maxDigits"),
        ({"interDigitTimeout": 31}, "interDigitTimeout"),
        ({"interDigitTimeout": 0}, "interDigitTimeout"),
        ({"terminatingDigits": "x"}, "terminatingDigits"),
        ({"prompt": "say it"}, "prompt"),
        ({"prompt": {"sentence": ""}}, "prompt"),
    ):
        refused = api.post(f"{leg_b}/gather", json=body)
        assert refused.status_code == 400 and refused.json()["code"] == "validation-error", (
            body,
            refused.text,
        )
        assert {"name": "property", "value": field} in [
            {"name": d["name"], "value": d["value"]} for d in refused.json()["details"]
        ]
    missing = api.get(f"{leg_b}/gather/gtr-nosuchgathernosuchgathe")
    assert missing.status_code == 404
    bad_update = api.post(f"{leg_b}/gather/gtr-nosuchgathernosuchgathe", json={"state": "started"})
    assert bad_update.status_code == 400
    hang_up(api, leg_a)
    refused = api.post(f"{leg_b}/gather", json={})
    assert refused.status_code == 403 and refused.json()["code"] == "call-invalid-state"


def test_a_prompt_plays_until_the_first_digit(live, api, creds, callbacks):
    leg_a, leg_b, _, path_b = two_legs(live, api, creds, callbacks)
    prompt = {"sentence": "Please enter your four digit PIN, then press the pound key.", "tag": "ask"}
    start_gather(api, leg_b, maxDigits=4, prompt=prompt)
    [started] = callbacks.wait_for(lambda r: r.path == path_b and r.event["eventType"] == "speak")
    assert (started.event["status"], started.event["tag"]) == ("started", "ask")
    time.sleep(0.5)
    pressed = time.monotonic()
    assert api.post(f"{leg_a}/dtmf", json={"dtmfOut": "4321"}).status_code == 200
    done = callbacks.wait_for(lambda r: r.path == path_b and r.event["eventType"] == "speak", count=2)[1]
    assert done.event["status"] == "done"
    assert time.monotonic() - pressed < 2.5  # the first digit cut the prompt short (it lasts ~4 s)
    [event] = gather_events(callbacks, path_b)
    assert (event["reason"], event["digits"]) == ("max-digits", "4321")
    hang_up(api, leg_a)
