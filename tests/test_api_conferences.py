"""The Conferences API through the real server process (spec §4, §8.2), on SQLite and PostgreSQL.

Only what needs no answered call: a created conference, its updates and end, its events, its audio, and
every refusal of a member. Calls made here ring at the test trunk and never answer; they are hung up.
"""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import numpy as np
import pytest

from trebuchet.media.audio_files import encode_wav

from .support import CallbackServer, Credentials, assert_error
from .test_api_calls import calls_path, created_id
from .test_api_calls import create as create_call

FROM = "+19195551212"
NOWHERE_CONFERENCE = "conf-" + "a" * 24  # well-formed, never issued
NOWHERE_CALL = "c-" + "b" * 24
NOWHERE_MEMBER = "member-" + "c" * 24
JUNK_IDS = ["%00", "conf-!!", "x" * 300, "conf-" + "a" * 65]


def conferences_path(creds: Credentials) -> str:
    return f"/v1/users/{creds.user_id}/conferences"


def create(api: httpx.Client, creds: Credentials, **fields: object) -> httpx.Response:
    return api.post(conferences_path(creds), json={"from": FROM, **fields})


def new_conference(api: httpx.Client, creds: Credentials, **fields: object) -> str:
    return created_id(create(api, creds, **fields))


def conference_url(creds: Credentials, conference_id: str) -> str:
    return f"{conferences_path(creds)}/{conference_id}"


def complete(api: httpx.Client, creds: Credentials, conference_id: str) -> None:
    response = api.post(conference_url(creds, conference_id), json={"state": "completed"})
    assert response.status_code == 200 and response.content == b"", response.text


def unique(name: str) -> str:
    """A callback path of this test's own, so other tests' events never match."""
    return f"/ok/{name}-{uuid.uuid4().hex[:10]}"


def events_at(callbacks: CallbackServer, path: str, count: int, timeout: float = 15.0) -> list[dict]:
    found = callbacks.wait_for(lambda r: r.path == path, count=count, timeout=timeout)
    return [r.event for r in found]


def tone(hz: float, seconds: float, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * hz * t) * 12000).astype(np.int16)


def hang_up(api: httpx.Client, creds: Credentials, call_id: str) -> None:
    assert api.post(f"{calls_path(creds)}/{call_id}", json={"state": "completed"}).status_code == 200


# -- create ---------------------------------------------------------------------------------------------


def test_create_answers_201_with_absolute_location_and_is_readable_at_once(api, server, user):
    response = create(api, user)
    assert response.status_code == 201 and response.content == b""
    location = response.headers["location"]
    assert location.startswith(f"{server.base_url}{conferences_path(user)}/conf-")
    conference_id = location.rsplit("/", 1)[1]
    assert len(conference_id) >= 22 and conference_id[5:].isalnum() and conference_id == conference_id.lower()
    got = api.get(location)
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/json")
    conference = got.json()
    assert conference["id"] == conference_id
    assert conference["state"] == "created"
    assert conference["from"] == FROM
    assert conference["createdTime"].endswith("Z") and len(conference["createdTime"]) == 24
    assert "completedTime" not in conference
    assert conference["activeMembers"] == 0
    assert conference["mute"] is False and conference["hold"] is False
    assert conference["profile"] == "interpret_digits"
    assert conference["callbackHttpMethod"] == "POST"
    assert conference["callbackTimeout"] == 10000
    assert "callbackUrl" not in conference and "tag" not in conference


def test_every_create_field_is_stored_and_shown_typed(api, user, callbacks):
    conference_id = new_conference(
        api,
        user,
        callbackUrl=callbacks.url("/ok/conf-fields"),
        callbackHttpMethod="get",
        callbackTimeout="2500",
        fallbackUrl=callbacks.url("/ok/conf-fallback"),
        profile="PASSTHRU_DIGITS",
        tag='{ "room": 7 }',
    )
    conference = api.get(conference_url(user, conference_id)).json()
    assert conference["callbackUrl"] == callbacks.url("/ok/conf-fields")
    assert conference["callbackHttpMethod"] == "GET"
    assert conference["callbackTimeout"] == 2500
    assert conference["fallbackUrl"] == callbacks.url("/ok/conf-fallback")
    assert conference["profile"] == "passthru_digits"
    assert conference["tag"] == '{ "room": 7 }'
    assert conference["state"] == "created"


