"""Whatever a client sends, the server answers with a 2xx or a JSON error in the API's format: never a 5xx.

Random JSON bodies, random query strings and random path ids go to every route of the real server.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from .support import SEED_PARAMETERS
from .test_api_calls import FROM, TO, calls_path, created_id

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
FIELDS = [*SEED_PARAMETERS, "state", "transferTo", "transferCallerId", "whisperAudio", "recordingEnabled"]
bodies = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6) | json_values
QUERY_NAMES = [
    "from",
    "to",
    "bridgeId",
    "conferenceId",
    "sortOrder",
    "page",
    "size",
    "fromDateTime",
    "toDateTime",
]
queries = st.dictionaries(st.sampled_from(QUERY_NAMES), st.text(max_size=20), max_size=4)
ids = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"), min_size=1, max_size=30
)


def assert_answered(response) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"category", "code", "message", "details"} and body["message"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_create_call_with_random_bodies(api, user, body):
    response = api.post(
        calls_path(user), content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert_answered(response)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_update_call_with_random_bodies(api, user, body):
    call_id = created_id(api.post(calls_path(user), json={"from": FROM, "to": TO}))
    response = api.post(f"{calls_path(user)}/{call_id}", content=json.dumps(body))
    assert_answered(response)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries, call_id=ids)
@example(query={"from": "\x00", "to": "\x00"}, call_id="\x00")  # NUL once reached PostgreSQL: a 500
def test_reads_with_random_queries_and_ids(api, user, query, call_id):
    assert_answered(api.get(calls_path(user), params=query))
    quoted = quote(call_id, safe="")
    for path in ("", "/events", "/events/ce-x", "/recordings", "/transcriptions"):
        assert_answered(api.get(f"{calls_path(user)}/{quoted}{path}"))
    assert_answered(api.get(f"/v1/users/{user.user_id}/errors", params=query))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_raw_bytes_as_a_body(api, user, raw):
    assert_answered(api.post(calls_path(user), content=raw, headers={"Content-Type": "application/json"}))
