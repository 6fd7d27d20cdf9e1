"""The Calls API through the real server process: every seed parameter, auth, paging, updates, events."""

from __future__ import annotations

import base64
import time

import httpx
import pytest

from .support import SEED_PARAMETERS, Credentials, ServerProcess, assert_error

FROM = "+19195551212"
TO = "+19195550000"


def calls_path(creds: Credentials) -> str:
    return f"/v1/users/{creds.user_id}/calls"


def create(api: httpx.Client, creds: Credentials, **fields: object) -> httpx.Response:
    body = {"from": FROM, "to": TO, **fields}
    return api.post(calls_path(creds), json=body)


def created_id(response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    return response.headers["location"].rsplit("/", 1)[1]


# -- create -------------------------------------------------------------------------------------------


def test_create_answers_201_with_absolute_location_and_empty_body(api, server, user):
    response = create(api, user)
    assert response.status_code == 201
    assert response.content == b""
    location = response.headers["location"]
    assert location.startswith(f"{server.base_url}/v1/users/{user.user_id}/calls/c-")
    call_id = location.rsplit("/", 1)[1]
    assert len(call_id) >= 22 and call_id[2:].isalnum() and call_id == call_id.lower()
    # Readable at once, at the very URL given (ruby and Java GET it straight after the create).
    call = api.get(location).json()
    assert call["id"] == call_id
    assert call["state"] == "started"
    assert call["direction"] == "out"
    assert (call["from"], call["to"]) == (FROM, TO)
    assert call["callTimeout"] == 60
    assert call["callbackTimeout"] == 10000
    assert call["callbackHttpMethod"] == "POST"
    assert call["recordingEnabled"] is False
    assert call["recordingFileFormat"] == "wav"
    assert call["recordingMaxDuration"] == 3600
    assert call["transcriptionEnabled"] is False
    assert call["startTime"].endswith("Z") and len(call["startTime"]) == 24
    assert "activeTime" not in call and "endTime" not in call
    assert call["events"] == f"{location}/events"
    assert call["recordings"] == f"{location}/recordings"
    assert call["transcriptions"] == f"{location}/transcriptions"


def test_every_seed_parameter_is_stored_and_shown_typed(api, user, callbacks):
    response = create(
        api,
        user,
        to="sip:someone@127.0.0.1:5070;transport=tcp",
        callTimeout="30",
        callbackUrl=callbacks.url("/ok"),
        callbackTimeout="2000",
        callbackHttpMethod="get",
        fallbackUrl=callbacks.url("/fallback"),
        recordingEnabled="true",
        recordingMaxDuration=120,
        recordingFileFormat="MP3",
        transcriptionEnabled="false",
        tag='{ "context": "key" }',
        sipHeaders={"X-Header-1": "value1", "x-header-2": "value 2"},
    )
    call = api.get(f"{calls_path(user)}/{created_id(response)}").json()
    assert call["to"] == "sip:someone@127.0.0.1:5070;transport=tcp"
    assert call["callTimeout"] == 30
    assert call["callbackUrl"] == callbacks.url("/ok")
    assert call["callbackTimeout"] == 2000
    assert call["callbackHttpMethod"] == "GET"
    assert call["fallbackUrl"] == callbacks.url("/fallback")
    assert call["recordingEnabled"] is True
    assert call["recordingMaxDuration"] == 120
    assert call["recordingFileFormat"] == "mp3"
    assert call["transcriptionEnabled"] is False
    assert call["tag"] == '{ "context": "key" }'
    assert call["sipHeaders"] == {"X-Header-1": "value1", "x-header-2": "value 2"}


def test_null_means_not_supplied(api, user):
    nulls = dict.fromkeys(name for name in SEED_PARAMETERS if name not in ("from", "to"))
    call = api.get(f"{calls_path(user)}/{created_id(create(api, user, **nulls))}").json()
    assert call["callTimeout"] == 60 and call["recordingFileFormat"] == "wav"
    assert "tag" not in call and "callbackUrl" not in call and "sipHeaders" not in call


@pytest.mark.parametrize(
    ("fields", "status", "code", "field"),
    [
        ({"from": None}, 400, "missing-property", "from"),
        ({"to": None}, 400, "missing-property", "to"),
        ({"from": "9195551212"}, 400, "validation-error", "from"),
        ({"from": "+0123"}, 400, "validation-error", "from"),
        ({"from": "sip:me@127.0.0.1"}, 400, "validation-error", "from"),
        ({"to": "19195550000"}, 403, "invalid-call-to-number", "to"),
        ({"to": "sips:bob@127.0.0.1"}, 403, "invalid-call-to-number", "to"),
        ({"to": "sip:"}, 403, "invalid-call-to-number", "to"),
        ({"to": "sip:bob@127.0.0.1:99999"}, 403, "invalid-call-to-number", "to"),
        ({"to": "tel:+19195550000"}, 403, "invalid-call-to-number", "to"),
        ({"callTimeout": 0}, 400, "validation-error", "callTimeout"),
        ({"callTimeout": 301}, 400, "validation-error", "callTimeout"),
        ({"callTimeout": "soon"}, 400, "validation-error", "callTimeout"),
        ({"callTimeout": True}, 400, "validation-error", "callTimeout"),
        ({"callbackUrl": "not a url"}, 400, "callback-invalid-url", "callbackUrl"),
        ({"callbackUrl": "ftp://127.0.0.1/x"}, 400, "callback-invalid-url", "callbackUrl"),
        ({"callbackUrl": "http://"}, 400, "callback-invalid-url", "callbackUrl"),
        ({"fallbackUrl": "mailto:a@b.c"}, 400, "callback-invalid-url", "fallbackUrl"),
        ({"callbackTimeout": 10001}, 400, "validation-error", "callbackTimeout"),
        ({"callbackTimeout": 0}, 400, "validation-error", "callbackTimeout"),
        ({"callbackHttpMethod": "PUT"}, 400, "validation-error", "callbackHttpMethod"),
        ({"bridgeId": "brg-doesnotexist"}, 400, "validation-error", "bridgeId"),
        ({"conferenceId": "conf-doesnotexist"}, 403, "invalid-call-conference-id", "conferenceId"),
        ({"recordingEnabled": "maybe"}, 400, "validation-error", "recordingEnabled"),
        ({"recordingMaxDuration": 3601}, 403, "maximum-recording-value-request", "recordingMaxDuration"),
        ({"recordingMaxDuration": 0}, 400, "validation-error", "recordingMaxDuration"),
        ({"recordingFileFormat": "ogg"}, 400, "validation-error", "recordingFileFormat"),
        ({"transcriptionEnabled": 3}, 400, "validation-error", "transcriptionEnabled"),
        ({"tag": "x" * 257}, 400, "validation-error", "tag"),
        ({"tag": {"a": 1}}, 400, "validation-error", "tag"),
        ({"sipHeaders": ["X-A"]}, 400, "validation-error", "sipHeaders"),
        ({"sipHeaders": {f"X-H{i}": "v" for i in range(6)}}, 400, "validation-error", "sipHeaders"),
        ({"sipHeaders": {"Subject": "hi"}}, 400, "validation-error", "sipHeaders.Subject"),
        ({"sipHeaders": {"X-A": "line\r\nInjected: yes"}}, 400, "validation-error", "sipHeaders.X-A"),
        ({"sipHeaders": {"X-A": "v" * 257}}, 400, "validation-error", "sipHeaders.X-A"),
        ({"sipHeaders": {"X-" + "n" * 255: "v"}}, 400, "validation-error", "sipHeaders.X-" + "n" * 255),
        ({"sipHeaders": {"X-Bad Name": "v"}}, 400, "validation-error", "sipHeaders.X-Bad Name"),
    ],
)
def test_invalid_create_is_refused_naming_the_field_and_stores_nothing(
    api, user, fields, status, code, field
):
    before = len(api.get(calls_path(user), params={"size": 1000}).json())
    assert_error(create(api, user, **fields), status, code, field)
    assert len(api.get(calls_path(user), params={"size": 1000}).json()) == before


def test_limits_at_their_edges_are_accepted(api, user):
    response = create(
        api,
        user,
        callTimeout=300,
        callbackTimeout=10000,
        recordingMaxDuration=3600,
        tag="t" * 256,
        sipHeaders={f"X-H{i}": "v" * 256 for i in range(5)},
    )
    call = api.get(f"{calls_path(user)}/{created_id(response)}").json()
    assert len(call["sipHeaders"]) == 5 and len(call["tag"]) == 256


def test_body_that_is_not_a_json_object_is_a_clear_400(api, user):
    for raw in (b"{not json", b"[1,2]", b'"text"'):
        response = api.post(calls_path(user), content=raw, headers={"Content-Type": "application/json"})
        assert_error(response, 400, "validation-error")


# -- auth -----------------------------------------------------------------------------------------------


def test_missing_or_wrong_credentials_are_401(server, user):
    with server.client(None) as anonymous:
        body = assert_error(anonymous.get(calls_path(user)), 401, "authentication-failed")
        assert body["category"] == "authentication"
    with server.client(Credentials(user.user_id, user.token, "wrong")) as wrong:
        assert_error(wrong.get(calls_path(user)), 401, "authentication-failed")
    garbage = {"Authorization": "Basic !!!"}
    with httpx.Client(base_url=server.base_url) as raw:
        assert_error(raw.get(calls_path(user), headers=garbage), 401, "authentication-failed")
        nul = base64.b64encode(b"\x00t:secret").decode()
        assert_error(
            raw.get(calls_path(user), headers={"Authorization": f"Basic {nul}"}), 401, "authentication-failed"
        )
        token = base64.b64encode(b"no-colon").decode()
        assert_error(
            raw.get(calls_path(user), headers={"Authorization": f"Basic {token}"}),
            401,
            "authentication-failed",
        )


def test_another_users_path_and_calls_are_out_of_reach(server, api, user, other_user):
    assert_error(api.get(calls_path(other_user)), 401, "user-access-denied")
    assert_error(create(api, other_user), 401, "user-access-denied")
    call_id = created_id(create(api, user))
    with server.client(other_user) as other:
        assert_error(other.get(f"{calls_path(other_user)}/{call_id}"), 404, "call-not-found")
        assert_error(
            other.post(f"{calls_path(other_user)}/{call_id}", json={"state": "completed"}),
            404,
            "call-not-found",
        )
        assert call_id not in [c["id"] for c in other.get(calls_path(other_user)).json()]
    assert api.get(f"{calls_path(user)}/{call_id}").json()["state"] == "started"


def test_unknown_route_is_a_json_404(api, user):
    assert_error(api.get(f"/v1/users/{user.user_id}/nothing-here"), 404, "resource-not-found")


# -- list and paging ------------------------------------------------------------------------------------


def test_paging_with_link_headers_and_filters(server, user):
    creds = server.create_user()
    with server.client(creds) as api:
        number = "+14155550100"
        ids = [created_id(create(api, creds, **{"from": number})) for _ in range(7)]
        created_id(create(api, creds, **{"from": "+14155550199"}))
        first = api.get(calls_path(creds), params={"from": number, "size": 3})
        assert [c["id"] for c in first.json()] == ids[::-1][:3]  # newest first by default
        links = parse_links(first.headers["link"])
        assert set(links) == {"first", "next"}
        assert links["next"].startswith(f"{server.base_url}/v1/users/{creds.user_id}/calls?")
        assert (
            "from=%2B14155550100" in links["next"] and "page=1" in links["next"] and "size=3" in links["next"]
        )
        second = api.get(links["next"])
        assert [c["id"] for c in second.json()] == ids[::-1][3:6]
        assert set(parse_links(second.headers["link"])) == {"first", "previous", "next"}
        third = api.get(parse_links(second.headers["link"])["next"])
        assert [c["id"] for c in third.json()] == ids[::-1][6:]
        assert set(parse_links(third.headers["link"])) == {"first", "previous"}
        ascending = api.get(
            calls_path(creds), params={"from": number, "sortOrder": "ASC", "size": 1000}
        ).json()
        assert [c["id"] for c in ascending] == ids
        to_filtered = api.get(calls_path(creds), params={"to": TO}).json()
        assert len(to_filtered) == 8
        assert api.get(calls_path(creds), params={"to": "+10000000000"}).json() == []


def test_time_window_filters(api, user):
    call_id = created_id(create(api, user))
    started = api.get(f"{calls_path(user)}/{call_id}").json()["startTime"]
    inside = api.get(
        calls_path(user), params={"fromDateTime": started, "toDateTime": started, "size": 1000}
    ).json()
    assert call_id in [c["id"] for c in inside]
    later = api.get(calls_path(user), params={"fromDateTime": "2999-01-01"}).json()
    assert later == []
    assert_error(
        api.get(calls_path(user), params={"fromDateTime": "yesterday"}),
        400,
        "validation-error",
        "fromDateTime",
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"size": 0}, "size"),
        ({"size": 1001}, "size"),
        ({"page": -1}, "page"),
        ({"page": "x"}, "page"),
        ({"sortOrder": "sideways"}, "sortOrder"),
    ],
)
def test_bad_paging_is_a_400_naming_it(api, user, params, field):
    assert_error(api.get(calls_path(user), params=params), 400, "validation-error", field)