def test_null_means_not_supplied(api, user):
    nulls = dict.fromkeys(
        ("callbackUrl", "callbackHttpMethod", "callbackTimeout", "fallbackUrl", "profile", "tag")
    )
    conference = api.get(conference_url(user, new_conference(api, user, **nulls))).json()
    assert conference["profile"] == "interpret_digits" and conference["callbackHttpMethod"] == "POST"
    assert "callbackUrl" not in conference and "tag" not in conference


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"from": None}, "missing-property", "from"),
        ({"from": "9195551212"}, "validation-error", "from"),
        ({"from": "+0123"}, "validation-error", "from"),
        ({"from": "sip:me@127.0.0.1"}, "validation-error", "from"),
        ({"from": True}, "validation-error", "from"),
        ({"callbackUrl": "not a url"}, "callback-invalid-url", "callbackUrl"),
        ({"callbackUrl": "ftp://127.0.0.1/x"}, "callback-invalid-url", "callbackUrl"),
        ({"fallbackUrl": "mailto:a@b.c"}, "callback-invalid-url", "fallbackUrl"),
        ({"callbackTimeout": 10001}, "validation-error", "callbackTimeout"),
        ({"callbackTimeout": 0}, "validation-error", "callbackTimeout"),
        ({"callbackTimeout": "soon"}, "validation-error", "callbackTimeout"),
        ({"callbackHttpMethod": "PUT"}, "validation-error", "callbackHttpMethod"),
        ({"profile": "loud"}, "validation-error", "profile"),
        ({"profile": 1}, "validation-error", "profile"),
        ({"tag": "x" * 257}, "validation-error", "tag"),
        ({"tag": {"a": 1}}, "validation-error", "tag"),
    ],
)
def test_invalid_create_is_a_400_naming_the_field(api, user, fields, code, field):
    assert_error(create(api, user, **fields), 400, code, field)


def test_create_without_from_at_all_is_missing_property(api, user):
    assert_error(api.post(conferences_path(user), json={}), 400, "missing-property", "from")


def test_limits_at_their_edges_are_accepted(api, user):
    conference_id = new_conference(api, user, callbackTimeout=10000, tag="t" * 256, **{"from": f" {FROM} "})
    conference = api.get(conference_url(user, conference_id)).json()
    assert conference["callbackTimeout"] == 10000 and len(conference["tag"]) == 256
    assert conference["from"] == FROM


def test_body_that_is_not_a_json_object_is_a_clear_400(api, user):
    for raw in (b"{not json", b"[1,2]", b'"text"', b"null"):
        response = api.post(conferences_path(user), content=raw, headers={"Content-Type": "application/json"})
        assert_error(response, 400, "validation-error")
        conference_id = new_conference(api, user)
        response = api.post(
            conference_url(user, conference_id), content=raw, headers={"Content-Type": "application/json"}
        )
        assert_error(response, 400, "validation-error")
        assert api.get(conference_url(user, conference_id)).json()["state"] == "created"


# -- events ---------------------------------------------------------------------------------------------


def test_created_and_completed_events_reach_the_callback_url(api, user, callbacks):
    path = unique("conf-events")
    response = create(api, user, callbackUrl=callbacks.url(path), tag="room-1")
    location = response.headers["location"]
    conference_id = created_id(response)
    [created] = events_at(callbacks, path, 1)
    assert created["eventType"] == "conference"
    assert created["conferenceId"] == conference_id
    assert created["conferenceUri"] == location
    assert created["status"] == "created"
    assert created["tag"] == "room-1"
    assert "completedTime" not in created
    conference = api.get(location).json()
    assert created["createdTime"] == conference["createdTime"]

    complete(api, user, conference_id)
    conference = api.get(location).json()
    assert conference["state"] == "completed"
    assert conference["completedTime"] >= conference["createdTime"]
    assert conference["activeMembers"] == 0
    first, second = events_at(callbacks, path, 2)
    assert first == created  # the created event came first, and only once
    assert second["eventType"] == "conference"
    assert second["conferenceId"] == conference_id and second["conferenceUri"] == location
    assert second["status"] == "completed"
    assert second["createdTime"] == conference["createdTime"]
    assert second["completedTime"] == conference["completedTime"]
    assert second["tag"] == "room-1"


