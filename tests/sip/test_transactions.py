"""RFC 3261 §17 transactions driven on virtual time: every timer, retransmission and state, exactly."""

from __future__ import annotations

import pytest

from trebuchet.sip.message import Request, Response
from trebuchet.sip.transaction import (
    Deliver,
    TimedOut,
    Transaction,
    Transmit,
    build_ack,
    client_key,
    server_key,
)
from trebuchet.sip.transaction_state import Kind, State

PEER = ("127.0.0.1", 5070)


def request(method: str = "INVITE", branch: str = "z9hG4bK-1", cseq: int = 1) -> Request:
    return Request(
        method,
        "sip:bob@127.0.0.1:5070",
        [
            ("Via", f"SIP/2.0/UDP 127.0.0.1:5060;branch={branch};rport"),
            ("Route", "<sip:proxy.example;lr>"),
            ("Max-Forwards", "70"),
            ("From", "<sip:+19195551212@127.0.0.1>;tag=from1"),
            ("To", "<sip:bob@127.0.0.1>"),
            ("Call-ID", "call-1@127.0.0.1"),
            ("CSeq", f"{cseq} {method}"),
        ],
    )


def response(req: Request, status: int, to_tag: str = "to9") -> Response:
    headers = [(name, value) for name, value in req.headers if name in ("Via", "From", "Call-ID", "CSeq")]
    headers.append(("To", f"{req.headers.get('To')};tag={to_tag}"))
    return Response(status, headers=headers)


def transmit_times(run: list[tuple[float, list]]) -> list[float]:
    return [now for now, actions in run for action in actions if isinstance(action, Transmit)]


def drive(transaction: Transaction, until: float) -> list[tuple[float, list]]:
    """Fire every timer up to `until`, recording (time, actions)."""
    run = []
    while (deadline := transaction.next_deadline()) is not None and deadline <= until:
        run.append((deadline, transaction.fire_due(deadline)))
    return run


def test_invite_to_a_silent_peer_retransmits_on_timer_a_and_times_out_on_timer_b():
    invite = request()
    transaction, first = Transaction.client(invite, PEER, 0.0)
    assert first == [Transmit(invite, PEER)]
    run = drive(transaction, 100)
    assert transmit_times(run) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert run[-1][0] == 32.0 and run[-1][1] == [TimedOut(invite)]
    assert transaction.terminated and transaction.next_deadline() is None


def test_invite_over_tcp_is_sent_once_and_still_times_out():
    transaction, first = Transaction.client(request(), PEER, 0.0, reliable=True)
    run = drive(transaction, 100)
    assert len(first) == 1 and transmit_times(run) == []
    assert [type(a) for _, actions in run for a in actions] == [TimedOut]


def test_ringing_then_busy_is_acked_by_the_transaction():
    invite = request()
    transaction, _ = Transaction.client(invite, PEER, 0.0)
    ringing, busy = response(invite, 180), response(invite, 486)
    assert transaction.receive(ringing, 0.2) == [Deliver(ringing)]
    assert transaction.state is State.PROCEEDING and transaction.next_deadline() is None  # A and B stop
    actions = transaction.receive(busy, 40.0)  # ringing as long as the TU likes
    assert actions[0] == Deliver(busy)
    ack = actions[1].message
    assert isinstance(ack, Request) and ack.method == "ACK" and ack.uri == invite.uri
    assert ack.to.tag == "to9" and str(ack.cseq) == "1 ACK" and ack.call_id == invite.call_id
    assert ack.top_via.branch == "z9hG4bK-1" and len(ack.via) == 1
    assert ack.headers.get_all("Route") == ["<sip:proxy.example;lr>"]
    assert transaction.receive(busy, 40.5) == [Transmit(ack, PEER)]  # a retransmitted 486 is ACKed again
    assert drive(transaction, 100) == [(72.0, [])] and transaction.terminated  # timer D, 32 s


def test_success_moves_to_accepted_and_passes_retransmissions_to_the_tu():
    invite = request()
    transaction, _ = Transaction.client(invite, PEER, 0.0)
    ok = response(invite, 200)
    assert transaction.receive(ok, 1.0) == [Deliver(ok)]
    assert transaction.state is State.ACCEPTED
    assert transaction.receive(ok, 1.5) == [Deliver(ok)]  # the TU ACKs each 2xx (§13.2.2.4)
    drive(transaction, 100)
    assert transaction.terminated  # timer M


