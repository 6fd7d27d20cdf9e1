"""SIP transaction state machines (RFC 3261 §17, with RFC 6026's Accepted state), as one table.

Theory of operation
-------------------
A transaction is one request and the responses to it. RFC 3261 defines four machines: INVITE client
(ICT), non-INVITE client (NICT), INVITE server (IST) and non-INVITE server (NIST). Each is a set of
states, and each state reacts to a few kinds of *event*: a response arriving (by class), the request
arriving again, the transaction user (TU) sending a response, an ACK, or one of the timers A-M firing.

Everything a machine does is in `TABLE[kind][state][event] = (next state, effects)`. Effects are plain
words (`deliver`, `retransmit`, `send_ack`, `start:E`, `double:E`, …) that `transaction.py` carries out:
it turns them into messages to transmit, messages to hand to the TU, and timer deadlines. Time is data:
the caller passes `now` in and asks for the next deadline, so tests drive timers exactly and nothing in
here sleeps or touches a socket. An event with no row in the table is ignored: that is how RFC 3261
says stray responses and late retransmissions are to be treated.

Reliable transports (TCP) skip the retransmission timers (A, E, G) and set the wait timers D, I, J, K to
zero, exactly as §17 prescribes; `transaction.py` applies that rule, the table stays the same.
"""

from __future__ import annotations

from enum import StrEnum

T1 = 0.5  # RTT estimate
T2 = 4.0  # maximum retransmit interval for non-INVITE requests and INVITE responses
T4 = 5.0  # maximum time a message remains in the network


class Kind(StrEnum):
    ICT = "invite-client"
    NICT = "non-invite-client"
    IST = "invite-server"
    NIST = "non-invite-server"


class State(StrEnum):
    CALLING = "calling"
    TRYING = "trying"
    PROCEEDING = "proceeding"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


class Event(StrEnum):
    # What arrives from the network.
    PROVISIONAL = "1xx"
    SUCCESS = "2xx"
    FAILURE = "300-699"
    REQUEST = "request"  # the request (again, for a server transaction)
    ACK = "ack"
    # What the TU asks of a server transaction.
    SEND_PROVISIONAL = "tu-1xx"
    SEND_SUCCESS = "tu-2xx"
    SEND_FAILURE = "tu-300-699"
    # Timers.
    A = "timer-A"
    B = "timer-B"
    D = "timer-D"
    E = "timer-E"
    F = "timer-F"
    G = "timer-G"
    H = "timer-H"
    I = "timer-I"  # noqa: E741 - RFC 3261's name
    J = "timer-J"
    K = "timer-K"
    L = "timer-L"
    M = "timer-M"


# Initial timer values (seconds) on an unreliable transport, and which ones a reliable one skips.
TIMER_START = {
    "A": T1,
    "B": 64 * T1,
    "D": 32.0,
    "E": T1,
    "F": 64 * T1,
    "G": T1,
    "H": 64 * T1,
    "I": T4,
    "J": 64 * T1,
    "K": T4,
    "L": 64 * T1,
    "M": 64 * T1,
}
RETRANSMIT_TIMERS = frozenset({"A", "E", "G"})  # not used over reliable transports
ZERO_WHEN_RELIABLE = frozenset({"D", "I", "J", "K"})
# Retransmit timers double, capped: A without a cap (it stops at B), E and G at T2.
TIMER_CAP = {"A": float("inf"), "E": T2, "G": T2}

S, E = State, Event

