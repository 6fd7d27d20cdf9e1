"""The diversion object of call events and what a transfer passes on (domain.diversion)."""

from __future__ import annotations

from trebuchet.domain.diversion import diversion_object, entry, passed_on

BUSY = entry(
    "<sip:+15551230000@pbx.example>;reason=user-busy;counter=2;screen=yes;privacy=off;x-site=east",
    "+15551230000",
    {"reason": "user-busy", "counter": "2", "screen": "yes", "privacy": "off", "x-site": "east"},
)
OLDER = entry("<sip:+15559990000@pbx.example>", "+15559990000", {})


def test_the_newest_diversion_becomes_the_events_object():
    assert diversion_object([BUSY, OLDER]) == {
        "origTo": "+15551230000",
        "reason": "user-busy",
        "screen": "yes",
        "privacy": "off",
        "counter": 2,
        "x-site": "east",
    }
    assert diversion_object([OLDER]) == {
        "origTo": "+15559990000",
        "reason": "unknown",
        "screen": "no",
        "privacy": "off",
    }
    assert diversion_object([]) is None and diversion_object(None) is None


def test_full_privacy_hides_the_diverting_number():
    hidden = entry("<sip:+15551230000@x>;privacy=full", "+15551230000", {"privacy": "full"})
    assert diversion_object([hidden])["origTo"] == "Anonymous"


def test_a_transfer_passes_on_none_the_inbound_ones_or_a_new_one_on_top():
    inbound = [BUSY, OLDER]
    options = {"number": "+19195550001", "host": "10.0.0.1", "reason": "no-answer"}
    assert passed_on(inbound, "none", **options) == []
    assert passed_on(inbound, "propagate", **options) == [BUSY["value"], OLDER["value"]]
    assert passed_on(inbound, "stack", **options) == [
        "<sip:+19195550001@10.0.0.1>;reason=no-answer;counter=1",
        BUSY["value"],
        OLDER["value"],
    ]
    assert passed_on(None, "stack", **options) == ["<sip:+19195550001@10.0.0.1>;reason=no-answer;counter=1"]