def test_get_callbacks_carry_the_fields_in_the_query_string(api, user, callbacks):
    path = unique("conf-get")
    conference_id = new_conference(
        api, user, callbackUrl=callbacks.url(path), callbackHttpMethod="get", tag="q"
    )
    [received] = callbacks.wait_for(lambda r: r.path == path)
    assert received.method == "GET" and received.body == b""
    assert received.query["eventType"] == "conference"
    assert received.query["conferenceId"] == conference_id
    assert received.query["status"] == "created"
    assert received.query["tag"] == "q"
    complete(api, user, conference_id)
    completed = callbacks.wait_for(lambda r: r.path == path, count=2)[1]
    assert completed.method == "GET" and completed.query["status"] == "completed"
    assert completed.query["completedTime"]


def test_events_of_one_conference_arrive_in_order_even_when_the_receiver_is_slow(api, user, callbacks):
    """The first delivery stalls; the completed event must still arrive after the created one."""
    path = f"/hang-once/1500/{uuid.uuid4().hex[:10]}"
    conference_id = new_conference(api, user, callbackUrl=callbacks.url(path))
    complete(api, user, conference_id)
    found = callbacks.wait_for(lambda r: r.path == path, count=2)
    assert [r.event["status"] for r in found] == ["created", "completed"]
    assert {r.event["conferenceId"] for r in found} == {conference_id}


def test_no_callback_url_means_no_events_and_no_trouble(api, user):
    conference_id = new_conference(api, user)
    complete(api, user, conference_id)
    assert api.get(conference_url(user, conference_id)).json()["state"] == "completed"


def test_callbacks_changed_by_update_are_where_later_events_go(api, user, callbacks):
    before, after = unique("conf-before"), unique("conf-after")
    conference_id = new_conference(api, user, callbackUrl=callbacks.url(before), tag="old")
    events_at(callbacks, before, 1)
    response = api.post(
        conference_url(user, conference_id),
        json={"callbackUrl": callbacks.url(after), "callbackHttpMethod": "get", "tag": "new"},
    )
    assert response.status_code == 200
    conference = api.get(conference_url(user, conference_id)).json()
    assert conference["callbackUrl"] == callbacks.url(after)
    assert conference["callbackHttpMethod"] == "GET" and conference["tag"] == "new"
    complete(api, user, conference_id)
    [received] = callbacks.wait_for(lambda r: r.path == after)
    assert received.method == "GET"
    assert received.query["status"] == "completed" and received.query["tag"] == "new"
    assert len(callbacks.wait_for(lambda r: r.path == before)) == 1


# -- update ---------------------------------------------------------------------------------------------


def test_mute_and_hold_are_shown_and_can_be_undone(api, user):
    conference_id = new_conference(api, user)
    url = conference_url(user, conference_id)
    assert api.post(url, json={"mute": True}).status_code == 200
    conference = api.get(url).json()
    assert conference["mute"] is True and conference["hold"] is False
    assert api.post(url, json={"hold": "true"}).status_code == 200
    conference = api.get(url).json()
    assert conference["mute"] is True and conference["hold"] is True
    assert conference["state"] == "created"
    assert api.post(url, json={"mute": False, "hold": "false"}).status_code == 200
    conference = api.get(url).json()
    assert conference["mute"] is False and conference["hold"] is False


