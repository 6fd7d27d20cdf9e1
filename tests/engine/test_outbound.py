"""Outbound calls end to end: the REST API makes a real peer ring, and what the peer does comes back as
the call's state and its callbacks. Peers are `trebuchet phone` and sipp; callbacks hit a real HTTP server.
After every test nothing may be left in the engine (controllers, RTP sessions, SIP calls, tasks).
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from ..support import ServerProcess, assert_error, free_port
from .support import (
    SIPP_SCENARIOS,
    Phone,
    assert_nothing_left,
    calls_url,
    dial,
    engine_counts,
    event_types,
    events_of,
    metric,
    settle,
    sipp_result,
    start_sipp,
    unique,
    wait_state,
)
from .test_inbound import caller as inbound_caller
from .test_inbound import number_with_app

FROM = "+19195551212"


def test_answered_call_with_headers_events_media_and_far_end_bye(api, creds, callbacks, phones):
    phone = Phone("--tone", "1000", "--hangup-after", "1")
    phones.append(phone)
    path = unique("/ok")
    received_before = metric(api, 'trebuchet_rtp_packets_total{direction="received"}')
    url = dial(
        api, creds, phone.uri(), callbackUrl=callbacks.url(path), tag="t-1", sipHeaders={"X-Account": "42"}
    )
    incoming = phone.wait_for("incoming")
    assert incoming["headers"] == {"X-Account": "42"}
    assert incoming["from"].startswith(f"sip:{FROM}@")
    answer, hangup = events_of(callbacks, path, 2)
    assert answer["eventType"] == "answer" and answer["callState"] == "active" and answer["tag"] == "t-1"
    assert hangup["eventType"] == "hangup" and hangup["cause"] == "NORMAL_CLEARING" and hangup["tag"] == "t-1"
    assert "callState" not in hangup
    call = wait_state(api, url, "completed")
    assert call["activeTime"] <= call["endTime"] and call["chargeableDuration"] == 60
    phone.wait_for("ended")
    # About a second of the phone's tone arrived as RTP (50 packets a second).
    received = metric(api, 'trebuchet_rtp_packets_total{direction="received"}') - received_before
    assert 35 <= received <= 80, received
    settle()
    assert len([r for r in callbacks.requests if r.path == path]) == 2  # one hangup, nothing after it


def test_we_send_rtp_the_phone_hears(api, creds, callbacks, phones, tmp_path: Path):
    """The phone records what reaches it: our 20 ms frames of silence, for as long as the call lasted."""
    recording = tmp_path / "heard.wav"
    phone = Phone("--record", str(recording), "--count", "1")
    phones.append(phone)
    path = unique("/ok")
    url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path))
    assert event_types(callbacks, path, 1) == ["answer"]
    time.sleep(1.0)
    assert api.post(url, json={"state": "completed"}).status_code == 200
    assert phone.wait_for("ended")["reason"] == "remote"  # our BYE
    recorded = phone.wait_for("recorded")
    assert 0.8 <= recorded["seconds"] <= 2.0
    sent = metric(api, 'trebuchet_rtp_packets_total{direction="sent"}')
    assert sent >= 40


@pytest.mark.parametrize(
    ("status", "cause"), [(486, "USER_BUSY"), (603, "CALL_REJECTED"), (404, "UNALLOCATED_NUMBER")]
)
def test_refused_calls_end_with_the_mapped_cause(api, creds, callbacks, phones, status, cause):
    phone = Phone("--reject", str(status))
    phones.append(phone)
    path = unique("/ok")
    url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path), tag="r")
    [hangup] = events_of(callbacks, path, 1)
    assert hangup["eventType"] == "hangup" and hangup["cause"] == cause and hangup["tag"] == "r"
    call = wait_state(api, url, "completed")
    assert "activeTime" not in call and call["chargeableDuration"] == 0


def test_unanswered_call_times_out_with_cancel_timeout_and_no_answer(api, creds, callbacks, phones):
    phone = Phone("--answer-after", "30")
    phones.append(phone)
    path = unique("/ok")
    started = time.monotonic()
    url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path), callTimeout=2)
    timeout, hangup = events_of(callbacks, path, 2)
    assert 1.8 <= time.monotonic() - started <= 6
    assert timeout["eventType"] == "timeout" and set(timeout) >= {"callId", "callUri", "from", "to", "time"}
    assert hangup["eventType"] == "hangup" and hangup["cause"] == "NO_ANSWER"
    wait_state(api, url, "completed")
    phone.wait_for("cancelled", timeout=40)  # the CANCEL reached it (the phone notices after its sleep)


def test_hangup_by_api_while_ringing_sends_cancel(live, api, creds, callbacks):
    sipp = start_sipp(
        "-sf", str(SIPP_SCENARIOS / "uas_cancel.xml"), "-i", "127.0.0.1", "-p", str(port := free_port())
    )
    path = unique("/ok")
    url = dial(api, creds, f"sip:callee@127.0.0.1:{port}", callbackUrl=callbacks.url(path))
    wait_for_ringing = time.monotonic() + 2
    while time.monotonic() < wait_for_ringing and api.get(url).json()["state"] != "started":
        time.sleep(0.05)
    time.sleep(0.5)  # sipp has sent 180
    assert api.post(url, json={"state": "completed"}).status_code == 200
    [hangup] = events_of(callbacks, path, 1)
    assert hangup["cause"] == "ORIGINATOR_CANCEL"
    code, output = sipp_result(sipp)
    assert code == 0, output  # sipp got the CANCEL and the ACK for its 487
    # Hanging up again is quiet success, no second event.
    assert api.post(url, json={"state": "completed"}).status_code == 200
    settle()
    assert len([r for r in callbacks.requests if r.path == path]) == 1


def test_hangup_by_api_while_active_sends_bye(api, creds, callbacks):
    sipp = start_sipp(
        "-sf", str(SIPP_SCENARIOS / "uas_answer.xml"), "-i", "127.0.0.1", "-p", str(port := free_port())
    )
    path = unique("/ok")
    headers = {"X-Header-1": "value1", "X-Header-2": "value 2"}
    url = dial(
        api, creds, f"sip:callee@127.0.0.1:{port}", callbackUrl=callbacks.url(path), sipHeaders=headers
    )
    assert event_types(callbacks, path, 1) == ["answer"]
    assert api.post(url, json={"state": "completed"}).status_code == 200
    [_, hangup] = events_of(callbacks, path, 2)
    assert hangup["cause"] == "NORMAL_CLEARING"
    code, output = sipp_result(sipp)
    assert code == 0, output  # the X- headers matched and our BYE arrived


def test_tcp_destination(api, creds, callbacks, phones):
    phone = Phone("--hangup-after", "0.3")
    phones.append(phone)
    path = unique("/ok")
    dial(api, creds, phone.uri(transport="tcp"), callbackUrl=callbacks.url(path))
    assert event_types(callbacks, path, 2) == ["answer", "hangup"]


def test_api_hangups_racing_far_end_byes_give_one_hangup_each(api, creds, callbacks, phones):
    """Ten calls whose far end hangs up at 0.5 s while the API hangs up at about the same moment."""
    phone = Phone("--hangup-after", "0.5", "--count", "10")
    phones.append(phone)
    paths = [unique("/ok") for _ in range(10)]
    urls = [dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path)) for path in paths]
    for path in paths:
        assert event_types(callbacks, path, 1) == ["answer"]

    def hang_up(url: str, delay: float) -> None:
        time.sleep(delay)
        with httpx.Client(auth=api.auth, base_url=str(api.base_url), timeout=10) as client:
            assert client.post(url, json={"state": "completed"}).status_code == 200

    threads = [threading.Thread(target=hang_up, args=(url, 0.42 + 0.02 * i)) for i, url in enumerate(urls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for path, url in zip(paths, urls, strict=True):
        assert event_types(callbacks, path, 2)[1] == "hangup"
        call = wait_state(api, url, "completed")
        names = [e["name"] for e in api.get(f"{url}/events").json()]
        assert names.count("hangup") == 1, names
        assert call["endTime"]
    settle()
    for path in paths:
        assert len([r for r in callbacks.requests if r.path == path]) == 2


def test_commands_for_a_gone_call_are_4xx(api, creds):
    assert (
        api.post(f"{calls_url(creds)}/c-nosuchcallnosuchcallnosu", json={"state": "completed"}).status_code
        == 404
    )


def test_unreachable_host_fails_at_once_with_an_error_entry(api, creds, callbacks):
    path = unique("/ok")
    url = dial(api, creds, "sip:bob@192.0.2.10", callbackUrl=callbacks.url(path))
    [hangup] = events_of(callbacks, path, 1)
    assert hangup["cause"] == "NO_ROUTE_DESTINATION"
    call_id = url.rsplit("/", 1)[1]
    errors = api.get(f"/v1/users/{creds.user_id}/errors").json()
    mine = [
        e
        for e in errors
        if {"name": "callId", "value": call_id}
        in [{k: d[k] for k in ("name", "value")} for d in e["details"]]
    ]
    assert (
        mine
        and mine[0]["code"] == "call-creation-failure"
        and "TREBUCHET_SIP_DESTINATIONS" in mine[0]["message"]
    )


# -- E.164 through a trunk ---------------------------------------------------------------------------------


def test_e164_goes_to_the_trunk_with_digest_credentials(fresh_server: ServerProcess, callbacks):
    port = free_port()
    sipp = start_sipp("-sf", str(SIPP_SCENARIOS / "trunk_digest.xml"), "-i", "127.0.0.1", "-p", str(port))
    fresh_server.env.update(
        TREBUCHET_TRUNK_URI=f"sip:127.0.0.1:{port}",
        TREBUCHET_TRUNK_USER="trunkuser",
        TREBUCHET_TRUNK_PASSWORD="trunkpass",
    )
    server = fresh_server.start()
    creds = server.first_user()
    path = unique("/ok")
    with server.client(creds) as api:
        url = dial(
            api,
            creds,
            "+19195550123",
            callbackUrl=callbacks.url(path),
            sipHeaders={"X-Trunk-Test": "trunk-value"},
        )
        assert event_types(callbacks, path, 1) == ["answer"]
        assert api.post(url, json={"state": "completed"}).status_code == 200
        assert event_types(callbacks, path, 2)[1] == "hangup"
        code, output = sipp_result(sipp)
        assert code == 0, output
        assert_nothing_left(api)


def test_e164_without_a_trunk_fails_at_once(tmp_path, backend, callbacks):
    from .support import live_server as start

    server = start(backend, tmp_path)
    try:
        server.stop(keep_trunk=True)  # restart without the ringing trunk the test harness adds
        server.ringing_trunk = False
        server.env.pop("TREBUCHET_TRUNK_URI", None)
        server.start()
        creds = server.first_user()
        path = unique("/ok")
        with server.client(creds) as api:
            url = dial(api, creds, "+19195550123", callbackUrl=callbacks.url(path))
            [hangup] = events_of(callbacks, path, 1)
            assert hangup["cause"] == "NO_ROUTE_DESTINATION"
            assert wait_state(api, url, "completed")
            [error] = api.get(f"/v1/users/{creds.user_id}/errors").json()[:1]
            assert "TREBUCHET_TRUNK_URI" in error["message"]
    finally:
        from .support import stop_live_server

        stop_live_server(server)


# -- caller id ---------------------------------------------------------------------------------------------


def test_enforced_caller_id_needs_one_of_the_users_numbers(fresh_server: ServerProcess):
    fresh_server.env["TREBUCHET_ENFORCE_CALLER_ID"] = "true"
    server = fresh_server.start()
    creds = server.first_user()
    with server.client(creds) as api:
        refused = api.post(calls_url(creds), json={"from": FROM, "to": "+19195550000"})
        assert refused.status_code == 401 and refused.json()["code"] == "number-access-denied"
        imported = api.post(f"/v1/users/{creds.user_id}/phoneNumbers", json={"number": FROM})
        assert imported.status_code == 201, imported.text
        allowed = api.post(calls_url(creds), json={"from": FROM, "to": "+19195550000"})
        assert allowed.status_code == 201
        assert api.post(allowed.headers["location"], json={"state": "completed"}).status_code == 200
        assert_nothing_left(api)


def test_enforced_caller_id_limits_a_transfers_caller_id(fresh_server: ServerProcess, callbacks, phones):
    fresh_server.env["TREBUCHET_ENFORCE_CALLER_ID"] = "true"
    a, b = Phone("--count", "1"), Phone("--count", "1")
    phones.extend([a, b])
    server = fresh_server.start()
    creds = server.first_user()
    with server.client(creds) as api:
        assert api.post(f"/v1/users/{creds.user_id}/phoneNumbers", json={"number": FROM}).status_code == 201
        path = unique("/ok")
        url = dial(api, creds, a.uri(), callbackUrl=callbacks.url(path))
        assert event_types(callbacks, path, 1) == ["answer"]
        body = {"state": "transferring", "transferTo": b.uri(), "transferCallerId": "+19995550000"}
        refused = api.post(url, json=body)
        assert_error(refused, 400, "validation-error", "transferCallerId")
        assert api.get(url).json()["state"] == "active"  # nothing rang
        allowed = api.post(url, json={**body, "transferCallerId": FROM})  # the call's own number
        assert allowed.status_code == 201, allowed.text
        wait_state(api, allowed.headers["location"], "active")
        assert api.post(url, json={"state": "completed"}).status_code == 200
        wait_state(api, allowed.headers["location"], "completed")
        # An inbound caller's own number (not the user's) may be passed on to the transfer target.
        inbound_path = unique("/in")
        number = number_with_app(api, creds, callbacks, inbound_path)
        c, d = inbound_caller(server, number), Phone("--count", "1")
        phones.extend([c, d])
        [incoming, _] = events_of(callbacks, inbound_path, 2)
        call_c = f"{calls_url(creds)}/{incoming['callId']}"
        passed = api.post(call_c, json={"state": "transferring", "transferTo": d.uri()})
        assert passed.status_code == 201, passed.text
        assert api.get(passed.headers["location"]).json()["from"] == incoming["from"]
        wait_state(api, passed.headers["location"], "active")
        assert api.post(call_c, json={"state": "completed"}).status_code == 200
        wait_state(api, passed.headers["location"], "completed")
        assert_nothing_left(api)


# -- restarts ----------------------------------------------------------------------------------------------


def test_graceful_stop_hangs_up_live_calls_on_the_wire(fresh_server: ServerProcess, callbacks, phones):
    phone = Phone("--count", "1")
    phones.append(phone)
    server = fresh_server.start()
    creds = server.first_user()
    path = unique("/ok")
    with server.client(creds) as api:
        url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path))
        assert event_types(callbacks, path, 1) == ["answer"]
    assert server.stop(signal.SIGTERM, keep_trunk=True) in (0, -signal.SIGTERM)
    assert phone.wait_for("ended")["reason"] == "remote"  # our BYE reached the phone
    server.start()
    [_, hangup] = events_of(callbacks, path, 2, timeout=20)
    assert hangup["cause"] == "SYSTEM_SHUTDOWN"
    with server.client(creds) as api:
        assert api.get(url).json()["state"] == "completed"


def test_crash_mid_call_is_closed_on_restart(fresh_server: ServerProcess, callbacks, phones):
    phone = Phone("--count", "1")
    phones.append(phone)
    server = fresh_server.start()
    creds = server.first_user()
    path = unique("/ok")
    with server.client(creds) as api:
        url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path))
        assert event_types(callbacks, path, 1) == ["answer"]
    server.stop(signal.SIGKILL, keep_trunk=True)
    server.start()
    # At least once: the answer may come again if the crash beat its settling; the hangup comes once.
    [hangup] = callbacks.wait_for(lambda r: r.path == path and r.event["eventType"] == "hangup", timeout=20)
    assert hangup.event["cause"] == "CRASH"
    # The restarted server ended the call on the wire too, from the dialog it kept at answer.
    assert phone.wait_for("ended")["reason"] == "remote"
    with server.client(creds) as api:
        assert wait_state(api, url, "completed")
        assert_nothing_left(api)


def test_tcp_destination_that_refuses_the_connection_fails_fast(api, creds, callbacks):
    """A transport error is a 503 (RFC 3261 §8.1.3.1): the call ends now, not after Timer B's 32 s."""
    path = unique("/ok")
    started = time.monotonic()
    dial(api, creds, f"sip:nobody@127.0.0.1:{free_port()};transport=tcp", callbackUrl=callbacks.url(path))
    [hangup] = events_of(callbacks, path, 1)
    assert hangup["cause"] == "NORMAL_TEMPORARY_FAILURE"
    assert time.monotonic() - started < 3


