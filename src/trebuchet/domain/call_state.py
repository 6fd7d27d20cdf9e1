"""The call state machine: every legal state transition of a call, in one table.

Theory of operation
-------------------
A call is in exactly one of the states the API shows (`started`, `active`, `transferring`, `rejected`,
`completed`). Things happen to it from two sides: the API (a client asks to answer, reject, hang up or
transfer) and the network (the far end answers, refuses, hangs up; a timer fires; the server shuts
down). Both sides are *inputs* to this one table, and nothing else decides where a call goes next.

`TRANSITIONS[direction][state][input]` is the new state. A missing entry means the input is illegal in
that state; the API turns that into 403 `call-invalid-state`. A few inputs are legal but change nothing
(hanging up a call that has already ended): those map to the same state and `is_noop` says so, which
lets the caller answer success quietly and emit no second `hangup` (one terminal event per call).

A transfer is `transferring` only while its target rings (and hears the whisper): the target answering
(`transferred`) or failing (`transfer_failed`) both give the call back as `active`, bridged or alone.
`rejected` and `completed` are terminal: no input leaves them. The table is data, so tests walk it
exhaustively and the engine never needs its own `if state == ...` ladders.
"""

from __future__ import annotations

from enum import StrEnum


class CallState(StrEnum):
    STARTED = "started"
    ACTIVE = "active"
    TRANSFERRING = "transferring"
    REJECTED = "rejected"
    COMPLETED = "completed"


class Input(StrEnum):
    # From the API (POST /calls/{id} with a `state`).
    ANSWER = "answer"  # state=active
    REJECT = "reject"  # state=rejected
    HANGUP = "hangup"  # state=completed
    TRANSFER = "transfer"  # state=transferring
    # From the network and the engine's timers.
    ANSWERED = "answered"  # far end sent 2xx (outbound) / we answered (inbound)
    FAILED = "failed"  # non-2xx final response, unroutable, transport error
    TIMED_OUT = "timed_out"  # callTimeout passed while ringing
    REMOTE_HANGUP = "remote_hangup"  # far end sent BYE or CANCEL
    SHUTDOWN = "shutdown"  # server stopping or recovering after a crash
    TRANSFERRED = "transferred"  # the transfer leg answered: the call is bridged with it
    TRANSFER_FAILED = "transfer_failed"  # the transfer leg ended unanswered: the call goes on alone


TERMINAL = frozenset({CallState.REJECTED, CallState.COMPLETED})

S, I = CallState, Input  # noqa: E741 - short names keep the table readable

_ENDINGS = {
    I.HANGUP: S.COMPLETED,
    I.REMOTE_HANGUP: S.COMPLETED,
    I.SHUTDOWN: S.COMPLETED,
    I.FAILED: S.COMPLETED,
}


def _stays(state: CallState) -> dict[Input, CallState]:
    """An ended call takes another ending quietly and stays as it is."""
    return {I.HANGUP: state, I.REMOTE_HANGUP: state, I.SHUTDOWN: state}


TRANSITIONS: dict[str, dict[CallState, dict[Input, CallState]]] = {
    "out": {
        S.STARTED: {**_ENDINGS, I.ANSWERED: S.ACTIVE, I.TIMED_OUT: S.COMPLETED},
        S.ACTIVE: {**_ENDINGS, I.TRANSFER: S.TRANSFERRING},
        S.TRANSFERRING: {**_ENDINGS, I.TRANSFERRED: S.ACTIVE, I.TRANSFER_FAILED: S.ACTIVE},
        S.COMPLETED: _stays(S.COMPLETED),
        S.REJECTED: _stays(S.REJECTED),
    },
    "in": {
        S.STARTED: {**_ENDINGS, I.ANSWER: S.ACTIVE, I.ANSWERED: S.ACTIVE, I.REJECT: S.REJECTED},
        S.ACTIVE: {**_ENDINGS, I.TRANSFER: S.TRANSFERRING},
        S.TRANSFERRING: {**_ENDINGS, I.TRANSFERRED: S.ACTIVE, I.TRANSFER_FAILED: S.ACTIVE},
        S.COMPLETED: _stays(S.COMPLETED),
        S.REJECTED: _stays(S.REJECTED),
    },
}

# What a client's `state` value asks for.
REQUESTED_STATE_INPUT = {
    "active": Input.ANSWER,
    "rejected": Input.REJECT,
    "completed": Input.HANGUP,
    "transferring": Input.TRANSFER,
}


class InvalidTransition(Exception):
    """The input is not legal for a call in its current state."""

    def __init__(self, state: CallState, event: Input) -> None:
        super().__init__(f"{event} is not allowed in state {state}")
        self.state = state
        self.input = event


def next_state(direction: str, state: CallState | str, event: Input) -> CallState:
    """Where a call in `state` goes on `event`; raises InvalidTransition if it may not."""
    current = CallState(state)
    try:
        return TRANSITIONS[direction][current][event]
    except KeyError:
        raise InvalidTransition(current, event) from None


def is_noop(state: CallState | str) -> bool:
    """Whether a legal input in this state is a quiet no-op (the call has already ended)."""
    return CallState(state) in TERMINAL