def test_sdk_style_nulls_change_nothing(api, user):
    conference_id = new_conference(api, user, tag="kept", callbackTimeout=3000)
    url = conference_url(user, conference_id)
    nulls = dict.fromkeys(
        (
            "state",
            "mute",
            "hold",
            "callbackUrl",
            "callbackTimeout",
            "callbackHttpMethod",
            "fallbackUrl",
            "tag",
        )
    )
    assert api.post(url, json=nulls).status_code == 200
    conference = api.get(url).json()
    assert conference["state"] == "created" and conference["tag"] == "kept"
    assert conference["callbackTimeout"] == 3000 and conference["mute"] is False


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"state": "active"}, "validation-error", "state"),
        ({"state": "created"}, "validation-error", "state"),
        ({"state": 7}, "validation-error", "state"),
        ({"mute": "maybe"}, "validation-error", "mute"),
        ({"hold": 2}, "validation-error", "hold"),
        ({"callbackUrl": "not a url"}, "callback-invalid-url", "callbackUrl"),
        ({"callbackTimeout": 10001}, "validation-error", "callbackTimeout"),
        ({"callbackHttpMethod": "DELETE"}, "validation-error", "callbackHttpMethod"),
        ({"tag": "x" * 257}, "validation-error", "tag"),
    ],
)
def test_invalid_update_is_a_400_naming_the_field_and_changes_nothing(api, user, fields, code, field):
    conference_id = new_conference(api, user)
    url = conference_url(user, conference_id)
    assert_error(api.post(url, json={"mute": True, **fields}), 400, code, field)
    conference = api.get(url).json()
    assert conference["state"] == "created" and conference["mute"] is False


def test_state_completed_is_accepted_in_any_case(api, user):
    conference_id = new_conference(api, user)
    url = conference_url(user, conference_id)
    assert api.post(url, json={"state": "COMPLETED"}).status_code == 200
    assert api.get(url).json()["state"] == "completed"


def test_a_completed_conference_cannot_be_changed(api, user):
    conference_id = new_conference(api, user, tag="before")
    url = conference_url(user, conference_id)
    complete(api, user, conference_id)
    completed = api.get(url).json()
    for body in ({"state": "completed"}, {"mute": True}, {"hold": True}, {"tag": "after"}, {}):
        refused = assert_error(api.post(url, json=body), 403, "conference-error")
        assert refused["message"] == (
            f"Unable to update conference {conference_id}. Invalid conference state completed"
        )
    assert api.get(url).json() == completed


def test_concurrent_ends_complete_it_once(server, user, callbacks):
    path = unique("conf-race")
    with server.client(user) as api:
        conference_id = new_conference(api, user, callbackUrl=callbacks.url(path))
    statuses: list[int] = []
    barrier = threading.Barrier(5)

    def end() -> None:
        with server.client(user) as client:
            barrier.wait()
            response = client.post(conference_url(user, conference_id), json={"state": "completed"})
            statuses.append(response.status_code)

    threads = [threading.Thread(target=end) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 403, 403, 403, 403]
    assert [e["status"] for e in events_at(callbacks, path, 2)] == ["created", "completed"]


# -- not found, and other users -------------------------------------------------------------------------


def test_unknown_conferences_are_404_everywhere(api, user):
    member_body = {"callId": NOWHERE_CALL}
    for conference_id in [NOWHERE_CONFERENCE, *JUNK_IDS]:
        url = conference_url(user, conference_id)
        assert_error(api.get(url), 404, "conference-not-found")
        assert_error(api.post(url, json={"state": "completed"}), 404, "conference-not-found")
        assert_error(api.post(url, json={"mute": True}), 404, "conference-not-found")
        assert_error(api.post(f"{url}/audio", json={"sentence": "hi"}), 404, "conference-not-found")
        assert_error(api.get(f"{url}/members"), 404, "conference-not-found")
        assert_error(api.post(f"{url}/members", json=member_body), 404, "conference-not-found")
        assert_error(api.get(f"{url}/members/{NOWHERE_MEMBER}"), 404, "conference-not-found")