def parse_links(header: str) -> dict[str, str]:
    """Parse the way python-bandwidth does: split on ',', then on ';', and demand exactly rel="…"."""
    links = {}
    for entry in header.split(","):
        url_part, rel_part = entry.split(";")
        rel = rel_part.strip()
        assert rel.startswith('rel="') and rel.endswith('"')
        links[rel[5:-1]] = url_part.strip()[1:-1]
    return links


# -- update ---------------------------------------------------------------------------------------------


def test_hangup_of_a_ringing_call_completes_it_as_originator_cancel(api, user):
    """The call rings at the test's trunk; hanging it up by API CANCELs it (the caller gave up)."""
    call_id = created_id(create(api, user))
    response = api.post(f"{calls_path(user)}/{call_id}", json={"state": "completed"})
    assert response.status_code == 200 and response.content == b""
    call = api.get(f"{calls_path(user)}/{call_id}").json()
    assert call["state"] == "completed"
    assert call["endTime"] >= call["startTime"]
    assert call["chargeableDuration"] == 0
    events = api.get(f"{calls_path(user)}/{call_id}/events").json()
    assert [e["name"] for e in events] == ["create", "hangup"]
    assert events[1]["data"] == "ORIGINATOR_CANCEL"
    assert all(e["id"].startswith("ce-") and e["time"].endswith("Z") for e in events)
    one = api.get(f"{calls_path(user)}/{call_id}/events/{events[1]['id']}").json()
    assert one == events[1]
    # Hanging up again succeeds quietly and writes no second hangup.
    assert api.post(f"{calls_path(user)}/{call_id}", json={"state": "COMPLETED"}).status_code == 200
    assert len(api.get(f"{calls_path(user)}/{call_id}/events").json()) == 2


