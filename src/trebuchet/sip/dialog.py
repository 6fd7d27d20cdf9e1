"""Dialogs (RFC 3261 §12): the state two user agents share, and the requests sent inside one.

Sans-IO. A dialog is made from the INVITE and its 2xx (by the UAC) or from the INVITE it answers (by
the UAS); afterwards it builds in-dialog requests (ACK, BYE, re-INVITE) with the right Request-URI,
Route set, tags and CSeq, and says where the next hop is. Loose routing is honoured; a strict router
first in the route set is handled as §12.2.1.1 describes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from .message import Request, Response
from .uri import SipUri, Uri, parse_uri
from .values import NameAddr, parse_name_addr

DEFAULT_PORT = 5060


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(10)


def new_call_id(host: str) -> str:
    return f"{secrets.token_hex(12)}@{host}"


@dataclass
class Dialog:
    call_id: str
    local_tag: str
    remote_tag: str
    local: NameAddr  # our From (UAC) or To (UAS), with the tag
    remote: NameAddr  # theirs
    remote_target: Uri  # the far end's Contact
    route_set: list[NameAddr] = field(default_factory=list)
    local_seq: int = 0
    remote_seq: int | None = None

    @property
    def id(self) -> tuple[str, str, str]:
        return (self.call_id, self.local_tag, self.remote_tag)

    @classmethod
    def as_uac(cls, request: Request, response: Response) -> Dialog:
        """From our INVITE and the 2xx (or tagged 1xx) that answers it (§12.1.2)."""
        if request.from_ is None or response.to is None or response.call_id is None:
            raise ValueError("the INVITE and its response need From, To and Call-ID")
        contact = response.contact[0].uri if response.contact else request.uri
        return cls(
            call_id=response.call_id,
            local_tag=request.from_.tag or "",
            remote_tag=response.to.tag or "",
            local=request.from_,
            remote=response.to,
            remote_target=contact,
            route_set=list(reversed(response.record_route)),
            local_seq=request.cseq.number if request.cseq else 1,
        )

    @classmethod
    def as_uas(cls, request: Request, local_tag: str) -> Dialog:
        """From an INVITE we answer, with the To tag we chose (§12.1.1)."""
        if request.from_ is None or request.to is None or request.call_id is None:
            raise ValueError("the INVITE needs From, To and Call-ID")
        local = NameAddr(request.to.uri, request.to.display_name, (*request.to.params, ("tag", local_tag)))
        contact = request.contact[0].uri if request.contact else (request.from_.uri)
        return cls(
            call_id=request.call_id,
            local_tag=local_tag,
            remote_tag=request.from_.tag or "",
            local=local,
            remote=request.from_,
            remote_target=contact,
            route_set=list(request.record_route),
            remote_seq=request.cseq.number if request.cseq else None,
        )

    def request(
        self,
        method: str,
        via: str,
        contact: str | None = None,
        extra: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        cseq: int | None = None,
    ) -> Request:
        """An in-dialog request; `via` is our Via value (with a fresh branch, except for an ACK's)."""
        if cseq is None:
            self.local_seq += 1
            cseq = self.local_seq
        uri, routes = self.remote_target, [str(route) for route in self.route_set]
        if self.route_set and not _loose(self.route_set[0].uri):
            uri = self.route_set[0].uri  # strict router: it gets the Request-URI, the target goes last
            routes = [str(route) for route in self.route_set[1:]] + [f"<{self.remote_target}>"]
        headers = [("Via", via), ("Max-Forwards", "70")]
        headers += [("Route", route) for route in routes]
        headers += [
            ("From", str(self.local)),
            ("To", str(self.remote)),
            ("Call-ID", self.call_id),
            ("CSeq", f"{cseq} {method}"),
        ]
        if contact:
            headers.append(("Contact", contact))
        headers += extra or []
        return Request(method, uri, headers, body)

    def to_record(self) -> dict[str, object]:
        """The dialog as plain JSON data, so a restarted process can still end the call (send BYE)."""
        return {
            "callId": self.call_id,
            "localTag": self.local_tag,
            "remoteTag": self.remote_tag,
            "local": str(self.local),
            "remote": str(self.remote),
            "remoteTarget": str(self.remote_target),
            "routeSet": [str(route) for route in self.route_set],
            "localSeq": self.local_seq,
        }

    @classmethod
    def from_record(cls, record: dict[str, object]) -> Dialog:
        """The inverse of `to_record`; ValueError (or ParseError) for a record that is not one."""
        routes = record.get("routeSet") or []
        if not isinstance(routes, list):
            raise ValueError("routeSet must be a list")
        return cls(
            call_id=str(record["callId"]),
            local_tag=str(record["localTag"]),
            remote_tag=str(record["remoteTag"]),
            local=parse_name_addr(str(record["local"]), "From"),
            remote=parse_name_addr(str(record["remote"]), "To"),
            remote_target=parse_uri(str(record["remoteTarget"])),
            route_set=[parse_name_addr(str(route), "Route") for route in routes],
            local_seq=int(str(record.get("localSeq") or 0)),
        )

    def next_hop(self) -> tuple[str, int, str]:
        """(host, port, transport) the next in-dialog request goes to: the first route, else the target."""
        uri = self.route_set[0].uri if self.route_set else self.remote_target
        return destination(uri)

    def accepts(self, request: Request) -> bool:
        """A request from the far end in this dialog, not older than the last one (§12.2.2)."""
        cseq = request.cseq
        if cseq is None:
            return False
        if (
            request.method not in ("ACK", "CANCEL")
            and self.remote_seq is not None
            and cseq.number < self.remote_seq
        ):
            return False
        if request.method not in ("ACK", "CANCEL"):
            self.remote_seq = cseq.number
        return True


def _loose(uri: Uri) -> bool:
    return isinstance(uri, SipUri) and uri.has_param("lr")


def destination(uri: Uri) -> tuple[str, int, str]:
    """Where a request for `uri` goes without DNS: maddr or host, port (5060), transport (udp)."""
    if not isinstance(uri, SipUri):
        raise ValueError(f"cannot route to a {uri.scheme}: URI")
    if uri.secure:
        raise ValueError("sips: needs TLS, which is not supported")
    host = uri.param("maddr") or uri.host
    transport = (uri.param("transport") or "udp").lower()
    return host.strip("[]"), uri.port or DEFAULT_PORT, transport