def test_another_users_path_and_conferences_are_out_of_reach(server, api, user, other_user):
    assert_error(create(api, other_user), 401, "user-access-denied")
    conference_id = new_conference(api, user)
    assert_error(api.get(conference_url(other_user, conference_id)), 401, "user-access-denied")
    with server.client(other_user) as other:
        url = conference_url(other_user, conference_id)
        assert_error(other.get(url), 404, "conference-not-found")
        assert_error(other.post(url, json={"state": "completed"}), 404, "conference-not-found")
        assert_error(other.post(f"{url}/audio", json={"sentence": "hi"}), 404, "conference-not-found")
        assert_error(other.get(f"{url}/members"), 404, "conference-not-found")
        call_id = created_id(create_call(other, other_user))
        try:
            assert_error(other.post(f"{url}/members", json={"callId": call_id}), 404, "conference-not-found")
            # nor can another user's call join it, or be created into it
            assert_error(
                api.post(f"{conference_url(user, conference_id)}/members", json={"callId": call_id}),
                404,
                "call-not-found",
                "callId",
            )
            assert_error(
                create_call(other, other_user, conferenceId=conference_id),
                403,
                "invalid-call-conference-id",
                "conferenceId",
            )
        finally:
            hang_up(other, other_user, call_id)
    assert api.get(conference_url(user, conference_id)).json()["state"] == "created"


def test_missing_or_wrong_credentials_are_401(server, user):
    with server.client(None) as anonymous:
        assert_error(
            anonymous.post(conferences_path(user), json={"from": FROM}), 401, "authentication-failed"
        )
        assert_error(anonymous.get(conference_url(user, NOWHERE_CONFERENCE)), 401, "authentication-failed")


# -- members, refused without an answered call ----------------------------------------------------------


def test_a_new_conference_has_no_members(api, user):
    conference_id = new_conference(api, user)
    members = api.get(f"{conference_url(user, conference_id)}/members")
    assert members.status_code == 200 and members.json() == []
    for member_id in (NOWHERE_MEMBER, "member-!!", "%00", "x" * 300):
        url = f"{conference_url(user, conference_id)}/members/{member_id}"
        assert_error(api.get(url), 404, "conference-member-not-found")
        assert_error(api.post(url, json={"mute": True}), 404, "conference-member-not-found")
        assert_error(api.post(url, json={"state": "completed"}), 404, "conference-member-not-found")
        assert_error(api.post(f"{url}/audio", json={"sentence": "hi"}), 404, "conference-member-not-found")


def test_a_ringing_call_of_this_conference_cannot_join_yet(api, user):
    conference_id = new_conference(api, user)
    call_id = created_id(create_call(api, user, conferenceId=conference_id))
    try:
        call = api.get(f"{calls_path(user)}/{call_id}").json()
        assert call["state"] == "started" and call["conferenceId"] == conference_id
        members_url = f"{conference_url(user, conference_id)}/members"
        assert_error(api.post(members_url, json={"callId": call_id}), 403, "call-invalid-state", "callId")
        assert api.get(members_url).json() == []
        conference = api.get(conference_url(user, conference_id)).json()
        assert conference["state"] == "created" and conference["activeMembers"] == 0
        listed = api.get(calls_path(user), params={"conferenceId": conference_id}).json()
        assert [c["id"] for c in listed] == [call_id]
    finally:
        hang_up(api, user, call_id)
    # ended, it is no more fit to join
    assert_error(
        api.post(f"{conference_url(user, conference_id)}/members", json={"callId": call_id}),
        403,
        "call-invalid-state",
        "callId",
    )