@pytest.mark.parametrize("state", ["active", "rejected", "transferring"])
def test_invalid_transitions_are_403_call_invalid_state(api, user, state):
    call_id = created_id(create(api, user))
    body = {"state": state, "transferTo": TO}
    assert_error(api.post(f"{calls_path(user)}/{call_id}", json=body), 403, "call-invalid-state")
    assert api.get(f"{calls_path(user)}/{call_id}").json()["state"] == "started"
    api.post(f"{calls_path(user)}/{call_id}", json={"state": "completed"})
    assert_error(api.post(f"{calls_path(user)}/{call_id}", json=body), 403, "call-invalid-state")
    assert_error(
        api.post(f"{calls_path(user)}/{call_id}", json={"recordingEnabled": True}), 403, "call-invalid-state"
    )


def test_update_validation(api, user):
    call_id = created_id(create(api, user))
    url = f"{calls_path(user)}/{call_id}"
    assert_error(api.post(url, json={"state": "ringing"}), 400, "validation-error", "state")
    assert_error(api.post(url, json={"state": "transferring"}), 400, "missing-property", "transferTo")
    assert_error(api.post(url, json={"recordingMaxDuration": 4000}), 403, "maximum-recording-value-request")
    assert_error(api.post(url, json={"transferCallerId": "bob"}), 400, "validation-error", "transferCallerId")
    assert_error(
        api.post(f"{calls_path(user)}/c-nosuchcall", json={"state": "completed"}), 404, "call-not-found"
    )
    # python-bandwidth sends every optional as null: that is not a change.
    nulls = {"state": None, "recordingEnabled": None, "transferTo": None, "callbackUrl": None}
    assert api.post(url, json=nulls).status_code == 200
    assert api.post(url, json={"recordingEnabled": "true", "recordingFileFormat": "mp3"}).status_code == 200
    call = api.get(url).json()
    assert call["recordingEnabled"] is True and call["recordingFileFormat"] == "mp3"
    assert call["state"] == "started"