TABLE: dict[Kind, dict[State, dict[Event, tuple[State, tuple[str, ...]]]]] = {
    Kind.ICT: {
        S.CALLING: {
            E.A: (S.CALLING, ("retransmit", "double:A")),
            E.B: (S.TERMINATED, ("timeout",)),
            # Once the far end rings, only the TU decides how long to wait (it CANCELs): A and B stop.
            E.PROVISIONAL: (S.PROCEEDING, ("deliver", "cancel:A", "cancel:B")),
            E.SUCCESS: (S.ACCEPTED, ("deliver", "cancel:A", "cancel:B", "start:M")),
            E.FAILURE: (S.COMPLETED, ("deliver", "send_ack", "cancel:A", "cancel:B", "start:D")),
        },
        S.PROCEEDING: {
            E.PROVISIONAL: (S.PROCEEDING, ("deliver",)),
            E.SUCCESS: (S.ACCEPTED, ("deliver", "start:M")),
            E.FAILURE: (S.COMPLETED, ("deliver", "send_ack", "start:D")),
        },
        S.ACCEPTED: {
            E.SUCCESS: (S.ACCEPTED, ("deliver",)),  # 2xx retransmissions reach the TU, which ACKs them
            E.M: (S.TERMINATED, ()),
        },
        S.COMPLETED: {
            E.FAILURE: (S.COMPLETED, ("send_ack",)),  # the final response again: ACK it again
            E.D: (S.TERMINATED, ()),
        },
    },
    Kind.NICT: {
        S.TRYING: {
            E.E: (S.TRYING, ("retransmit", "double:E")),
            E.F: (S.TERMINATED, ("timeout",)),
            E.PROVISIONAL: (S.PROCEEDING, ("deliver",)),
            E.SUCCESS: (S.COMPLETED, ("deliver", "cancel:E", "cancel:F", "start:K")),
            E.FAILURE: (S.COMPLETED, ("deliver", "cancel:E", "cancel:F", "start:K")),
        },
        S.PROCEEDING: {
            E.E: (S.PROCEEDING, ("retransmit", "restart_at_t2:E")),
            E.F: (S.TERMINATED, ("timeout",)),
            E.PROVISIONAL: (S.PROCEEDING, ("deliver",)),
            E.SUCCESS: (S.COMPLETED, ("deliver", "cancel:E", "cancel:F", "start:K")),
            E.FAILURE: (S.COMPLETED, ("deliver", "cancel:E", "cancel:F", "start:K")),
        },
        S.COMPLETED: {
            E.K: (S.TERMINATED, ()),
        },
    },
    Kind.IST: {
        S.PROCEEDING: {
            E.REQUEST: (S.PROCEEDING, ("resend_response",)),
            E.SEND_PROVISIONAL: (S.PROCEEDING, ("send_response",)),
            E.SEND_SUCCESS: (S.ACCEPTED, ("send_response", "start:L")),
            E.SEND_FAILURE: (S.COMPLETED, ("send_response", "start:G", "start:H")),
        },
        S.ACCEPTED: {
            E.REQUEST: (S.ACCEPTED, ()),  # absorbed: the TU retransmits its 2xx itself (§13.3.1.4)
            E.SEND_SUCCESS: (S.ACCEPTED, ("send_response",)),  # the TU's 2xx retransmissions
            E.ACK: (S.ACCEPTED, ("deliver",)),  # the ACK for a 2xx belongs to the dialog
            E.L: (S.TERMINATED, ()),
        },
        S.COMPLETED: {
            E.REQUEST: (S.COMPLETED, ("resend_response",)),
            E.G: (S.COMPLETED, ("resend_response", "double:G")),
            E.H: (S.TERMINATED, ("timeout",)),
            E.ACK: (S.CONFIRMED, ("cancel:G", "cancel:H", "start:I")),
        },
        S.CONFIRMED: {
            E.ACK: (S.CONFIRMED, ()),  # ACK retransmissions are absorbed
            E.I: (S.TERMINATED, ()),
        },
    },
    Kind.NIST: {
        S.TRYING: {
            E.REQUEST: (S.TRYING, ()),  # nothing to resend yet
            E.SEND_PROVISIONAL: (S.PROCEEDING, ("send_response",)),
            E.SEND_SUCCESS: (S.COMPLETED, ("send_response", "start:J")),
            E.SEND_FAILURE: (S.COMPLETED, ("send_response", "start:J")),
        },
        S.PROCEEDING: {
            E.REQUEST: (S.PROCEEDING, ("resend_response",)),
            E.SEND_PROVISIONAL: (S.PROCEEDING, ("send_response",)),
            E.SEND_SUCCESS: (S.COMPLETED, ("send_response", "start:J")),
            E.SEND_FAILURE: (S.COMPLETED, ("send_response", "start:J")),
        },
        S.COMPLETED: {
            E.REQUEST: (S.COMPLETED, ("resend_response",)),
            E.J: (S.TERMINATED, ()),
        },
    },
}

INITIAL = {
    Kind.ICT: (S.CALLING, ("transmit", "start:A", "start:B")),
    Kind.NICT: (S.TRYING, ("transmit", "start:E", "start:F")),
    Kind.IST: (S.PROCEEDING, ()),
    Kind.NIST: (S.TRYING, ()),
}


def response_event(status: int, *, sending: bool) -> Event:
    """The table's event for a response of `status`, received (client) or sent by the TU (server)."""
    if status < 200:
        return E.SEND_PROVISIONAL if sending else E.PROVISIONAL
    if status < 300:
        return E.SEND_SUCCESS if sending else E.SUCCESS
    return E.SEND_FAILURE if sending else E.FAILURE