def test_a_call_not_created_with_this_conference_id_cannot_join(api, user):
    conference_id = new_conference(api, user)
    elsewhere = new_conference(api, user)
    plain = created_id(create_call(api, user))
    other = created_id(create_call(api, user, conferenceId=elsewhere))
    try:
        members_url = f"{conference_url(user, conference_id)}/members"
        for call_id in (plain, other):
            assert_error(
                api.post(members_url, json={"callId": call_id}), 403, "invalid-call-conference-id", "callId"
            )
        assert api.get(members_url).json() == []
    finally:
        hang_up(api, user, plain)
        hang_up(api, user, other)


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({}, 400, "missing-property", "callId"),
        ({"callId": None, "mute": True}, 400, "missing-property", "callId"),
        ({"callId": NOWHERE_CALL}, 404, "call-not-found", "callId"),
        ({"callId": "not a call id"}, 404, "call-not-found", "callId"),
        ({"callId": ["c-x"]}, 400, "validation-error", "callId"),
        ({"callId": NOWHERE_CALL, "mute": "maybe"}, 400, "validation-error", "mute"),
        ({"callId": NOWHERE_CALL, "joinTone": 5}, 400, "validation-error", "joinTone"),
    ],
)
def test_member_refusals_name_the_field(api, user, body, status, code, field):
    conference_id = new_conference(api, user)
    members_url = f"{conference_url(user, conference_id)}/members"
    assert_error(api.post(members_url, json=body), status, code, field)
    assert api.get(members_url).json() == []


def test_member_body_that_is_not_a_json_object_is_a_400(api, user):
    members_url = f"{conference_url(user, new_conference(api, user))}/members"
    for raw in (b"{not json", b"[1]", b'"c-x"'):
        response = api.post(members_url, content=raw, headers={"Content-Type": "application/json"})
        assert_error(response, 400, "validation-error")


def test_a_completed_conference_takes_no_members_and_no_new_calls(api, user):
    conference_id = new_conference(api, user)
    call_id = created_id(create_call(api, user, conferenceId=conference_id))
    try:
        complete(api, user, conference_id)
        members_url = f"{conference_url(user, conference_id)}/members"
        assert_error(api.post(members_url, json={"callId": call_id}), 403, "conference-error")
        assert api.get(members_url).json() == []  # its history is still readable
        assert_error(
            create_call(api, user, conferenceId=conference_id),
            403,
            "invalid-call-conference-id",
            "conferenceId",
        )
    finally:
        hang_up(api, user, call_id)


# -- conference audio -----------------------------------------------------------------------------------


def audio_events(callbacks: CallbackServer, path: str, count: int, timeout: float = 20.0) -> list[dict]:
    found = callbacks.wait_for(
        lambda r: r.path == path and r.event["eventType"].startswith("conference-"),
        count=count,
        timeout=timeout,
    )
    return [r.event for r in found]


def test_a_sentence_is_spoken_to_the_conference_with_started_then_done(api, user, callbacks):
    path = unique("conf-speak")
    response = create(api, user, callbackUrl=callbacks.url(path), tag="room")
    location, conference_id = response.headers["location"], created_id(response)
    spoken = api.post(f"{location}/audio", json={"sentence": "Welcome to the conference", "tag": "hello"})
    assert spoken.status_code == 200 and spoken.content == b""
    started, done = audio_events(callbacks, path, 2)
    for event, status in ((started, "started"), (done, "done")):
        assert event["eventType"] == "conference-speak"
        assert event["conferenceId"] == conference_id and event["conferenceUri"] == location
        assert event["status"] == status
        assert event["tag"] == "hello"  # the audio's tag, not the conference's
    statuses = [e["status"] for e in events_at(callbacks, path, 3)]
    assert statuses == ["created", "started", "done"]
    assert api.get(location).json()["state"] == "created"  # audio alone makes nobody a member
    complete(api, user, conference_id)


def test_without_an_audio_tag_the_conferences_tag_rides_along(api, user, callbacks):
    path = unique("conf-speak-tag")
    conference_id = new_conference(api, user, callbackUrl=callbacks.url(path), tag="room")
    assert (
        api.post(f"{conference_url(user, conference_id)}/audio", json={"sentence": "Hi"}).status_code == 200
    )
    started, done = audio_events(callbacks, path, 2)
    assert (started["status"], done["status"]) == ("started", "done")
    assert started["tag"] == done["tag"] == "room"
    complete(api, user, conference_id)