def test_zz_sip_state_drains_once_retransmission_windows_pass(backend, api):
    """Last in the module: ended dialogs and finished transactions leave the SIP layer within 64*T1."""
    if not backend.startswith("sqlite"):
        pytest.skip("SIP state does not depend on the database; checked once")
    deadline = time.monotonic() + 40
    while True:
        counts = engine_counts(api)
        if counts["sip_transactions"] == 0 and counts["sip_remembered"] == 0:
            break
        assert time.monotonic() < deadline, counts
        time.sleep(0.5)


def test_two_servers_sharing_a_database_leave_each_others_calls_alone(
    fresh_server: ServerProcess, tmp_path: Path, callbacks, phones
):
    """Starting and stopping a second server must not close the first one's live call (calls.node)."""
    phone = Phone("--count", "1")
    phones.append(phone)
    first = fresh_server.start()
    creds = first.first_user()
    path = unique("/ok")
    with first.client(creds) as api:
        url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path))
        assert event_types(callbacks, path, 1) == ["answer"]
    second = ServerProcess(data_dir=tmp_path / "second", database_url=first.database_url).start()
    try:
        time.sleep(1.0)  # its crash recovery has run
        with second.client(creds) as api:
            assert api.get(url.replace(first.base_url, second.base_url)).json()["state"] == "active"
    finally:
        second.stop()
    with first.client(creds) as api:
        assert api.get(url).json()["state"] == "active"
        assert api.post(url, json={"state": "completed"}).status_code == 200
        [_, hangup] = events_of(callbacks, path, 2)
        assert hangup["cause"] == "NORMAL_CLEARING"
        assert_nothing_left(api)
    assert phone.wait_for("ended")["reason"] == "remote"


