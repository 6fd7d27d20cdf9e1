"""Inbound calls end to end: a phone (or sipp) calls one of a user's numbers on the server's SIP port, the
number's application hears about it at its incomingCallUrl, and the API answers, rejects or hangs up.
"""

from __future__ import annotations

import time

import httpx

from ..support import CallbackServer, Credentials, ServerProcess
from .support import (
    SIPP_SCENARIOS,
    Phone,
    calls_url,
    event_types,
    events_of,
    settle,
    sipp_result,
    start_sipp,
    unique,
    wait_state,
)

CALLER = "+19195557777"


_numbers = iter(range(100, 999))


def number_with_app(
    api: httpx.Client, creds: Credentials, callbacks: CallbackServer, path: str, **app: object
) -> str:
    """A fresh number of the user's, attached to a new application whose incomingCallUrl is `path`."""
    base = f"/v1/users/{creds.user_id}"
    body = {"name": f"app-{path}", "incomingCallUrl": callbacks.url(path), **app}
    created = api.post(f"{base}/applications", json=body)
    assert created.status_code == 201, created.text
    app_id = created.headers["location"].rsplit("/", 1)[1]
    number = f"+1919555{next(_numbers):04d}"
    imported = api.post(f"{base}/phoneNumbers", json={"number": number, "applicationId": app_id})
    assert imported.status_code == 201, imported.text
    return number


def caller(live: ServerProcess, number: str, *args: str) -> Phone:
    return Phone(
        "--dial", f"sip:{number}@127.0.0.1:{live.sip_port}", "--from", f"sip:{CALLER}@127.0.0.1", *args
    )


def test_auto_answered_call_reports_incomingcall_answer_and_hangup(live, api, creds, callbacks, phones):
    path = unique("/ok")
    number = number_with_app(api, creds, callbacks, path)
    phones.append(phone := caller(live, number, "--hangup-after", "1"))
    incoming, answer, hangup = events_of(callbacks, path, 3)
    assert incoming["eventType"] == "incomingcall"
    assert incoming["callState"] == "active" and incoming["applicationId"].startswith("a-")
    assert (incoming["from"], incoming["to"]) == (CALLER, number)
    assert answer["eventType"] == "answer" and answer["callId"] == incoming["callId"]
    assert hangup["eventType"] == "hangup" and hangup["cause"] == "NORMAL_CLEARING"
    phone.wait_for("answered")
    call = wait_state(api, f"{calls_url(creds)}/{incoming['callId']}", "completed")
    assert call["direction"] == "in" and call["activeTime"] and call["chargeableDuration"] == 60


def test_application_answers_through_the_api(live, api, creds, callbacks, phones):
    path = unique("/ok")
    number = number_with_app(api, creds, callbacks, path, autoAnswer=False)
    phones.append(phone := caller(live, number, "--hangup-after", "0.5"))
    [incoming] = events_of(callbacks, path, 1)
    assert incoming["callState"] == "started"
    phone.wait_for("ringing")
    url = f"{calls_url(creds)}/{incoming['callId']}"
    assert api.get(url).json()["state"] == "started"
    assert api.post(url, json={"state": "active"}).status_code == 200
    assert api.get(url).json()["state"] == "active"
    phone.wait_for("answered")
    assert event_types(callbacks, path, 3) == ["incomingcall", "answer", "hangup"]
    wait_state(api, url, "completed")


def test_application_rejects_through_the_api(live, api, creds, callbacks, phones):
    path = unique("/ok")
    number = number_with_app(api, creds, callbacks, path, autoAnswer=False)
    phones.append(phone := caller(live, number))
    [incoming] = events_of(callbacks, path, 1)
    phone.wait_for("ringing")
    url = f"{calls_url(creds)}/{incoming['callId']}"
    assert api.post(url, json={"state": "rejected"}).status_code == 200
    assert phone.wait_for("failed")["status"] == 603
    [_, hangup] = events_of(callbacks, path, 2)
    assert hangup["cause"] == "CALL_REJECTED" and hangup["callState"] == "completed"
    assert api.get(url).json()["state"] == "rejected"
    refused = api.post(url, json={"state": "active"})
    assert refused.status_code == 403 and refused.json()["code"] == "call-invalid-state"


def test_application_hangs_up_a_ringing_call(live, api, creds, callbacks, phones):
    path = unique("/ok")
    number = number_with_app(api, creds, callbacks, path, autoAnswer=False)
    phones.append(phone := caller(live, number))
    [incoming] = events_of(callbacks, path, 1)
    phone.wait_for("ringing")
    url = f"{calls_url(creds)}/{incoming['callId']}"
    assert api.post(url, json={"state": "completed"}).status_code == 200
    assert phone.wait_for("failed")["status"] == 480
    assert event_types(callbacks, path, 2)[1] == "hangup"
    assert api.get(url).json()["state"] == "completed"


def test_application_hangs_up_an_answered_call(live, api, creds, callbacks, phones):
    path = unique("/ok")
    number = number_with_app(api, creds, callbacks, path)
    phones.append(phone := caller(live, number))
    [incoming, _] = events_of(callbacks, path, 2)
    phone.wait_for("answered")
    url = f"{calls_url(creds)}/{incoming['callId']}"
    assert api.post(url, json={"state": "completed"}).status_code == 200
    assert phone.wait_for("ended")
    [_, _, hangup] = events_of(callbacks, path, 3)
    assert hangup["cause"] == "NORMAL_CLEARING"


def test_caller_cancels_while_ringing(live, api, creds, callbacks):
    path = unique("/ok")
    number = number_with_app(api, creds, callbacks, path, autoAnswer=False)
    sipp = start_sipp(
        "-sf", str(SIPP_SCENARIOS / "uac_cancel.xml"), "-s", number, f"127.0.0.1:{live.sip_port}"
    )
    code, output = sipp_result(sipp)
    assert code == 0, output
    [incoming, hangup] = events_of(callbacks, path, 2)
    assert hangup["eventType"] == "hangup" and hangup["cause"] == "ORIGINATOR_CANCEL"
    url = f"{calls_url(creds)}/{incoming['callId']}"
    refused = api.post(url, json={"state": "active"})
    assert refused.status_code == 403 and refused.json()["code"] == "call-invalid-state"


def test_unknown_number_is_404(live, api, phones):
    phones.append(phone := caller(live, "+19195550001"))
    assert phone.wait_for("failed")["status"] == 404


def test_number_without_application_is_480_with_an_error_entry(live, api, creds, phones):
    number = "+19195550002"
    assert api.post(f"/v1/users/{creds.user_id}/phoneNumbers", json={"number": number}).status_code == 201
    phones.append(phone := caller(live, number))
    assert phone.wait_for("failed")["status"] == 480
    deadline = time.monotonic() + 5
    while True:
        codes = [e["code"] for e in api.get(f"/v1/users/{creds.user_id}/errors").json()]
        if "no-application-for-number" in codes or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert "no-application-for-number" in codes
    settle(0.2)