def test_ending_the_conference_stops_its_audio(api, user, callbacks):
    path = unique("conf-speak-end")
    conference_id = new_conference(api, user, callbackUrl=callbacks.url(path))
    long_sentence = "This announcement goes on for a long while, " * 8
    url = conference_url(user, conference_id)
    assert api.post(f"{url}/audio", json={"sentence": long_sentence}).status_code == 200
    [started] = audio_events(callbacks, path, 1)
    assert started["status"] == "started"
    ended = time.monotonic()
    complete(api, user, conference_id)
    audio_events(callbacks, path, 2, timeout=5.0)  # well before the sentence's own end
    assert time.monotonic() - ended < 5.0
    kinds = [(e["eventType"], e["status"]) for e in events_at(callbacks, path, 4)]
    assert kinds == [
        ("conference", "created"),
        ("conference-speak", "started"),
        ("conference", "completed"),
        ("conference-speak", "done"),
    ]


def test_an_empty_sentence_stops_what_is_spoken(api, user, callbacks):
    path = unique("conf-speak-stop")
    conference_id = new_conference(api, user, callbackUrl=callbacks.url(path))
    url = f"{conference_url(user, conference_id)}/audio"
    assert_error(api.post(url, json={"sentence": ""}), 403, "call-audio-invalid-state")  # nothing plays
    long_sentence = "This announcement goes on for a long while, " * 8
    assert api.post(url, json={"sentence": long_sentence, "tag": "long"}).status_code == 200
    audio_events(callbacks, path, 1)
    stopped = time.monotonic()
    assert api.post(url, json={"sentence": ""}).status_code == 200
    started, done = audio_events(callbacks, path, 2, timeout=5.0)
    assert time.monotonic() - stopped < 5.0
    assert (started["status"], done["status"]) == ("started", "done") and done["tag"] == "long"
    assert api.get(conference_url(user, conference_id)).json()["state"] == "created"
    complete(api, user, conference_id)


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({}, 400, "validation-error", "sentence"),
        ({"tag": "x", "loopEnabled": False}, 400, "validation-error", "sentence"),
        ({"fileUrl": "http://127.0.0.1:9/a.wav", "sentence": "hi"}, 400, "validation-error", None),
        ({"sentence": "x" * 1001}, 400, "validation-error", "sentence"),
        ({"sentence": "hi", "loopEnabled": "maybe"}, 400, "validation-error", "loopEnabled"),
        ({"fileUrl": "ftp://127.0.0.1/a.wav"}, 403, "media-invalid-url", "fileUrl"),
    ],
)
def test_invalid_conference_audio_is_refused(api, user, body, status, code, field):
    conference_id = new_conference(api, user)
    assert_error(api.post(f"{conference_url(user, conference_id)}/audio", json=body), status, code, field)


def test_no_audio_into_a_completed_conference(api, user, callbacks):
    path = unique("conf-speak-late")
    conference_id = new_conference(api, user, callbackUrl=callbacks.url(path))
    complete(api, user, conference_id)
    url = f"{conference_url(user, conference_id)}/audio"
    assert_error(api.post(url, json={"sentence": "too late"}), 403, "conference-error")
    assert_error(api.post(url, json={"fileUrl": "http://127.0.0.1:9/a.wav"}), 403, "conference-error")
    assert [e["status"] for e in events_at(callbacks, path, 2)] == ["created", "completed"]


