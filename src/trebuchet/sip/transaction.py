"""One SIP transaction: the state table of `transaction_state` put to work, with timers as data.

The caller feeds in what happens (`receive`, `respond`, `fire_due`) with the current time and gets back
a list of actions: `Transmit` (bytes for the transport), `Deliver` (a message for the transaction user),
`TimedOut`. `next_deadline()` says when to call `fire_due` next. No sockets, no sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .message import Request, Response
from .transaction_state import (
    INITIAL,
    RETRANSMIT_TIMERS,
    TABLE,
    TIMER_CAP,
    TIMER_START,
    ZERO_WHEN_RELIABLE,
    Event,
    Kind,
    State,
    response_event,
)
from .transaction_state import T2 as _T2

Address = tuple[str, int]


@dataclass(frozen=True)
class Transmit:
    message: Request | Response
    destination: Address
    reliable: bool = False  # over TCP (the transport the transaction runs on)


@dataclass(frozen=True)
class Deliver:
    message: Request | Response


@dataclass(frozen=True)
class TimedOut:
    """The transaction gave up: no final response (client), or no ACK for our final response (server)."""

    request: Request


Action = Transmit | Deliver | TimedOut


def build_ack(request: Request, response: Response) -> Request:
    """The ACK a client transaction sends for a non-2xx final response (RFC 3261 §17.1.1.3)."""
    headers = [("Via", request.headers.get_all("Via")[0])]
    for name in ("Route",):
        headers.extend((name, value) for value in request.headers.get_all(name))
    headers += [
        ("Max-Forwards", "70"),
        ("From", request.headers.get("From") or ""),
        ("To", response.headers.get("To") or ""),
        ("Call-ID", request.headers.get("Call-ID") or ""),
        ("CSeq", f"{request.cseq.number if request.cseq else 0} ACK"),
    ]
    return Request("ACK", request.uri, headers)


def client_key(message: Request | Response) -> tuple[str, str]:
    """(branch, method) that ties a response to the client transaction that sent the request."""
    via = message.top_via
    cseq = message.cseq
    return (via.branch or "" if via else "", cseq.method if cseq else "")


def server_key(request: Request) -> tuple[str, str, str]:
    """(branch, sent-by, method) for a request; an ACK matches the INVITE it acknowledges."""
    via = request.top_via
    method = "INVITE" if request.method == "ACK" else request.method
    return (via.branch or "" if via else "", via.sent_by.lower() if via else "", method)


@dataclass
class Transaction:
    kind: Kind
    request: Request
    peer: Address  # where requests (client) or responses (server) go
    reliable: bool = False
    state: State = State.TERMINATED
    last_response: Response | None = None
    timers: dict[str, float] = field(default_factory=dict)  # running timer → deadline
    intervals: dict[str, float] = field(default_factory=dict)  # timer → its latest interval (for doubling)

    @classmethod
    def client(
        cls, request: Request, destination: Address, now: float, *, reliable: bool = False
    ) -> tuple[Transaction, list[Action]]:
        kind = Kind.ICT if request.method == "INVITE" else Kind.NICT
        transaction = cls(kind, request, destination, reliable)
        return transaction, transaction._begin(now)

    @classmethod
    def server(cls, request: Request, source: Address, now: float, *, reliable: bool = False) -> Transaction:
        kind = Kind.IST if request.method == "INVITE" else Kind.NIST
        transaction = cls(kind, request, source, reliable)
        transaction._begin(now)
        return transaction

    @property
    def terminated(self) -> bool:
        return self.state is State.TERMINATED

    def _begin(self, now: float) -> list[Action]:
        state, effects = INITIAL[self.kind]
        self.state = state
        return self._run(effects, now, None)

    # -- inputs -----------------------------------------------------------------------------------------

    def receive(self, message: Request | Response, now: float) -> list[Action]:
        """A message from the network that matched this transaction."""
        if isinstance(message, Response):
            return self._on(response_event(message.status, sending=False), now, message)
        event = Event.ACK if message.method == "ACK" else Event.REQUEST
        return self._on(event, now, message)

    def respond(self, response: Response, now: float) -> list[Action]:
        """The TU sends a response through this server transaction."""
        if self.kind not in (Kind.IST, Kind.NIST):
            raise ValueError("only a server transaction sends responses")
        return self._on(response_event(response.status, sending=True), now, response)

    def fire_due(self, now: float) -> list[Action]:
        actions: list[Action] = []
        for name, deadline in sorted(self.timers.items(), key=lambda item: item[1]):
            if deadline <= now and name in self.timers and not self.terminated:
                del self.timers[name]
                actions += self._on(Event(f"timer-{name}"), now, None, fired=name)
        return actions

    def next_deadline(self) -> float | None:
        return min(self.timers.values(), default=None)

    # -- the table at work ------------------------------------------------------------------------------

    def _on(
        self, event: Event, now: float, message: Request | Response | None, fired: str | None = None
    ) -> list[Action]:
        row = TABLE[self.kind].get(self.state, {}).get(event)
        if row is None:
            if event in (Event.SEND_PROVISIONAL, Event.SEND_SUCCESS, Event.SEND_FAILURE):
                raise ValueError(f"cannot send a response in state {self.state} of a {self.kind} transaction")
            return []  # stray or late: ignored, as §17 says
        self.state, effects = row
        actions = self._run(effects, now, message, fired)
        if self.terminated:
            self.timers.clear()
        return actions

    def _run(
        self,
        effects: tuple[str, ...],
        now: float,
        message: Request | Response | None,
        fired: str | None = None,
    ) -> list[Action]:
        actions: list[Action] = []
        for effect in effects:
            verb, _, timer = effect.partition(":")
            if verb == "transmit" or verb == "retransmit":
                actions.append(Transmit(self.request, self.peer, self.reliable))
            elif verb == "deliver" and message is not None:
                actions.append(Deliver(message))
            elif verb == "send_ack" and isinstance(message, Response):
                actions.append(Transmit(build_ack(self.request, message), self.peer, self.reliable))
            elif verb == "send_response" and isinstance(message, Response):
                self.last_response = message
                actions.append(Transmit(message, self.peer, self.reliable))
            elif verb == "resend_response" and self.last_response is not None:
                actions.append(Transmit(self.last_response, self.peer, self.reliable))
            elif verb == "timeout":
                actions.append(TimedOut(self.request))
            elif verb == "start":
                self._start(timer, now, TIMER_START[timer])
            elif verb == "cancel":
                self.timers.pop(timer, None)
            elif verb == "double":
                interval = min(self._interval(fired or timer) * 2, TIMER_CAP[timer])
                self._start(timer, now, interval)
            elif verb == "restart_at_t2":
                self._start(timer, now, _T2)
        return actions

    def _interval(self, timer: str) -> float:
        return self.intervals.get(timer, TIMER_START[timer])

    def _start(self, timer: str, now: float, interval: float) -> None:
        if self.reliable and timer in RETRANSMIT_TIMERS:
            return
        if self.reliable and timer in ZERO_WHEN_RELIABLE:
            interval = 0.0
        self.intervals[timer] = interval
        self.timers[timer] = now + interval
