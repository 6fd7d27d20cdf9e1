"""The Phone numbers API through the real server process (spec §9.4), on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import random
from urllib.parse import quote

import httpx
import pytest

from .support import Credentials, assert_error
from .test_api_applications import apps_path, create_app
from .test_api_calls import created_id, parse_links

# Numbers are unique across the server and the server lives for the session: hand out fresh ones.
_serial = itertools.count(random.randrange(1_000_000))


def fresh_number() -> str:
    return f"+1919{next(_serial) % 10_000_000:07d}"


def numbers_path(creds: Credentials) -> str:
    return f"/v1/users/{creds.user_id}/phoneNumbers"


def import_number(api: httpx.Client, creds: Credentials, number: str, **fields: object) -> httpx.Response:
    return api.post(numbers_path(creds), json={"number": number, **fields})


def by_number(creds: Credentials, number: str) -> str:
    return f"{numbers_path(creds)}/{quote(number, safe='')}"


# -- import and get -------------------------------------------------------------------------------------


def test_import_answers_201_and_the_number_reads_by_id_and_by_number(api, server, user):
    number = fresh_number()
    response = import_number(api, user, number)
    assert response.status_code == 201 and response.content == b""
    location = response.headers["location"]
    assert location.startswith(f"{server.base_url}{numbers_path(user)}/n-")
    number_id = location.rsplit("/", 1)[1]
    resource = api.get(location).json()
    assert resource == {
        "id": number_id,
        "number": number,
        "nationalNumber": f"({number[2:5]}) {number[5:8]}-{number[8:]}",
        "price": "0.00",
        "createdTime": resource["createdTime"],
        "numberState": "enabled",
    }
    assert resource["createdTime"].endswith("Z") and len(resource["createdTime"]) == 24
    encoded = by_number(user, number)
    assert "%2B" in encoded
    assert api.get(encoded).json() == resource
    assert api.get(f"{numbers_path(user)}/{number}").json() == resource  # a bare + as python-bandwidth sends


def test_every_property_is_stored_and_shown(api, server, user):
    app_id = created_id(create_app(api, user))
    number = fresh_number()
    response = import_number(
        api,
        user,
        f" {number} ",
        name="front desk",
        applicationId=app_id,
        fallbackNumber="+442079460958",
        city="Raleigh",
        state="nc",
    )
    resource = api.get(response.headers["location"]).json()
    assert resource["number"] == number
    assert resource["name"] == "front desk"
    assert resource["applicationId"] == app_id
    assert resource["application"] == f"{server.base_url}{apps_path(user)}/{app_id}"
    assert resource["fallbackNumber"] == "+442079460958"
    assert (resource["city"], resource["state"]) == ("RALEIGH", "NC")


def test_a_number_outside_north_america_has_no_national_format(api, user):
    number = f"+4420{next(_serial) % 100_000_000:08d}"
    resource = api.get(import_number(api, user, number).headers["location"]).json()
    assert resource["number"] == number and "nationalNumber" not in resource


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"number": None}, "missing-property", "number"),
        ({"number": "9195551212"}, "validation-error", "number"),
        ({"number": "+0123"}, "validation-error", "number"),
        ({"number": "sip:me@127.0.0.1"}, "validation-error", "number"),
        ({"number": True}, "validation-error", "number"),
        ({"fallbackNumber": "911"}, "validation-error", "fallbackNumber"),
        ({"name": "n" * 257}, "validation-error", "name"),
        ({"name": "line\nbreak"}, "validation-error", "name"),
        ({"applicationId": "a-nosuchapp"}, "validation-error", "applicationId"),
        ({"applicationId": "\x00"}, "validation-error", "applicationId"),
        ({"city": "c" * 65}, "validation-error", "city"),
    ],
)
def test_invalid_import_is_refused_naming_the_field_and_stores_nothing(api, user, fields, code, field):
    number = fresh_number()
    body = {"number": number, **fields}
    assert_error(api.post(numbers_path(user), json=body), 400, code, field)
    assert_error(api.get(by_number(user, number)), 404, "number-not-found")


def test_a_number_is_held_by_one_user_of_the_server(server, api, user, other_user):
    number = fresh_number()
    number_id = created_id(import_number(api, user, number))
    again = assert_error(import_number(api, user, number), 409, "duplicate-number")
    assert again["category"] == "conflict" and number in again["message"]
    with server.client(other_user) as other:
        assert_error(import_number(other, other_user, number), 409, "duplicate-number")
        assert_error(other.get(by_number(other_user, number)), 404, "number-not-found")
        assert_error(other.get(f"{numbers_path(other_user)}/{number_id}"), 404, "number-not-found")
        assert_error(
            other.post(f"{numbers_path(other_user)}/{number_id}", json={"name": "x"}), 404, "number-not-found"
        )
        assert_error(other.delete(by_number(other_user, number)), 404, "number-not-found")
        assert number_id not in [n["id"] for n in other.get(numbers_path(other_user)).json()]
        # Once released, the number is free for anyone to import.
        assert api.delete(by_number(user, number)).status_code == 200
        taken = created_id(import_number(other, other_user, number))
        assert other.get(by_number(other_user, number)).json()["id"] == taken != number_id
    assert_error(api.get(f"{numbers_path(user)}/{number_id}"), 404, "number-not-found")


def test_an_application_of_another_user_cannot_be_attached(server, api, user, other_user):
    with server.client(other_user) as other:
        theirs = created_id(create_app(other, other_user))
    number = fresh_number()
    assert_error(
        import_number(api, user, number, applicationId=theirs), 400, "validation-error", "applicationId"
    )
    url = f"{numbers_path(user)}/{created_id(import_number(api, user, number))}"
    assert_error(api.post(url, json={"applicationId": theirs}), 400, "validation-error", "applicationId")
    assert "applicationId" not in api.get(url).json()


def test_other_users_path_and_bad_credentials_are_401(server, api, user, other_user):
    assert_error(api.get(numbers_path(other_user)), 401, "user-access-denied")
    assert_error(import_number(api, other_user, fresh_number()), 401, "user-access-denied")
    with server.client(None) as anonymous:
        assert_error(anonymous.get(numbers_path(user)), 401, "authentication-failed")


def test_missing_and_implausible_references_are_404(api, user):
    for reference in ("n-nosuchnumber", "%00", "%2Babc", "%2B19195550000%00", "19195550000", "n-" + "x" * 80):
        url = f"{numbers_path(user)}/{reference}"
        assert_error(api.get(url), 404, "number-not-found")
        assert_error(api.post(url, json={"name": "x"}), 404, "number-not-found")
        assert_error(api.delete(url), 404, "number-not-found")


# -- update and release ---------------------------------------------------------------------------------


def test_update_attaches_detaches_and_renames(api, user):
    app_id = created_id(create_app(api, user))
    number = fresh_number()
    created_id(import_number(api, user, number, name="before"))
    url = by_number(user, number)
    response = api.post(url, json={"applicationId": app_id, "fallbackNumber": "+19195550000"})
    assert response.status_code == 200 and response.content == b""
    resource = api.get(url).json()
    assert resource["applicationId"] == app_id and resource["application"].endswith(f"/applications/{app_id}")
    assert resource["fallbackNumber"] == "+19195550000" and resource["name"] == "before"
    # python-bandwidth sends every property it was not given as null: nothing changes.
    assert (
        api.post(url, json={"name": None, "applicationId": None, "fallbackNumber": None}).status_code == 200
    )
    assert api.get(url).json() == resource
    assert api.post(url, json={"name": "after", "applicationId": "", "fallbackNumber": ""}).status_code == 200
    resource = api.get(url).json()
    assert resource["name"] == "after"
    assert not {"applicationId", "application", "fallbackNumber"} & set(resource)
    assert_error(api.post(url, json={"fallbackNumber": "123"}), 400, "validation-error", "fallbackNumber")
    assert_error(api.post(url, json={"applicationId": "a-missing"}), 400, "validation-error", "applicationId")
    assert_error(
        api.post(url, content=b"[]", headers={"Content-Type": "application/json"}), 400, "validation-error"
    )


def test_release_answers_200_and_the_number_is_gone(api, user):
    number = fresh_number()
    number_id = created_id(import_number(api, user, number))
    response = api.delete(f"{numbers_path(user)}/{number_id}")
    assert response.status_code == 200 and response.content == b""
    assert_error(api.get(f"{numbers_path(user)}/{number_id}"), 404, "number-not-found")
    assert_error(api.delete(by_number(user, number)), 404, "number-not-found")


def test_deleting_an_application_detaches_its_numbers(server):
    creds = server.create_user()
    with server.client(creds) as api:
        doomed = created_id(create_app(api, creds, name="doomed"))
        kept = created_id(create_app(api, creds, name="kept"))
        attached = [
            created_id(import_number(api, creds, fresh_number(), applicationId=doomed)) for _ in range(2)
        ]
        other = created_id(import_number(api, creds, fresh_number(), applicationId=kept))
        listed = api.get(numbers_path(creds), params={"applicationId": doomed}).json()
        assert [n["id"] for n in listed] == attached
        assert api.delete(f"{apps_path(creds)}/{doomed}").status_code == 200
        assert api.get(numbers_path(creds), params={"applicationId": doomed}).json() == []
        for number_id in attached:
            resource = api.get(f"{numbers_path(creds)}/{number_id}").json()
            assert "applicationId" not in resource and "application" not in resource
        assert api.get(f"{numbers_path(creds)}/{other}").json()["applicationId"] == kept


# -- list, filters and paging ---------------------------------------------------------------------------


def test_list_filters_and_paging_with_link_headers(server):
    creds = server.create_user()
    with server.client(creds) as api:
        app_id = created_id(create_app(api, creds))
        raleigh = [
            created_id(import_number(api, creds, fresh_number(), city="Raleigh", state="NC", name="sales"))
            for _ in range(5)
        ]
        durham = created_id(import_number(api, creds, fresh_number(), city="Durham", state="NC"))
        seattle = created_id(
            import_number(api, creds, fresh_number(), city="Seattle", state="WA", applicationId=app_id)
        )

        def ids(**params: object) -> list[str]:
            response = api.get(numbers_path(creds), params={"size": 1000, **params})
            assert response.status_code == 200, response.text
            return [n["id"] for n in response.json()]

        assert ids() == [*raleigh, durham, seattle]  # oldest first
        assert ids(city="raleigh") == raleigh
        assert ids(state="nc") == [*raleigh, durham]
        assert ids(state="NC", city="Durham") == [durham]
        assert ids(name="sales") == raleigh
        assert ids(applicationId=app_id) == [seattle]
        assert ids(applicationId="a-nothing") == []
        assert ids(numberState="ENABLED") == [*raleigh, durham, seattle]
        assert ids(numberState="released") == []

        first = api.get(numbers_path(creds), params={"city": "Raleigh", "size": 2})
        assert [n["id"] for n in first.json()] == raleigh[:2]
        links = parse_links(first.headers["link"])
        assert set(links) == {"first", "next"}
        assert links["next"].startswith(f"{server.base_url}{numbers_path(creds)}?")
        assert "city=Raleigh" in links["next"] and "page=1" in links["next"] and "size=2" in links["next"]
        second = api.get(links["next"])
        assert [n["id"] for n in second.json()] == raleigh[2:4]
        third = api.get(parse_links(second.headers["link"])["next"])
        assert [n["id"] for n in third.json()] == raleigh[4:]
        assert set(parse_links(third.headers["link"])) == {"first", "previous"}

        for params, field in (
            ({"numberState": "sleeping"}, "numberState"),
            ({"size": 1001}, "size"),
            ({"page": -1}, "page"),
            ({"name": "a\x00"}, "name"),
        ):
            assert_error(api.get(numbers_path(creds), params=params), 400, "validation-error", field)
