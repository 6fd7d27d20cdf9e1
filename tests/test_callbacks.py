"""Callback delivery through the real server to a real local HTTP server, one test per delivery rule."""

from __future__ import annotations

import base64
import hashlib
import hmac
import signal
import time
import uuid

import pytest

from .support import CallbackServer, Credentials, ServerProcess
from .test_api_calls import FROM, TO, calls_path, created_id


def unique(path: str) -> str:
    return f"{path}/{uuid.uuid4().hex[:8]}"


def hang_up(api, creds: Credentials, call_id: str) -> None:
    assert api.post(f"{calls_path(creds)}/{call_id}", json={"state": "completed"}).status_code == 200


def make_call(api, creds: Credentials, **fields: object) -> str:
    return created_id(api.post(calls_path(creds), json={"from": FROM, "to": TO, **fields}))


def _plain(details: list[dict]) -> list[dict]:
    return [{"name": d["name"], "value": d["value"]} for d in details]


def errors_for_call(api, creds: Credentials, call_id: str, count: int = 1) -> list[dict]:
    """The user's /errors entries about `call_id`, waiting (bounded) until `count` have been written."""
    deadline = time.monotonic() + 10
    while True:
        errors = api.get(f"/v1/users/{creds.user_id}/errors", params={"size": 200}).json()
        mine = [e for e in errors if {"name": "callId", "value": call_id} in _plain(e["details"])]
        if len(mine) >= count or time.monotonic() > deadline:
            return mine
        time.sleep(0.05)


def test_post_callback_carries_the_hangup_event(api, user, server, callbacks: CallbackServer):
    path = unique("/ok")
    call_id = make_call(api, user, callbackUrl=callbacks.url(path), tag="my-tag")
    hang_up(api, user, call_id)
    [received] = callbacks.wait_for(lambda r: r.path == path)
    assert received.method == "POST"
    assert received.headers["content-type"] == "application/json; charset=utf-8"
    assert received.headers["user-agent"].startswith("BandwidthAPI/v1")
    assert received.headers["x-trebuchet-event-id"].startswith("ev-")
    event = received.json
    assert event["eventType"] == "hangup"
    assert event["callId"] == call_id
    assert event["callUri"] == f"{server.base_url}/v1/users/{user.user_id}/calls/{call_id}"
    assert (event["from"], event["to"]) == (FROM, TO)
    assert event["cause"] == "ORIGINATOR_CANCEL"  # hung up while ringing at the trunk
    assert event["tag"] == "my-tag"
    assert event["time"].endswith("Z")
    assert "x-trebuchet-signature" not in received.headers


def test_get_callback_sends_the_fields_in_the_query_string(api, user, callbacks):
    path = unique("/ok")
    call_id = make_call(api, user, callbackUrl=callbacks.url(path) + "?app=7", callbackHttpMethod="GET")
    hang_up(api, user, call_id)
    [received] = callbacks.wait_for(lambda r: r.path == path)
    assert received.method == "GET"
    assert received.body == b""
    assert received.query["app"] == "7"
    assert received.query["eventType"] == "hangup"
    assert received.query["callId"] == call_id
    assert received.query["cause"] == "ORIGINATOR_CANCEL"
    assert received.query["from"] == FROM


def test_slow_server_past_callback_timeout_falls_back(api, user, callbacks):
    slow, fallback = unique("/slow/1500"), unique("/ok")
    started = time.monotonic()
    call_id = make_call(
        api, user, callbackUrl=callbacks.url(slow), callbackTimeout=300, fallbackUrl=callbacks.url(fallback)
    )
    hang_up(api, user, call_id)
    [received] = callbacks.wait_for(lambda r: r.path == fallback)
    assert received.json["callId"] == call_id
    assert time.monotonic() - started < 1.4  # the fallback did not wait for the slow server's answer
    mine = errors_for_call(api, user, call_id)
    assert mine and mine[0]["code"] == "callback-delivery-failed"
    assert "300 ms" in mine[0]["message"]


def test_server_error_then_fallback_once(api, user, callbacks):
    failing, fallback = unique("/status/500"), unique("/status/503")
    call_id = make_call(api, user, callbackUrl=callbacks.url(failing), fallbackUrl=callbacks.url(fallback))
    hang_up(api, user, call_id)
    callbacks.wait_for(lambda r: r.path == fallback)
    time.sleep(1.5)  # nothing more may come: no retries without a retry fragment
    assert callbacks.counts[failing] == 1 and callbacks.counts[fallback] == 1
    mine = errors_for_call(api, user, call_id, count=2)
    assert {e["message"].rsplit(": ", 1)[1] for e in mine} == {"HTTP 500", "HTTP 503"}


def test_retry_fragment_retries_and_is_never_sent(api, user, callbacks):
    flaky = unique("/fail-times/2")
    call_id = make_call(api, user, callbackUrl=callbacks.url(flaky) + "#rc=3&rp=5xx")
    hang_up(api, user, call_id)
    received = callbacks.wait_for(lambda r: r.path == flaky, count=3)
    assert [r.json["callId"] for r in received] == [call_id] * 3
    assert len({r.headers["x-trebuchet-event-id"] for r in received}) == 1
    time.sleep(1.0)
    assert callbacks.counts[flaky] == 3  # delivered on the third try, then no more


