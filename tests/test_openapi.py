"""/openapi.json is a valid OpenAPI document that describes every route and the bodies really sent."""

from __future__ import annotations

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate

from .support import SEED_PARAMETERS
from .test_api_applications import apps_path, create_app
from .test_api_calls import FROM, TO, calls_path, created_id
from .test_api_media import media_url
from .test_api_phone_numbers import fresh_number, import_number, numbers_path


@pytest.fixture(scope="module")
def document(server) -> dict:
    response = httpx.get(f"{server.base_url}/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_document_is_valid_openapi(document):
    validate(document)


def test_every_route_is_described(document):
    expected = {
        ("/healthz", "get"),
        ("/metrics", "get"),
        ("/v1/users/{userId}/calls", "get"),
        ("/v1/users/{userId}/calls", "post"),
        ("/v1/users/{userId}/calls/{callId}", "get"),
        ("/v1/users/{userId}/calls/{callId}", "post"),
        ("/v1/users/{userId}/calls/{callId}/events", "get"),
        ("/v1/users/{userId}/calls/{callId}/dtmf", "post"),
        ("/v1/users/{userId}/calls/{callId}/audio", "post"),
        ("/v1/users/{userId}/bridges", "get"),
        ("/v1/users/{userId}/bridges", "post"),
        ("/v1/users/{userId}/bridges/{bridgeId}", "get"),
        ("/v1/users/{userId}/bridges/{bridgeId}", "post"),
        ("/v1/users/{userId}/bridges/{bridgeId}/calls", "get"),
        ("/v1/users/{userId}/bridges/{bridgeId}/audio", "post"),
        ("/v1/users/{userId}/conferences", "post"),
        ("/v1/users/{userId}/conferences/{conferenceId}", "get"),
        ("/v1/users/{userId}/conferences/{conferenceId}", "post"),
        ("/v1/users/{userId}/conferences/{conferenceId}/audio", "post"),
        ("/v1/users/{userId}/conferences/{conferenceId}/members", "get"),
        ("/v1/users/{userId}/conferences/{conferenceId}/members", "post"),
        ("/v1/users/{userId}/conferences/{conferenceId}/members/{memberId}", "get"),
        ("/v1/users/{userId}/conferences/{conferenceId}/members/{memberId}", "post"),
        ("/v1/users/{userId}/conferences/{conferenceId}/members/{memberId}/audio", "post"),
        ("/v1/users/{userId}/calls/{callId}/gather", "post"),
        ("/v1/users/{userId}/calls/{callId}/gather/{gatherId}", "get"),
        ("/v1/users/{userId}/calls/{callId}/gather/{gatherId}", "post"),
        ("/v1/users/{userId}/calls/{callId}/events/{callEventId}", "get"),
        ("/v1/users/{userId}/calls/{callId}/recordings", "get"),
        ("/v1/users/{userId}/recordings", "get"),
        ("/v1/users/{userId}/recordings/{recordingId}", "get"),
        ("/v1/users/{userId}/calls/{callId}/transcriptions", "get"),
        ("/v1/users/{userId}/recordings/{recordingId}/transcriptions", "get"),
        ("/v1/users/{userId}/recordings/{recordingId}/transcriptions", "post"),
        ("/v1/users/{userId}/recordings/{recordingId}/transcriptions/{transcriptionId}", "get"),
        ("/v1/users/{userId}/errors", "get"),
        ("/v1/users/{userId}/errors/{errorId}", "get"),
        ("/v1/users/{userId}/applications", "get"),
        ("/v1/users/{userId}/applications", "post"),
        ("/v1/users/{userId}/applications/{applicationId}", "get"),
        ("/v1/users/{userId}/applications/{applicationId}", "post"),
        ("/v1/users/{userId}/applications/{applicationId}", "delete"),
        ("/v1/users/{userId}/phoneNumbers", "get"),
        ("/v1/users/{userId}/phoneNumbers", "post"),
        ("/v1/users/{userId}/phoneNumbers/{numberId}", "get"),
        ("/v1/users/{userId}/phoneNumbers/{numberId}", "post"),
        ("/v1/users/{userId}/phoneNumbers/{numberId}", "delete"),
        ("/v1/users/{userId}/media", "get"),
        ("/v1/users/{userId}/media/{mediaName}", "put"),
        ("/v1/users/{userId}/media/{mediaName}", "get"),
        ("/v1/users/{userId}/media/{mediaName}", "head"),
        ("/v1/users/{userId}/media/{mediaName}", "delete"),
    }
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    assert described == expected
    create = document["paths"]["/v1/users/{userId}/calls"]["post"]
    body_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = document["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert set(body["properties"]) == set(SEED_PARAMETERS)
    assert set(body["required"]) == {"from", "to"}
    list_params = {p["name"] for p in document["paths"]["/v1/users/{userId}/calls"]["get"]["parameters"]}
    assert {"from", "to", "bridgeId", "conferenceId", "sortOrder", "page", "size"} <= list_params
    numbers = document["paths"]["/v1/users/{userId}/phoneNumbers"]
    number_params = {p["name"] for p in numbers["get"]["parameters"]}
    assert {"applicationId", "state", "name", "city", "numberState", "page", "size"} <= number_params
    for path, required in (
        ("/v1/users/{userId}/applications", {"name"}),
        ("/v1/users/{userId}/phoneNumbers", {"number"}),
    ):
        ref = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert set(document["components"]["schemas"][ref.rsplit("/", 1)[1]]["required"]) == required


def _validator(document: dict, path: str, method: str, status: str) -> jsonschema.Validator:
    schema = document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return jsonschema.Draft202012Validator({**schema, "components": document["components"]})


def test_real_responses_match_their_schemas(document, api, user):
    call_id = created_id(
        api.post(calls_path(user), json={"from": FROM, "to": TO, "tag": "t", "sipHeaders": {"X-A": "b"}})
    )
    api.post(f"{calls_path(user)}/{call_id}", json={"state": "completed"})
    app_id = created_id(create_app(api, user, incomingCallFallbackUrl="http://127.0.0.1:9/fb"))
    number = fresh_number()
    number_id = created_id(import_number(api, user, number, applicationId=app_id, name="n", city="Cary"))
    checks = [
        ("/v1/users/{userId}/calls/{callId}", f"{calls_path(user)}/{call_id}", "200"),
        ("/v1/users/{userId}/calls", calls_path(user), "200"),
        ("/v1/users/{userId}/calls/{callId}/events", f"{calls_path(user)}/{call_id}/events", "200"),
        ("/v1/users/{userId}/errors", f"/v1/users/{user.user_id}/errors", "200"),
        ("/v1/users/{userId}/calls/{callId}", f"{calls_path(user)}/c-missing", "404"),
        ("/v1/users/{userId}/applications/{applicationId}", f"{apps_path(user)}/{app_id}", "200"),
        ("/v1/users/{userId}/applications", apps_path(user), "200"),
        ("/v1/users/{userId}/applications/{applicationId}", f"{apps_path(user)}/a-missing", "404"),
        ("/v1/users/{userId}/phoneNumbers/{numberId}", f"{numbers_path(user)}/{number_id}", "200"),
        ("/v1/users/{userId}/phoneNumbers", numbers_path(user), "200"),
        ("/v1/users/{userId}/phoneNumbers/{numberId}", f"{numbers_path(user)}/n-missing", "404"),
    ]
    for template, url, status in checks:
        response = api.get(url)
        assert str(response.status_code) == status
        _validator(document, template, "get", status).validate(response.json())
    refused = api.post(calls_path(user), json={"from": "bad", "to": TO})
    _validator(document, "/v1/users/{userId}/calls", "post", "400").validate(refused.json())
    for name, url in (
        ("ApplicationResource", f"{apps_path(user)}/{app_id}"),
        ("PhoneNumberResource", f"{numbers_path(user)}/{number_id}"),
    ):
        described = set(document["components"]["schemas"][name]["properties"])
        assert set(api.get(url).json()) <= described  # nothing sent that the document does not name
    media_name = "openapi check.wav"
    assert api.put(f"{media_url(user)}/{media_name}", content=b"RIFF").status_code == 200
    listed = api.get(media_url(user))
    _validator(document, "/v1/users/{userId}/media", "get", "200").validate(listed.json())
    assert {"mediaName", "contentLength", "content"} == set(listed.json()[0])
    missing = api.get(f"{media_url(user)}/no-such-file")
    _validator(document, "/v1/users/{userId}/media/{mediaName}", "get", "404").validate(missing.json())
    unsized = api.put(f"{media_url(user)}/big", content=iter([b"no Content-Length"]))
    _validator(document, "/v1/users/{userId}/media/{mediaName}", "put", "400").validate(unsized.json())
    upload = document["paths"]["/v1/users/{userId}/media/{mediaName}"]["put"]
    assert upload["requestBody"]["required"] is True
    download = document["paths"]["/v1/users/{userId}/media/{mediaName}"]["get"]["responses"]["200"]
    assert {"Content-Type", "Content-Length"} <= set(download["headers"])
    refused = create_app(api, user, incomingCallUrl=None)
    _validator(document, "/v1/users/{userId}/applications", "post", "400").validate(refused.json())
    duplicate = import_number(api, user, number)
    assert duplicate.status_code == 409
    _validator(document, "/v1/users/{userId}/phoneNumbers", "post", "409").validate(duplicate.json())