def test_non_invite_retransmits_up_to_t2_and_keeps_going_while_proceeding():
    bye = request("BYE", cseq=2)
    transaction, _ = Transaction.client(bye, PEER, 0.0)
    run = drive(transaction, 10)
    assert transmit_times(run) == [0.5, 1.5, 3.5, 7.5]
    transaction.receive(response(bye, 100), 8.0)
    assert transaction.state is State.PROCEEDING
    run = drive(transaction, 20)
    assert transmit_times(run) == [11.5, 15.5, 19.5]  # every T2 = 4 s
    final = response(bye, 200)
    assert transaction.receive(final, 20.0) == [Deliver(final)]
    assert transaction.state is State.COMPLETED
    assert drive(transaction, 100) == [(25.0, [])] and transaction.terminated  # timer K = T4


def test_non_invite_without_any_answer_times_out_on_timer_f():
    bye = request("BYE")
    transaction, _ = Transaction.client(bye, PEER, 0.0)
    run = drive(transaction, 100)
    assert run[-1] == (32.0, [TimedOut(bye)])


def test_invite_server_answers_retransmissions_and_retransmits_its_failure_until_ack():
    invite = request()
    transaction = Transaction.server(invite, PEER, 0.0)
    assert transaction.kind is Kind.IST and transaction.state is State.PROCEEDING
    ringing = response(invite, 180)
    assert transaction.respond(ringing, 0.1) == [Transmit(ringing, PEER)]
    assert transaction.receive(invite, 0.6) == [Transmit(ringing, PEER)]  # retransmitted INVITE absorbed
    busy = response(invite, 486)
    assert transaction.respond(busy, 1.0) == [Transmit(busy, PEER)]
    run = drive(transaction, 9.0)
    assert transmit_times(run) == [1.5, 2.5, 4.5, 8.5]  # timer G doubles...
    assert transmit_times(drive(transaction, 21.0)) == [12.5, 16.5, 20.5]  # ...up to T2
    ack = build_ack(invite, busy)
    assert transaction.receive(ack, 21.0) == []
    assert transaction.state is State.CONFIRMED
    assert transaction.receive(ack, 21.5) == []  # ACK retransmissions absorbed
    assert drive(transaction, 100) == [(26.0, [])] and transaction.terminated  # timer I = T4


def test_invite_server_without_ack_gives_up_on_timer_h():
    invite = request()
    transaction = Transaction.server(invite, PEER, 0.0)
    transaction.respond(response(invite, 603), 0.0)
    run = drive(transaction, 100)
    assert run[-1] == (32.0, [TimedOut(invite)])


def test_invite_server_2xx_is_the_tus_to_retransmit():
    invite = request()
    transaction = Transaction.server(invite, PEER, 0.0)
    ok = response(invite, 200)
    assert transaction.respond(ok, 1.0) == [Transmit(ok, PEER)]
    assert transaction.state is State.ACCEPTED
    assert transaction.receive(invite, 1.2) == []
    assert transaction.respond(ok, 1.5) == [Transmit(ok, PEER)]
    ack = Request("ACK", invite.uri, [(n, v) for n, v in invite.headers if n != "CSeq"] + [("CSeq", "1 ACK")])
    assert transaction.receive(ack, 1.6) == [Deliver(ack)]
    drive(transaction, 100)
    assert transaction.terminated  # timer L


def test_non_invite_server_resends_its_final_response_then_ends_on_timer_j():
    bye = request("BYE")
    transaction = Transaction.server(bye, PEER, 0.0)
    assert transaction.receive(bye, 0.1) == []  # nothing sent yet
    ok = response(bye, 200)
    assert transaction.respond(ok, 0.2) == [Transmit(ok, PEER)]
    assert transaction.receive(bye, 0.7) == [Transmit(ok, PEER)]
    assert drive(transaction, 100) == [(32.2, [])] and transaction.terminated
    over_tcp = Transaction.server(bye, PEER, 0.0, reliable=True)
    over_tcp.respond(ok, 0.0)
    assert drive(over_tcp, 1) == [(0.0, [])] and over_tcp.terminated  # J is zero on TCP


def test_misuse_and_strays():
    invite = request()
    client, _ = Transaction.client(invite, PEER, 0.0)
    with pytest.raises(ValueError):
        client.respond(response(invite, 200), 0.0)
    server = Transaction.server(invite, PEER, 0.0)
    server.respond(response(invite, 486), 0.0)
    with pytest.raises(ValueError):
        server.respond(response(invite, 200), 0.1)  # a final response is final
    assert client.receive(invite, 0.1) == []  # a request is no input for a client transaction


def test_matching_keys():
    invite = request(branch="z9hG4bK-abc")
    assert client_key(response(invite, 180)) == ("z9hG4bK-abc", "INVITE")
    ack = build_ack(invite, response(invite, 486))
    assert server_key(ack) == server_key(invite)
    assert server_key(request("BYE", branch="z9hG4bK-abc")) != server_key(invite)