def test_missing_resources_are_404(api, user):
    assert_error(api.get(f"{calls_path(user)}/c-nosuchcall"), 404, "call-not-found")
    assert_error(api.get(f"{calls_path(user)}/%00"), 404, "call-not-found")  # junk never reaches the database
    assert_error(api.get(calls_path(user), params={"from": "+1\x00"}), 400, "validation-error", "from")
    assert_error(api.get(f"{calls_path(user)}/c-nosuchcall/events"), 404, "call-not-found")
    call_id = created_id(create(api, user))
    assert_error(api.get(f"{calls_path(user)}/{call_id}/events/ce-nope"), 404, "resource-not-found")
    assert api.get(f"{calls_path(user)}/{call_id}/recordings").json() == []
    assert api.get(f"{calls_path(user)}/{call_id}/transcriptions").json() == []


# -- idempotency ----------------------------------------------------------------------------------------


def test_idempotency_key_returns_the_first_answer(api, user):
    headers = {"Idempotency-Key": f"key-{time.monotonic_ns()}"}
    body = {"from": FROM, "to": TO, "tag": "once"}
    first = api.post(calls_path(user), json=body, headers=headers)
    second = api.post(calls_path(user), json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.headers["location"] == second.headers["location"]
    tagged = [c for c in api.get(calls_path(user), params={"size": 1000}).json() if c.get("tag") == "once"]
    assert len(tagged) == 1
    changed = api.post(calls_path(user), json={**body, "tag": "twice"}, headers=headers)
    assert_error(changed, 409, "idempotency-key-reused")


# -- errors log -----------------------------------------------------------------------------------------


def test_refused_requests_appear_in_the_error_log(server):
    creds = server.create_user()
    with server.client(creds) as api:
        assert_error(create(api, creds, callTimeout=999), 400, "validation-error", "callTimeout")
        errors = api.get(f"/v1/users/{creds.user_id}/errors").json()
        assert errors[0]["code"] == "validation-error"
        assert errors[0]["id"].startswith("ue-")
        assert "callTimeout" in errors[0]["message"]
        assert all(d["id"].startswith("ued-") for d in errors[0]["details"])
        one = api.get(f"/v1/users/{creds.user_id}/errors/{errors[0]['id']}").json()
        assert one == errors[0]
        assert_error(api.get(f"/v1/users/{creds.user_id}/errors/ue-nope"), 404, "user-error-not-found")


# -- rate limits ----------------------------------------------------------------------------------------


def test_call_rate_limit_is_403_in_catapults_shape(server):
    creds = server.create_user("--call-rate", "0.3")  # 3 calls per 10 s window
    with server.client(creds) as api:
        for _ in range(3):
            created_id(create(api, creds))
        body = assert_error(create(api, creds), 403, "call-rate-limit")
        assert body["category"] == "limit"
        assert "calculated as the average over 10 seconds" in body["message"]


def test_request_rate_limit_is_429_with_reset_header(server):
    creds = server.create_user("--api-rate", "3")
    with server.client(creds) as api:
        statuses = [api.get(calls_path(creds)) for _ in range(6)]
        limited = [r for r in statuses if r.status_code == 429]
        assert limited, [r.status_code for r in statuses]
        response = limited[0]
        body = assert_error(response, 429, "rate-limit-reached")
        assert body["category"] == "too-many-requests"
        reset = int(response.headers["x-ratelimit-reset"])
        assert 0 < reset - time.time() * 1000 <= 1100
        time.sleep(max(0.0, reset / 1000 - time.time()) + 0.05)
        assert api.get(calls_path(creds)).status_code == 200


def test_healthz(server: ServerProcess):
    body = httpx.get(f"{server.base_url}/healthz").json()
    assert body["status"] == "ok" and body["database"] == "ok"


# -- references to bridges and conferences -------------------------------------------------------------


def _insert_reference_rows(database_url: str, user_id: str, other_id: str) -> dict[str, str]:
    """Bridges and conferences have no API yet: put rows in the server's database directly."""
    import asyncio

    from trebuchet.domain.clock import utcnow
    from trebuchet.domain.ids import new_id
    from trebuchet.store.database import Database
    from trebuchet.store.tables import bridges, conferences

    ids = {
        "bridge": new_id("bridge"),
        "other_bridge": new_id("bridge"),
        "conference": new_id("conference"),
        "closed_conference": new_id("conference"),
    }

    async def insert() -> None:
        db = Database(database_url)
        try:
            async with db.write() as conn:
                now = utcnow()
                for key, owner in (("bridge", user_id), ("other_bridge", other_id)):
                    await conn.execute(
                        bridges.insert().values(
                            id=ids[key], user_id=owner, state="created", bridge_audio=True, created_time=now
                        )
                    )
                for key, state in (("conference", "created"), ("closed_conference", "completed")):
                    await conn.execute(
                        conferences.insert().values(
                            id=ids[key],
                            user_id=user_id,
                            state=state,
                            from_number=FROM,
                            callback_http_method="POST",
                            callback_timeout=10000,
                            profile="interpret_digits",
                            mute=False,
                            hold=False,
                            created_time=now,
                        )
                    )
        finally:
            await db.dispose()

    asyncio.run(insert())
    return ids


def test_bridge_and_conference_ids_must_be_the_users_own_and_open(server, api, user, other_user):
    ids = _insert_reference_rows(server.database_url, user.user_id, other_user.user_id)
    call_id = created_id(create(api, user, bridgeId=ids["bridge"], conferenceId=ids["conference"]))
    call = api.get(f"{calls_path(user)}/{call_id}").json()
    assert (call["bridgeId"], call["conferenceId"]) == (ids["bridge"], ids["conference"])
    in_bridge = api.get(calls_path(user), params={"bridgeId": ids["bridge"]})
    assert [c["id"] for c in in_bridge.json()] == [call_id] and "link" not in in_bridge.headers
    assert [
        c["id"] for c in api.get(calls_path(user), params={"conferenceId": ids["conference"]}).json()
    ] == [call_id]
    assert_error(create(api, user, bridgeId=ids["other_bridge"]), 400, "validation-error", "bridgeId")
    assert_error(
        create(api, user, conferenceId=ids["closed_conference"]),
        403,
        "invalid-call-conference-id",
        "conferenceId",
    )


def test_metrics_count_requests_calls_and_callbacks(server, api, user, callbacks):
    def sample(name: str, labels: str = "") -> float:
        text = httpx.get(f"{server.base_url}/metrics").text
        for line in text.splitlines():
            if line.startswith(name + labels + " ") or (not labels and line.startswith(name + " ")):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    created_before = sample("trebuchet_calls_created_total")
    delivered_before = sample("trebuchet_callbacks_total", '{outcome="delivered"}')
    call_id = created_id(create(api, user, callbackUrl=callbacks.url("/ok/metrics")))
    api.post(f"{calls_path(user)}/{call_id}", json={"state": "completed"})
    callbacks.wait_for(lambda r: r.path == "/ok/metrics" and r.json.get("callId") == call_id)
    deadline = time.monotonic() + 5
    while sample("trebuchet_callbacks_total", '{outcome="delivered"}') <= delivered_before:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert sample("trebuchet_calls_created_total") == created_before + 1
    route = 'method="POST",route="/v1/users/{userId}/calls",status="201"'
    assert sample("trebuchet_http_requests_total", "{" + route + "}") >= 1
    assert sample("trebuchet_outbox_pending") >= 0