def test_a_file_plays_to_the_conference_with_playback_events(api, user, callbacks):
    media = f"/v1/users/{user.user_id}/media/conf-tone-{uuid.uuid4().hex[:8]}.wav"
    assert api.put(media, content=encode_wav(tone(600, 0.6))).status_code == 200
    path = unique("conf-playback")
    conference_id = new_conference(api, user, callbackUrl=callbacks.url(path))
    url = f"{conference_url(user, conference_id)}/audio"
    began = time.monotonic()
    played = api.post(url, json={"fileUrl": f"{api.base_url}{media}", "tag": "tone"})
    assert played.status_code == 200, played.text
    started, done = audio_events(callbacks, path, 2)
    assert 0.5 <= time.monotonic() - began <= 5
    assert [(e["eventType"], e["status"], e["tag"]) for e in (started, done)] == [
        ("conference-playback", "started", "tone"),
        ("conference-playback", "done", "tone"),
    ]
    assert started["conferenceId"] == done["conferenceId"] == conference_id
    # Looped, it plays until an empty fileUrl stops it.
    assert api.post(url, json={"fileUrl": f"{api.base_url}{media}", "loopEnabled": True}).status_code == 200
    audio_events(callbacks, path, 3)
    with pytest.raises(AssertionError):  # for longer than the file: a loop still plays, no done yet
        audio_events(callbacks, path, 4, timeout=1.5)
    assert api.post(url, json={"fileUrl": ""}).status_code == 200
    events = audio_events(callbacks, path, 4)
    assert [e["status"] for e in events] == ["started", "done", "started", "done"]
    assert_error(api.post(url, json={"fileUrl": ""}), 403, "call-audio-invalid-state")  # nothing plays now
    complete(api, user, conference_id)


def test_an_unreachable_file_is_refused_and_nothing_starts(api, user, callbacks):
    path = unique("conf-playback-missing")
    conference_id = new_conference(api, user, callbackUrl=callbacks.url(path))
    url = f"{conference_url(user, conference_id)}/audio"
    refused = api.post(url, json={"fileUrl": "http://127.0.0.1:9/nothing.wav"})
    assert_error(refused, 503, "media-unavailable")
    missing = f"{api.base_url}/v1/users/{user.user_id}/media/never-{uuid.uuid4().hex[:8]}.wav"
    assert_error(api.post(url, json={"fileUrl": missing}), 404, "media-not-found")
    complete(api, user, conference_id)
    assert [e["eventType"] for e in events_at(callbacks, path, 2)] == ["conference", "conference"]


def test_there_is_no_list_of_conferences(api, user):
    assert_error(api.get(conferences_path(user)), 405, "method-not-allowed")
    assert_error(api.delete(conference_url(user, new_conference(api, user))), 405, "method-not-allowed")


def test_conference_events_carry_a_stable_event_id(api, user, callbacks):
    path = unique("conf-event-id")
    conference_id = new_conference(api, user, callbackUrl=callbacks.url(path))
    complete(api, user, conference_id)
    found = callbacks.wait_for(lambda r: r.path == path, count=2)
    ids = [r.headers["x-trebuchet-event-id"] for r in found]
    assert all(i.startswith("ev-") for i in ids) and len(set(ids)) == 2
    assert all(r.headers["content-type"].startswith("application/json") for r in found)


def test_refused_conference_requests_appear_in_the_error_log(server):
    creds = server.create_user()
    with server.client(creds) as api:
        assert_error(create(api, creds, callbackTimeout=99999), 400, "validation-error", "callbackTimeout")
        errors = api.get(f"/v1/users/{creds.user_id}/errors").json()
        assert errors[0]["code"] == "validation-error" and "callbackTimeout" in errors[0]["message"]
        assert_error(api.get(conference_url(creds, NOWHERE_CONFERENCE)), 404, "conference-not-found")
        assert api.get(f"/v1/users/{creds.user_id}/errors").json()[0]["code"] == "conference-not-found"


# -- creating once, and which missing thing is reported ----------------------------------------------


def test_idempotency_key_returns_the_first_conference(api, user):
    headers = {"Idempotency-Key": f"conf-key-{uuid.uuid4().hex}"}
    body = {"from": FROM, "tag": "once"}
    first = api.post(conferences_path(user), json=body, headers=headers)
    second = api.post(conferences_path(user), json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.headers["location"] == second.headers["location"]
    changed = api.post(conferences_path(user), json={**body, "tag": "twice"}, headers=headers)
    assert_error(changed, 409, "idempotency-key-reused")


def test_an_unknown_conference_is_reported_before_a_junk_call_id(api, user):
    url = f"{conference_url(user, NOWHERE_CONFERENCE)}/members"
    assert_error(api.post(url, json={"callId": "junk!"}), 404, "conference-not-found")