def test_retry_fragment_only_retries_the_listed_failures(api, user, callbacks):
    flaky = unique("/fail-times/1")
    call_id = make_call(api, user, callbackUrl=callbacks.url(flaky) + "#rc=3&rp=ct,4xx")
    hang_up(api, user, call_id)
    callbacks.wait_for(lambda r: r.path == flaky)
    time.sleep(1.5)
    assert callbacks.counts[flaky] == 1  # a 500 is not in rp=ct,4xx


def test_basic_credentials_in_the_url_become_an_authorization_header(api, user, callbacks):
    path = unique("/ok")
    url = callbacks.url(path).replace("http://", "http://alice:s%40cret@")
    hang_up(api, user, make_call(api, user, callbackUrl=url))
    [received] = callbacks.wait_for(lambda r: r.path == path)
    expected = base64.b64encode(b"alice:s@cret").decode()
    assert received.headers["authorization"] == f"Basic {expected}"


def test_signed_callbacks_verify_with_the_users_secret(server: ServerProcess, callbacks):
    secret = "whsec-test-" + uuid.uuid4().hex
    creds = server.create_user("--signing-secret", secret)
    path = unique("/ok")
    with server.client(creds) as api:
        hang_up(api, creds, make_call(api, creds, callbackUrl=callbacks.url(path)))
    [received] = callbacks.wait_for(lambda r: r.path == path)
    stamp, v1 = (part.split("=", 1)[1] for part in received.headers["x-trebuchet-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(v1, expected)
    assert abs(int(stamp) - time.time()) < 60


def test_unreachable_callback_is_logged(api, user, callbacks):
    from .support import free_port

    url = f"http://127.0.0.1:{free_port()}/nobody-listens"
    call_id = make_call(api, user, callbackUrl=url)
    hang_up(api, user, call_id)
    mine = errors_for_call(api, user, call_id)
    assert mine[0]["category"] == "unavailable"
    assert "connection failed" in mine[0]["message"]


# -- restarts -------------------------------------------------------------------------------------------


def test_graceful_restart_delivers_what_was_pending(fresh_server: ServerProcess, callbacks):
    server = fresh_server.start()
    creds = server.first_user()
    slow, live = unique("/hang-once/4000"), unique("/ok")
    with server.client(creds) as api:
        ended = make_call(api, creds, callbackUrl=callbacks.url(slow))
        still_ringing = make_call(api, creds, callbackUrl=callbacks.url(live))
        hang_up(api, creds, ended)
        callbacks.wait_for(lambda r: r.path == slow)  # in flight, and its receiver is stalling
    assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    assert any("Application shutdown complete" in line for line in server.output)
    # Shutting down hung up the live call; its event and the stalled one wait in the outbox.
    server.start()
    [again] = callbacks.wait_for(lambda r: r.path == slow, count=2)[1:]
    assert again.json["callId"] == ended
    [shutdown] = callbacks.wait_for(lambda r: r.path == live)
    assert shutdown.json["callId"] == still_ringing and shutdown.json["cause"] == "SYSTEM_SHUTDOWN"
    with server.client(creds) as api:
        assert api.get(f"{calls_path(creds)}/{still_ringing}").json()["state"] == "completed"


def test_crash_restart_closes_live_calls_and_resumes_delivery(fresh_server: ServerProcess, callbacks):
    server = fresh_server.start()
    creds = server.first_user()
    stalled, live = unique("/hang-once/30000"), unique("/ok")
    with server.client(creds) as api:
        ended = make_call(api, creds, callbackUrl=callbacks.url(stalled), callbackTimeout=1000)
        left_live = make_call(api, creds, callbackUrl=callbacks.url(live))
        hang_up(api, creds, ended)
        callbacks.wait_for(lambda r: r.path == stalled)
    server.stop(signal.SIGKILL)
    server.start()
    # The crashed process's claim lapses (1 s timeout + margin), then the event goes again.
    [first, again] = callbacks.wait_for(lambda r: r.path == stalled, count=2, timeout=20)
    assert again.headers["x-trebuchet-event-id"] == first.headers["x-trebuchet-event-id"]
    [closed] = callbacks.wait_for(lambda r: r.path == live)
    assert closed.json["callId"] == left_live and closed.json["cause"] == "CRASH"
    with server.client(creds) as api:
        call = api.get(f"{calls_path(creds)}/{left_live}").json()
        assert call["state"] == "completed" and "endTime" in call


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_events_of_one_call_arrive_once(api, user, callbacks, method):
    path = unique("/ok")
    call_id = make_call(api, user, callbackUrl=callbacks.url(path), callbackHttpMethod=method)
    for _ in range(3):
        hang_up(api, user, call_id)
    callbacks.wait_for(lambda r: r.path == path)
    time.sleep(1.0)
    assert callbacks.counts[path] == 1
