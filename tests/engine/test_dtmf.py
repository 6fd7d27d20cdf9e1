"""DTMF on live calls: digits the far end presses become `dtmf` events (one per digit, in order), and
`POST /calls/{id}/dtmf` sends RFC 4733 digits with Catapult's pauses."""

from __future__ import annotations

import time

from ..support import assert_error, free_port
from .support import (
    SIPP_SCENARIOS,
    Phone,
    calls_url,
    dial,
    event_types,
    events_of,
    sipp_result,
    start_sipp,
    unique,
    wait_state,
)


def test_digits_pressed_become_one_dtmf_event_each_in_order(api, creds, callbacks, phones):
    phone = Phone("--dtmf", "159#", "--hangup-after", "2")
    phones.append(phone)
    path = unique("/ok")
    url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path), tag="keys")
    events = events_of(callbacks, path, 6)
    assert [e["eventType"] for e in events] == ["answer", "dtmf", "dtmf", "dtmf", "dtmf", "hangup"]
    assert [e["dtmfDigit"] for e in events[1:5]] == ["1", "5", "9", "#"]
    assert all(e["tag"] == "keys" and e["callUri"].endswith(url.rsplit("/", 1)[1]) for e in events[1:5])
    timeline = [(e["name"], e.get("data")) for e in api.get(f"{url}/events").json()]
    assert [data for name, data in timeline if name == "dtmf"] == ["1", "5", "9", "#"]


def test_dtmf_out_reaches_the_phone_with_its_pauses(api, creds, callbacks, phones):
    phone = Phone("--count", "1")
    phones.append(phone)
    path = unique("/ok")
    url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path))
    assert event_types(callbacks, path, 1) == ["answer"]
    assert api.post(f"{url}/dtmf", json={"dtmfOut": "2W3"}).status_code == 200
    assert phone.wait_for("dtmf")["digit"] == "2"
    heard_first = time.monotonic()
    assert phone.wait_for("dtmf")["digit"] == "3"
    assert time.monotonic() - heard_first >= 0.9  # W: a second of pause (plus the digit itself)
    assert api.post(url, json={"state": "completed"}).status_code == 200
    wait_state(api, url, "completed")


def test_bad_dtmf_out_is_400_naming_the_field(api, creds, callbacks, phones):
    phone = Phone("--count", "1")
    phones.append(phone)
    path = unique("/ok")
    url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path))
    assert event_types(callbacks, path, 1) == ["answer"]
    assert_error(api.post(f"{url}/dtmf", json={"dtmfOut": "12x"}), 400, "validation-error", "dtmfOut")
    assert_error(api.post(f"{url}/dtmf", json={"dtmfOut": "1" * 93}), 400, "validation-error", "dtmfOut")
    assert_error(api.post(f"{url}/dtmf", json={}), 400, "missing-property", "dtmfOut")
    assert api.post(url, json={"state": "completed"}).status_code == 200
    wait_state(api, url, "completed")
    assert_error(api.post(f"{url}/dtmf", json={"dtmfOut": "1"}), 503, "send-dtmf-failure")
    assert_error(
        api.post(f"{calls_url(creds)}/c-nosuchcallnosuchcallnosu/dtmf", json={"dtmfOut": "1"}),
        404,
        "call-not-found",
    )


def test_a_far_end_without_telephone_event_gets_no_digits(api, creds, callbacks):
    """sipp's answer offers PCMU only: sending digits is refused with the spec's 503, the call goes on."""
    port = free_port()
    sipp = start_sipp("-sf", str(SIPP_SCENARIOS / "uas_answer.xml"), "-i", "127.0.0.1", "-p", str(port))
    path = unique("/ok")
    headers = {"X-Header-1": "value1", "X-Header-2": "value 2"}
    url = dial(
        api, creds, f"sip:callee@127.0.0.1:{port}", callbackUrl=callbacks.url(path), sipHeaders=headers
    )
    assert event_types(callbacks, path, 1) == ["answer"]
    refused = api.post(f"{url}/dtmf", json={"dtmfOut": "1"})
    assert_error(refused, 503, "send-dtmf-failure")
    assert "telephone-event" in refused.json()["message"]
    assert api.get(url).json()["state"] == "active"
    assert api.post(url, json={"state": "completed"}).status_code == 200
    code, output = sipp_result(sipp)
    assert code == 0, output
