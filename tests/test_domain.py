"""The domain layer on its own: validators, the call state table, retry fragments, Link headers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trebuchet.api.paging import Page, link_header
from trebuchet.domain import addresses, causes
from trebuchet.domain.call import parse_create_call, parse_update_call
from trebuchet.domain.call_state import (
    TERMINAL,
    TRANSITIONS,
    CallState,
    Input,
    InvalidTransition,
    is_noop,
    next_state,
)
from trebuchet.domain.errors import ApiError
from trebuchet.domain.ids import new_id
from trebuchet.events.target import parse_target

from .support import SEED_PARAMETERS


@pytest.mark.parametrize(
    "uri",
    [
        "sip:bob@127.0.0.1",
        "sip:bob@example.com:5070;transport=tcp",
        "sip:+19195551212@trunk.example.com",
        "sip:alice%20smith@[::1]:5060",
        "sip:example.com",
        "SIP:Bob@Example.COM",
        "sip:bob@host;lr?subject=hi",
    ],
)
def test_sip_uris_accepted(uri):
    assert addresses.is_sip_uri(uri)


@pytest.mark.parametrize(
    "uri",
    [
        "sip:",
        "sip:bob@",
        "sip:@host",
        "sips:bob@host",
        "sip:bob@host:0",
        "sip:bob@host:70000",
        "sip:bo b@host",
        "http://host",
        "sip:bob@-host",
    ],
)
def test_sip_uris_refused(uri):
    assert not addresses.is_sip_uri(uri)


def test_e164():
    assert addresses.is_e164("+19195551212")
    assert addresses.is_e164("+4930123456")
    for bad in ("19195551212", "+0191", "+1", "+1234567890123456", "+1 919 555", ""):
        assert not addresses.is_e164(bad)


def test_callback_urls():
    assert addresses.is_http_url("https://user:pass@example.com:8443/cb?x=1#rc=2&rp=5xx")
    assert addresses.is_http_url("http://[::1]:8080/")
    for bad in ("ftp://x/", "http://", "http:// x/", "http://host:99999/", "//host/path", "example.com"):
        assert not addresses.is_http_url(bad)


def test_ids_are_prefixed_lowercase_base32():
    ids = {new_id("call") for _ in range(1000)}
    assert len(ids) == 1000
    for call_id in ids:
        assert call_id.startswith("c-") and len(call_id) == 26
        assert set(call_id[2:]) <= set("abcdefghijklmnopqrstuvwxyz234567")


def test_string_booleans_numbers_and_any_case_enums():
    spec = parse_create_call(
        {
            "from": "+19195551212",
            "to": "+19195550000",
            "callTimeout": "45",
            "recordingEnabled": "TRUE",
            "callbackHttpMethod": "get",
            "recordingFileFormat": "Mp3",
            "callbackTimeout": 2500.0,
        }
    )
    assert (spec.call_timeout, spec.recording_enabled, spec.callback_http_method) == (45, True, "GET")
    assert (spec.recording_file_format, spec.callback_timeout) == ("mp3", 2500)


def test_update_parsing():
    assert parse_update_call({"state": "Completed"}).state == "completed"
    assert parse_update_call({}).is_empty()
    with pytest.raises(ApiError) as refused:
        parse_update_call({"state": "started"})
    assert refused.value.field == "state"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
FIELDS = [*SEED_PARAMETERS, "state", "transferTo", "transferCallerId", "whisperAudio"]


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8) | json_values)
def test_any_json_either_parses_or_is_a_named_api_error(body):
    """Whatever a client sends, validation ends in a value or an ApiError, never anything else."""
    for parse in (parse_create_call, parse_update_call):
        try:
            parse(body)
        except ApiError as error:
            assert error.status in (400, 403)
            assert error.message


def test_state_table_terminal_states_accept_only_quiet_endings():
    for direction, table in TRANSITIONS.items():
        for state in TERMINAL:
            for event, target in table[state].items():
                assert target == state and is_noop(state), (direction, state, event)
            with pytest.raises(InvalidTransition):
                next_state(direction, state, Input.ANSWER)


def test_state_table_is_complete_and_closed():
    for direction in ("in", "out"):
        assert set(TRANSITIONS[direction]) == set(CallState)
        for state, moves in TRANSITIONS[direction].items():
            for event, target in moves.items():
                assert isinstance(event, Input) and isinstance(target, CallState), (state, event)


def test_only_inbound_calls_can_be_answered_or_rejected_by_the_api():
    assert next_state("in", "started", Input.ANSWER) == CallState.ACTIVE
    assert next_state("in", "started", Input.REJECT) == CallState.REJECTED
    for command in (Input.ANSWER, Input.REJECT):
        with pytest.raises(InvalidTransition):
            next_state("out", "started", command)
    with pytest.raises(InvalidTransition):
        next_state("out", "started", Input.TRANSFER)
    assert next_state("out", "active", Input.TRANSFER) == CallState.TRANSFERRING


@pytest.mark.parametrize("direction", ["in", "out"])
def test_a_transfer_ends_back_in_active_whether_the_target_answered_or_not(direction):
    for result in (Input.TRANSFERRED, Input.TRANSFER_FAILED):
        assert next_state(direction, "transferring", result) == CallState.ACTIVE
        with pytest.raises(InvalidTransition):
            next_state(direction, "active", result)  # a late report about an earlier transfer changes nothing
    assert next_state(direction, "transferring", Input.REMOTE_HANGUP) == CallState.COMPLETED


def test_sip_status_to_cause_table():
    assert causes.cause_for_sip_status(486) == "USER_BUSY"
    assert causes.cause_for_sip_status(600) == "USER_BUSY"
    assert causes.cause_for_sip_status(603) == "CALL_REJECTED"
    assert causes.cause_for_sip_status(404) == "UNALLOCATED_NUMBER"
    assert causes.cause_for_sip_status(408) == "NO_ANSWER"
    assert causes.cause_for_sip_status(487) == "ORIGINATOR_CANCEL"
    assert causes.cause_for_sip_status(503) == "NORMAL_TEMPORARY_FAILURE"
    assert causes.cause_for_sip_status(502) == "NORMAL_TEMPORARY_FAILURE"


def test_retry_fragment_and_credentials():
    target = parse_target("https://bob:p%3Ass@example.com:8443/cb?x=1#rc=9&rp=ct,5xx")
    assert target.url == "https://example.com:8443/cb?x=1"
    assert target.retry.count == 5  # capped
    assert target.retry.allows("5xx") and target.retry.allows("ct") and not target.retry.allows("4xx")
    assert target.authorization == "Basic Ym9iOnA6c3M="
    plain = parse_target("http://127.0.0.1/cb")
    assert plain.retry.count == 0 and plain.authorization is None
    assert parse_target("http://h/#rc=2").retry.allows("ct")
    assert parse_target("http://h/#rc=2&rp=all").retry.allows("4xx")


def test_link_header_shape():
    header = link_header("https://h/v1/users/u-1/calls", Page(1, 10), {"from": "+1919"}, has_more=True)
    entries = header.split(", ")
    assert entries[0] == '<https://h/v1/users/u-1/calls?from=%2B1919&page=0&size=10>; rel="first"'
    assert entries[1].endswith('page=0&size=10>; rel="previous"')
    assert entries[2].endswith('page=2&size=10>; rel="next"')
    assert all(entry.count(";") == 1 for entry in entries)


def test_times_are_iso_utc_with_milliseconds():
    from datetime import UTC, datetime, timedelta, timezone

    from trebuchet.domain.clock import iso, parse_iso

    assert iso(datetime(2014, 12, 19, 19, 13, 20, 587999, tzinfo=UTC)) == "2014-12-19T19:13:20.587Z"
    assert (
        iso(datetime(2014, 12, 19, 21, 13, 20, tzinfo=timezone(timedelta(hours=2))))
        == "2014-12-19T19:13:20.000Z"
    )
    assert iso(datetime(2014, 12, 19)) == "2014-12-19T00:00:00.000Z"  # naive is taken as UTC
    assert iso(None) is None
    assert parse_iso("2012-10-04") == datetime(2012, 10, 4, tzinfo=UTC)
    assert parse_iso("2013-07-12T15:22:47-02:00") == datetime(2013, 7, 12, 17, 22, 47, tzinfo=UTC)