def test_a_far_end_that_vanishes_without_bye_is_hung_up_on_media_timeout(
    fresh_server: ServerProcess, callbacks
):
    """No call stays active forever: when RTP stops (the phone was killed), the call ends MEDIA_TIMEOUT."""
    fresh_server.env["TREBUCHET_MEDIA_TIMEOUT"] = "2"
    server = fresh_server.start()
    creds = server.first_user()
    phone = Phone("--count", "1")
    path = unique("/ok")
    try:
        with server.client(creds) as api:
            url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path))
            assert event_types(callbacks, path, 1) == ["answer"]
            time.sleep(1.0)
            assert api.get(url).json()["state"] == "active"
            phone.close()  # SIGKILL: no BYE, no more RTP
            killed = time.monotonic()
            [_, hangup] = events_of(callbacks, path, 2, timeout=10)
            assert hangup["cause"] == "MEDIA_TIMEOUT"
            assert 1.5 <= time.monotonic() - killed <= 5
            assert_nothing_left(api)
    finally:
        phone.close()


def test_media_keeps_a_quiet_call_up_while_rtp_flows(fresh_server: ServerProcess, callbacks, phones):
    fresh_server.env["TREBUCHET_MEDIA_TIMEOUT"] = "1"
    server = fresh_server.start()
    creds = server.first_user()
    phone = Phone("--count", "1")  # sends silence: still RTP
    phones.append(phone)
    path = unique("/ok")
    with server.client(creds) as api:
        url = dial(api, creds, phone.uri(), callbackUrl=callbacks.url(path))
        assert event_types(callbacks, path, 1) == ["answer"]
        time.sleep(3.0)
        assert api.get(url).json()["state"] == "active"
        assert api.post(url, json={"state": "completed"}).status_code == 200
        assert events_of(callbacks, path, 2)[1]["cause"] == "NORMAL_CLEARING"
