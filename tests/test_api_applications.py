"""The Applications API through the real server process (spec §9.1), on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import httpx
import pytest

from .support import Credentials, assert_error
from .test_api_calls import created_id, parse_links

CALL_URL = "http://127.0.0.1:9/calls"
MESSAGE_URL = "http://127.0.0.1:9/messages"


def apps_path(creds: Credentials) -> str:
    return f"/v1/users/{creds.user_id}/applications"


def create_app(api: httpx.Client, creds: Credentials, **fields: object) -> httpx.Response:
    body = {"name": "MyFirstApp", "incomingCallUrl": CALL_URL, **fields}
    return api.post(apps_path(creds), json=body)


# -- create and get -------------------------------------------------------------------------------------


def test_create_answers_201_with_location_and_the_defaults(api, server, user):
    response = create_app(api, user)
    assert response.status_code == 201 and response.content == b""
    location = response.headers["location"]
    assert location.startswith(f"{server.base_url}{apps_path(user)}/a-")
    app_id = location.rsplit("/", 1)[1]
    assert len(app_id) >= 22 and app_id == app_id.lower()
    got = api.get(location)
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/json")
    assert got.json() == {
        "id": app_id,
        "name": "MyFirstApp",
        "incomingCallUrl": CALL_URL,
        "incomingCallUrlCallbackTimeout": 10000,
        "incomingMessageUrlCallbackTimeout": 10000,
        "callbackHttpMethod": "POST",
        "autoAnswer": True,
    }


def test_every_property_is_stored_and_shown_typed(api, user):
    response = create_app(
        api,
        user,
        incomingCallUrlCallbackTimeout="2500",
        incomingCallFallbackUrl="https://user:pw@127.0.0.1:8443/fallback?x=1",
        incomingMessageUrl=MESSAGE_URL,
        incomingMessageUrlCallbackTimeout=1,
        incomingMessageFallbackUrl="http://127.0.0.1:9/messages-fallback",
        callbackHttpMethod="get",
        autoAnswer="false",
        messageApiVersion="v2",  # only in the C# model: accepted and ignored
    )
    app = api.get(f"{apps_path(user)}/{created_id(response)}").json()
    assert app["incomingCallUrlCallbackTimeout"] == 2500
    assert app["incomingCallFallbackUrl"] == "https://user:pw@127.0.0.1:8443/fallback?x=1"
    assert app["incomingMessageUrl"] == MESSAGE_URL
    assert app["incomingMessageUrlCallbackTimeout"] == 1
    assert app["incomingMessageFallbackUrl"] == "http://127.0.0.1:9/messages-fallback"
    assert app["callbackHttpMethod"] == "GET"
    assert app["autoAnswer"] is False
    assert "messageApiVersion" not in app


def test_a_message_url_alone_is_enough_and_nulls_are_not_supplied(api, user):
    body = {
        "name": "sms only",
        "incomingCallUrl": None,
        "incomingMessageUrl": MESSAGE_URL,
        "incomingCallFallbackUrl": None,
        "autoAnswer": None,
        "callbackHttpMethod": None,
    }
    app = api.get(f"{apps_path(user)}/{created_id(api.post(apps_path(user), json=body))}").json()
    assert "incomingCallUrl" not in app and "incomingCallFallbackUrl" not in app
    assert app["autoAnswer"] is True and app["callbackHttpMethod"] == "POST"


@pytest.mark.parametrize(
    ("fields", "code", "field", "message"),
    [
        ({"name": None}, "missing-property", "name", None),
        ({"name": "   "}, "validation-error", "name", None),
        ({"name": "n" * 257}, "validation-error", "name", None),
        ({"name": {"a": 1}}, "validation-error", "name", None),
        (
            {"incomingCallUrl": None},
            "validation-error",
            "incomingCallUrl",
            "Your application must have a least one callback URL.",
        ),
        (
            {"incomingCallUrl": "not a url"},
            "validation-error",
            "incomingCallUrl",
            "Invalid incomingCallUrl URL. not a url is not a valid URL",
        ),
        (
            {"incomingMessageUrl": "ftp://127.0.0.1/x"},
            "validation-error",
            "incomingMessageUrl",
            "Invalid incomingMessageUrl URL. ftp://127.0.0.1/x is not a valid URL",
        ),
        (
            {"incomingCallFallbackUrl": ""},
            "validation-error",
            "incomingCallFallbackUrl",
            "Your application call fallback URL may not be blank/empty.",
        ),
        (
            {"incomingCallFallbackUrl": "http://"},
            "validation-error",
            "incomingCallFallbackUrl",
            "Invalid incomingCallFallbackUrl URL. http:// is not a valid URL",
        ),
        (
            {"incomingCallUrl": None, "incomingMessageUrl": MESSAGE_URL, "incomingCallFallbackUrl": CALL_URL},
            "validation-error",
            "incomingCallFallbackUrl",
            "Your application must have a call callback URL in order to have a fallback URL.",
        ),
        (
            {"incomingMessageFallbackUrl": " "},
            "validation-error",
            "incomingMessageFallbackUrl",
            "Your application message fallback URL may not be blank/empty.",
        ),
        (
            {"incomingMessageFallbackUrl": MESSAGE_URL},
            "validation-error",
            "incomingMessageFallbackUrl",
            "Your application must have a message callback URL in order to have a fallback URL.",
        ),
        (
            {"incomingCallUrlCallbackTimeout": 0},
            "validation-error",
            "incomingCallUrlCallbackTimeout",
            "Incoming Call callback timeout must be greater than 0",
        ),
        (
            {"incomingCallUrlCallbackTimeout": "10001"},
            "validation-error",
            "incomingCallUrlCallbackTimeout",
            "Incoming Call callback timeout must not surpass 10000",
        ),
        (
            {"incomingMessageUrlCallbackTimeout": -5},
            "validation-error",
            "incomingMessageUrlCallbackTimeout",
            "Incoming SMS callback timeout must be greater than 0",
        ),
        (
            {"incomingMessageUrlCallbackTimeout": 20000},
            "validation-error",
            "incomingMessageUrlCallbackTimeout",
            "Incoming SMS callback timeout must not surpass 10000",
        ),
        (
            {"incomingCallUrlCallbackTimeout": "soon"},
            "validation-error",
            "incomingCallUrlCallbackTimeout",
            None,
        ),
        ({"callbackHttpMethod": "PUT"}, "validation-error", "callbackHttpMethod", None),
        ({"autoAnswer": "perhaps"}, "validation-error", "autoAnswer", None),
    ],
)
def test_invalid_create_is_refused_naming_the_field_and_stores_nothing(
    api, user, fields, code, field, message
):
    before = len(api.get(apps_path(user), params={"size": 1000}).json())
    body = assert_error(create_app(api, user, **fields), 400, code, field)
    assert body["category"] == "bad-request"
    if message is not None:
        assert body["message"] == message
    assert len(api.get(apps_path(user), params={"size": 1000}).json()) == before


def test_body_that_is_not_a_json_object_is_a_clear_400(api, user):
    for raw in (b"{not json", b"[1]", b""):
        response = api.post(apps_path(user), content=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 400


# -- update and delete ----------------------------------------------------------------------------------


def test_update_is_partial_and_answers_200_with_an_empty_body(api, user):
    url = f"{apps_path(user)}/{created_id(create_app(api, user, incomingMessageUrl=MESSAGE_URL))}"
    response = api.post(url, json={"name": "Renamed", "autoAnswer": "false", "callbackHttpMethod": "get"})
    assert response.status_code == 200 and response.content == b""
    app = api.get(url).json()
    assert (app["name"], app["autoAnswer"], app["callbackHttpMethod"]) == ("Renamed", False, "GET")
    assert app["incomingCallUrl"] == CALL_URL and app["incomingMessageUrl"] == MESSAGE_URL
    # python-bandwidth sends every property it was not given as null: nothing changes.
    nulls = {"name": None, "incomingCallUrl": None, "autoAnswer": None, "incomingCallFallbackUrl": None}
    assert api.post(url, json=nulls).status_code == 200
    assert api.get(url).json() == app
    assert api.post(url, json={"incomingCallFallbackUrl": "http://127.0.0.1:9/fb"}).status_code == 200
    assert api.get(url).json()["incomingCallFallbackUrl"] == "http://127.0.0.1:9/fb"


def test_update_validation_checks_the_merged_application(api, user):
    url = f"{apps_path(user)}/{created_id(create_app(api, user))}"
    before = api.get(url).json()
    assert_error(api.post(url, json={"incomingCallUrlCallbackTimeout": 0}), 400, "validation-error")
    assert_error(api.post(url, json={"incomingCallUrl": "nope"}), 400, "validation-error", "incomingCallUrl")
    assert_error(api.post(url, json={"name": ""}), 400, "validation-error", "name")
    body = assert_error(
        api.post(url, json={"incomingMessageFallbackUrl": MESSAGE_URL}),
        400,
        "validation-error",
        "incomingMessageFallbackUrl",
    )
    assert "must have a message callback URL" in body["message"]
    assert api.get(url).json() == before


def test_delete_answers_200_and_the_application_is_gone(api, user):
    url = f"{apps_path(user)}/{created_id(create_app(api, user))}"
    response = api.delete(url)
    assert response.status_code == 200 and response.content == b""
    assert_error(api.get(url), 404, "application-not-found")
    assert_error(api.delete(url), 404, "application-not-found")
    assert_error(api.post(url, json={"name": "x"}), 404, "application-not-found")


def test_missing_and_implausible_ids_are_404(api, user):
    for app_id in ("a-nosuchapp", "%00", "a-" + "x" * 80, "c-notanapp", "A-UPPER"):
        assert_error(api.get(f"{apps_path(user)}/{app_id}"), 404, "application-not-found")
        assert_error(api.delete(f"{apps_path(user)}/{app_id}"), 404, "application-not-found")
        assert_error(
            api.post(f"{apps_path(user)}/{app_id}", json={"name": "x"}), 404, "application-not-found"
        )


# -- auth and other users -------------------------------------------------------------------------------


def test_another_users_path_and_applications_are_out_of_reach(server, api, user, other_user):
    assert_error(api.get(apps_path(other_user)), 401, "user-access-denied")
    assert_error(create_app(api, other_user), 401, "user-access-denied")
    url = f"{apps_path(user)}/{created_id(create_app(api, user, name='mine'))}"
    app_id = url.rsplit("/", 1)[1]
    with server.client(other_user) as other:
        theirs = f"{apps_path(other_user)}/{app_id}"
        assert_error(other.get(theirs), 404, "application-not-found")
        assert_error(other.post(theirs, json={"name": "stolen"}), 404, "application-not-found")
        assert_error(other.delete(theirs), 404, "application-not-found")
        assert app_id not in [a["id"] for a in other.get(apps_path(other_user)).json()]
    assert api.get(url).json()["name"] == "mine"
    with server.client(None) as anonymous:
        assert_error(anonymous.get(apps_path(user)), 401, "authentication-failed")
    with server.client(Credentials(user.user_id, user.token, "wrong")) as wrong:
        assert_error(wrong.post(apps_path(user), json={"name": "x"}), 401, "authentication-failed")


# -- list and paging ------------------------------------------------------------------------------------


def test_paging_with_link_headers(server):
    creds = server.create_user()
    with server.client(creds) as api:
        ids = [created_id(create_app(api, creds, name=f"app {i}")) for i in range(5)]
        first = api.get(apps_path(creds), params={"size": 2})
        assert [a["id"] for a in first.json()] == ids[:2]  # oldest first
        links = parse_links(first.headers["link"])
        assert set(links) == {"first", "next"}
        assert links["next"] == f"{server.base_url}{apps_path(creds)}?page=1&size=2"
        second = api.get(links["next"])
        assert [a["id"] for a in second.json()] == ids[2:4]
        assert set(parse_links(second.headers["link"])) == {"first", "previous", "next"}
        third = api.get(parse_links(second.headers["link"])["next"])
        assert [a["id"] for a in third.json()] == ids[4:]
        assert set(parse_links(third.headers["link"])) == {"first", "previous"}
        everything = api.get(apps_path(creds))
        assert [a["name"] for a in everything.json()] == [f"app {i}" for i in range(5)]
        assert set(parse_links(everything.headers["link"])) == {"first"}
        for params, field in (({"size": 0}, "size"), ({"size": 1001}, "size"), ({"page": "x"}, "page")):
            assert_error(api.get(apps_path(creds), params=params), 400, "validation-error", field)


def test_idempotency_key_returns_the_first_answer(api, user):
    headers = {"Idempotency-Key": f"app-{time.monotonic_ns()}"}
    # A body both resources accept (each ignores the other's properties).
    body = {
        "name": f"once {headers['Idempotency-Key']}",
        "incomingCallUrl": CALL_URL,
        "number": "+19995550123",
    }
    first = api.post(apps_path(user), json=body, headers=headers)
    second = api.post(apps_path(user), json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.headers["location"] == second.headers["location"]
    listed = api.get(apps_path(user), params={"size": 1000}).json()
    assert [a["name"] for a in listed].count(body["name"]) == 1
    assert_error(
        api.post(apps_path(user), json={**body, "name": "other"}, headers=headers),
        409,
        "idempotency-key-reused",
    )
    # The same key and body on another resource is refused, never answered with this application's Location.
    number = api.post(f"/v1/users/{user.user_id}/phoneNumbers", json=body, headers=headers)
    assert_error(number, 409, "idempotency-key-reused")
