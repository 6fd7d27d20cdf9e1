"""Where outbound calls go (engine/routing.py), and how an INVITE names the number it is for."""

from __future__ import annotations

import pytest

from trebuchet.engine.routing import NoRoute, RoutingPolicy
from trebuchet.engine.sip_engine import dialled_number
from trebuchet.sip.uri import parse_uri

LOOPBACK = RoutingPolicy.build(None, None, None)
TRUNK = RoutingPolicy.build("sip:127.0.0.1:5080;transport=tcp", "trunkuser", "secret")


@pytest.mark.parametrize(
    "to",
    [
        "sip:bob@127.0.0.1",
        "sip:bob@127.0.0.1:5070;transport=tcp",
        "sip:bob@[::1]:5070",
        "sip:127.0.0.2",
    ],
)
def test_sip_uris_on_allowed_hosts_go_straight_there(to):
    route = LOOPBACK.route(to)
    assert route.uri == str(parse_uri(to)) and route.credentials is None and not route.via_trunk


def test_localhost_is_loopback():
    assert LOOPBACK.route("sip:bob@localhost:5070").uri == "sip:bob@localhost:5070"


@pytest.mark.parametrize(
    ("to", "words"),
    [
        ("sip:bob@192.0.2.7", "outside TREBUCHET_SIP_DESTINATIONS"),
        ("sip:bob@example.com", "must be IP addresses"),
        ("+19195550000", "TREBUCHET_TRUNK_URI"),
    ],
)
def test_unreachable_destinations_are_refused_with_a_cause(to, words):
    with pytest.raises(NoRoute) as refused:
        LOOPBACK.route(to)
    assert refused.value.cause == "NO_ROUTE_DESTINATION" and words in refused.value.message


def test_e164_goes_to_the_trunk_with_the_number_as_user_and_the_trunk_credentials():
    route = TRUNK.route("+19195550000")
    assert route.uri == "sip:+19195550000@127.0.0.1:5080;transport=tcp"
    assert route.credentials == ("trunkuser", "secret") and route.via_trunk


def test_widened_destinations_reach_further():
    wide = RoutingPolicy.build(None, None, None, "127.0.0.0/8,192.0.2.0/24")
    assert wide.route("sip:bob@192.0.2.7").uri == "sip:bob@192.0.2.7"


def test_a_bad_trunk_uri_stops_the_server_at_start():
    with pytest.raises(ValueError, match="TREBUCHET_TRUNK_URI"):
        RoutingPolicy.build("http://trunk.example", None, None)


@pytest.mark.parametrize(
    ("uri", "number"),
    [
        ("sip:+19195550100@127.0.0.1", "+19195550100"),
        ("sip:19195550100@127.0.0.1:5060", "+19195550100"),
        ("sip:+19195550100;npdi@127.0.0.1", "+19195550100"),
        ("sip:alice@127.0.0.1", None),
        ("sip:127.0.0.1", None),
    ],
)
def test_the_number_an_invite_is_for(uri, number):
    assert dialled_number(parse_uri(uri)) == number
