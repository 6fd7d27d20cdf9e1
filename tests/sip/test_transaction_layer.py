"""The transaction layer: what it routes to transactions, what it hands to the UA core, and cleanup."""

from __future__ import annotations

import pytest

from trebuchet.sip.transaction import Deliver, Transmit, build_ack
from trebuchet.sip.transaction_layer import TransactionLayer

from .test_transactions import PEER, request, response


def test_new_request_is_delivered_once_and_retransmissions_are_absorbed():
    layer = TransactionLayer()
    invite = request()
    assert layer.receive(invite, PEER, 0.0) == [Deliver(invite)]
    assert layer.receive(invite, PEER, 0.5) == []  # nothing sent yet: nothing to resend
    ringing = response(invite, 180)
    assert layer.respond(invite, ringing, 0.6) == [Transmit(ringing, PEER)]
    assert layer.receive(invite, PEER, 1.0) == [Transmit(ringing, PEER)]


def test_ack_for_a_failure_stays_in_the_transaction_and_ack_for_a_2xx_reaches_the_core():
    layer = TransactionLayer()
    busy_invite, ok_invite = request(branch="z9hG4bK-busy"), request(branch="z9hG4bK-ok")
    for invite in (busy_invite, ok_invite):
        layer.receive(invite, PEER, 0.0)
    busy = response(busy_invite, 486)
    layer.respond(busy_invite, busy, 0.0)
    assert layer.receive(build_ack(busy_invite, busy), PEER, 0.1) == []
    ok = response(ok_invite, 200)
    layer.respond(ok_invite, ok, 0.0)
    ack_2xx = request("ACK", branch="z9hG4bK-new-for-ack")
    assert layer.receive(ack_2xx, PEER, 0.1) == [Deliver(ack_2xx)]


def test_responses_match_client_transactions_and_strays_go_to_the_core():
    layer = TransactionLayer()
    invite = request(branch="z9hG4bK-c1")
    assert layer.send_request(invite, PEER, 0.0) == [Transmit(invite, PEER)]
    ok = response(invite, 200)
    assert layer.receive(ok, PEER, 0.1) == [Deliver(ok)]
    stray = response(request(branch="z9hG4bK-unknown"), 200)
    assert layer.receive(stray, PEER, 0.2) == [Deliver(stray)]
    with pytest.raises(ValueError):
        layer.send_request(request("ACK"), PEER, 0.3)


def test_cancel_finds_its_invite_and_everything_is_cleaned_up_by_timers():
    layer = TransactionLayer()
    invite = request(branch="z9hG4bK-x")
    cancel = request("CANCEL", branch="z9hG4bK-x")
    layer.receive(invite, PEER, 0.0)
    layer.receive(cancel, PEER, 1.0)
    assert layer.server_for(cancel, "INVITE").request is invite
    layer.respond(cancel, response(cancel, 200), 1.0)
    layer.respond(invite, response(invite, 487), 1.0)
    layer.receive(build_ack(invite, response(invite, 487)), PEER, 1.1)
    assert len(layer) == 2
    while (deadline := layer.next_deadline()) is not None:
        layer.fire_due(deadline)
    assert len(layer) == 0
    with pytest.raises(KeyError):
        layer.respond(invite, response(invite, 200), 100.0)


def test_lingering_transactions_leave_on_time_and_only_due_ones_are_touched():
    """A thousand finished non-INVITE client transactions linger for Timer K (T4 = 5 s) and then leave;
    a retransmitting one keeps its own schedule among them (the deadlines live on a heap)."""
    layer = TransactionLayer()
    byes = [request("BYE", branch=f"z9hG4bK-bye{i}") for i in range(1000)]
    for bye in byes:
        layer.send_request(bye, PEER, 0.0)
    for bye in byes:
        layer.receive(response(bye, 200), PEER, 0.1)
    assert layer.next_deadline() == pytest.approx(5.1)
    busy = request("OPTIONS", branch="z9hG4bK-options")
    layer.send_request(busy, PEER, 1.0)
    assert layer.next_deadline() == pytest.approx(1.5)  # Timer E of the new one comes first
    assert layer.fire_due(1.5) == [Transmit(busy, PEER)]
    assert layer.fire_due(5.0) == [Transmit(busy, PEER)]  # its Timer E (due 2.5) only
    assert len(layer) == 1001
    layer.fire_due(5.1)
    assert len(layer) == 1 and layer.next_deadline() is not None
