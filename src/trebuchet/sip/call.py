"""One INVITE session as the application sees it: its events, and what can be done to it.

A `Call` belongs to a `UserAgent`, which feeds it what the network says and carries out what the
application asks (`cancel`, `bye`, `reinvite`, and for incoming calls `ring`, `answer`, `reject`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import __version__
from .dialog import Dialog, new_tag
from .message import Request, Response
from .transaction import Address
from .transaction_state import T1

if TYPE_CHECKING:
    from .useragent import UserAgent

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS"
ENDINGS = frozenset({"ended", "failed", "cancelled"})
USER_AGENT = f"Trebuchet/{__version__}"


@dataclass
class CallEvent:
    kind: str  # trying, ringing, answered, failed, cancelled, confirmed, ended, reinvite
    status: int | None = None
    reason: str = ""
    sdp: bytes = b""
    message: Request | Response | None = None


@dataclass
class Call:
    agent: UserAgent
    direction: str  # "out" or "in"
    invite: Request
    transport: str
    peer: Address
    events: asyncio.Queue[CallEvent] = field(default_factory=asyncio.Queue)
    dialog: Dialog | None = None
    state: str = "calling"  # calling, ringing, active, ended
    local_sdp: bytes = b""
    remote_sdp: bytes = b""
    _ack: Request | None = None  # the ACK we sent for a 2xx (resent if the 2xx comes again)
    _final: Response | None = None  # our 2xx, retransmitted until the ACK comes
    _retransmit_at: float | None = None
    _retransmit_interval: float = T1
    _give_up_at: float | None = None
    credentials: tuple[str, str] | None = None  # (user, password) for a 401/407 challenge
    # How to answer a re-INVITE's offer (hold, resume): SDP in, SDP out. By default, our last SDP.
    on_offer: Callable[[bytes], bytes] | None = None
    _auth_tried: bool = False
    _reinvite: Request | None = None  # our re-INVITE in progress (hold, resume)
    _reinvite_ack: Request | None = None
    _owner_keys: list[tuple[str, str]] = field(default_factory=list)  # our client transactions' keys
    _local_tag: str | None = None  # the To tag of our responses to an incoming INVITE

    def _emit(self, kind: str, **details: object) -> None:
        self.events.put_nowait(CallEvent(kind, **details))  # type: ignore[arg-type]
        if kind in ENDINGS:
            self.agent._forget_later(self)

    # -- outgoing calls ------------------------------------------------------------------------------

    def cancel(self) -> None:
        """CANCEL a call that has not been answered (§9.1); a final response still follows."""
        if self.direction != "out" or self.state not in ("calling", "ringing"):
            return
        via = self.invite.headers.get_all("Via")[0]
        headers = [("Via", via)] + [("Route", r) for r in self.invite.headers.get_all("Route")]
        headers += [(n, self.invite.headers.get(n) or "") for n in ("From", "To", "Call-ID")]
        headers += [
            ("Max-Forwards", "70"),
            ("CSeq", f"{self.invite.cseq.number if self.invite.cseq else 1} CANCEL"),
        ]
        self.agent._send_request(Request("CANCEL", self.invite.uri, headers), self.peer, self.transport, self)
        # §9.1: without a final response 64*T1 after the CANCEL, the INVITE is given up for good.
        asyncio.get_running_loop().call_later(64 * T1, self._cancel_unanswered)

    def _cancel_unanswered(self) -> None:
        if self.state in ("calling", "ringing"):
            self.state = "ended"
            self._emit("cancelled", status=408, reason="no final response after CANCEL")

    # -- incoming calls ------------------------------------------------------------------------------

    def ring(self) -> None:
        if self.direction != "in" or self.state != "calling":
            return
        self.agent._respond(self.invite, self._response(180))
        self.state = "ringing"

    def answer(self, sdp: bytes) -> None:
        if self.direction != "in" or self.state not in ("calling", "ringing"):
            return
        self.local_sdp = sdp
        ok = self._response(200, body=sdp, contact=True)
        self.dialog = Dialog.as_uas(self.invite, ok.to.tag if ok.to else new_tag())
        self.agent._dialogs[self.dialog.id] = self
        self._final = ok
        self.agent._unacked[id(self)] = self
        now = self.agent._now()
        self._retransmit_at, self._retransmit_interval, self._give_up_at = now + T1, T1, now + 64 * T1
        self.state = "active"
        self.agent._respond(self.invite, ok)
        self.agent._wake()

    def reject(self, status: int = 486) -> None:
        if self.direction != "in" or self.state not in ("calling", "ringing"):
            return
        self.state = "ended"
        self.agent._respond(self.invite, self._response(status))
        self._emit("ended", status=status, reason="rejected")

    # -- either side -----------------------------------------------------------------------------------

    def bye(self) -> None:
        """End an answered call (BYE), or cancel/reject one that is not answered yet."""
        if self.state in ("calling", "ringing"):
            self.cancel() if self.direction == "out" else self.reject(603)
            return
        if self.state != "active" or self.dialog is None:
            return
        self.state = "ended"
        self._final = None
        host, port, transport = self.dialog.next_hop()
        bye = self.dialog.request("BYE", self.agent._via(transport), extra=[("User-Agent", USER_AGENT)])
        self.agent._send_request(bye, (host, port), transport, self)
        self._emit("ended", reason="local")

    def reinvite(self, sdp: bytes) -> None:
        """Offer new media in the dialog (hold with sendonly, resume with sendrecv)."""
        if self.state != "active" or self.dialog is None:
            raise ValueError("only an answered call can be re-INVITEd")
        host, port, transport = self.dialog.next_hop()
        request = self.dialog.request(
            "INVITE",
            self.agent._via(transport),
            contact=self.agent.contact(transport),
            body=sdp,
            extra=[("User-Agent", USER_AGENT), ("Content-Type", "application/sdp")],
        )
        self.local_sdp = sdp
        self._reinvite = request
        self.agent._send_request(request, (host, port), transport, self)

    def _response(self, status: int, *, body: bytes = b"", contact: bool = False) -> Response:
        """A response to our INVITE, with the one To tag this side of the dialog uses."""
        if status > 100:
            self._local_tag = self._local_tag or new_tag()
        extra = [("Contact", self.agent.contact(self.transport)), ("Allow", ALLOW)] if contact else []
        if body:
            extra.append(("Content-Type", "application/sdp"))
        return reply(self.invite, status, to_tag=self._local_tag, extra=extra, body=body, record_route=True)


def reply(
    request: Request,
    status: int,
    extra: list[tuple[str, str]] | None = None,
    *,
    body: bytes = b"",
    to_tag: str | None = None,
    record_route: bool = False,
) -> Response:
    """A response echoing the request's Via (and Record-Route, for a dialog-creating answer), From, To
    (tagged with `to_tag`, or a fresh tag), Call-ID and CSeq: those the request has."""
    headers = [("Via", via) for via in request.headers.get_all("Via")]
    if record_route:
        headers += [("Record-Route", route) for route in request.headers.get_all("Record-Route")]
    for name in ("From", "To", "Call-ID", "CSeq"):
        value = request.headers.get(name)
        if value is None:
            continue
        if name == "To" and status > 100 and ";tag=" not in value:
            value = f"{value};tag={to_tag or new_tag()}"
        headers.append((name, value))
    headers += [*(extra or []), ("User-Agent", USER_AGENT)]
    return Response(status, headers=headers, body=body)
