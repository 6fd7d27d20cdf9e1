"""A SIP user agent on asyncio: places and answers INVITE sessions over the sans-IO stack.

The glue between `SipTransports` (bytes on the wire), `TransactionLayer` (§17), `Dialog` (§12) and the
application. Each call is a `Call` (call.py) whose `events` queue reports what happened (`ringing`,
`answered`, `failed`, `cancelled`, `confirmed`, `ended`, `reinvite`, `reinvite-answered`). One timer
task drives the transaction timers and the UAS's 2xx retransmissions, which RFC 3261 §13.3.1.4 leaves
to the core.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace

from .call import ALLOW, USER_AGENT, Call, reply
from .dialog import Dialog, destination, new_branch, new_call_id, new_tag
from .digest import DigestError, authorization, parse_challenge
from .message import Request, Response
from .transaction import Action, Address, Deliver, TimedOut, Transmit, client_key
from .transaction_layer import TransactionLayer
from .transaction_state import T1, T2
from .transport import SipTransports
from .uri import SipUri

log = logging.getLogger("trebuchet.sip")


class UserAgent:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 5060,
        user: str = "trebuchet",
        on_incoming: Callable[[Call], None] | None = None,
    ) -> None:
        self.host, self.port, self.user = host, port, user
        self.on_incoming = on_incoming
        self.transports = SipTransports(self._on_message, self._on_send_failure)
        self.layer = TransactionLayer()
        self._dialogs: dict[tuple[str, str, str], Call] = {}
        self._owners: dict[tuple[str, str], Call] = {}  # client transaction → call
        self._waiters: dict[tuple[str, str], asyncio.Future[Response]] = {}  # requests outside calls
        self._incoming: dict[tuple[str, str, str], Call] = {}  # INVITE server transaction → call
        self._unacked: dict[int, Call] = {}  # id → call answered by us, 2xx retransmitted until the ACK comes
        self._timer: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()

    async def start(self) -> Address:
        self.host, self.port = await self.transports.start(self.host, self.port)
        self._timer = asyncio.create_task(self._run_timers(), name="sip-timers")
        return (self.host, self.port)

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        await self.transports.close()

    def contact(self, transport: str = "udp") -> str:
        suffix = ";transport=tcp" if transport == "tcp" else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"<sip:{self.user}@{host}:{self.port}{suffix}>"

    # -- placing calls -----------------------------------------------------------------------------------

    def invite(
        self,
        uri: str,
        *,
        from_uri: str,
        sdp: bytes,
        headers: list[tuple[str, str]] | None = None,
        display_name: str | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> Call:
        request_uri = _parse_target(uri)
        host, port, transport = destination(request_uri)
        name = f'"{display_name}" ' if display_name else ""
        invite_headers = [
            ("Via", self._via(transport)),
            ("Max-Forwards", "70"),
            ("From", f"{name}<{from_uri}>;tag={new_tag()}"),
            ("To", f"<{request_uri}>"),
            ("Call-ID", new_call_id(self.host)),
            ("CSeq", "1 INVITE"),
            ("Contact", self.contact(transport)),
            ("Allow", ALLOW),
            ("User-Agent", USER_AGENT),
            *(headers or []),
            ("Content-Type", "application/sdp"),
        ]
        invite = Request("INVITE", request_uri, invite_headers, sdp)
        call = Call(self, "out", invite, transport, (host, port), local_sdp=sdp, credentials=credentials)
        self._send_request(invite, (host, port), transport, call)
        return call

    async def register(
        self, registrar: str, *, user: str, password: str | None = None, expires: int = 3600
    ) -> Response:
        """REGISTER our contact for `user` at `registrar`, answering one Digest challenge."""
        target = _parse_target(registrar)
        host, port, transport = destination(target)
        aor = f"sip:{user}@{target.host}"
        call_id, tag = new_call_id(self.host), new_tag()
        authorization_header: tuple[str, str] | None = None
        response: Response | None = None
        for cseq in (1, 2):
            headers = [
                ("Via", self._via(transport)),
                ("Max-Forwards", "70"),
                ("From", f"<{aor}>;tag={tag}"),
                ("To", f"<{aor}>"),
                ("Call-ID", call_id),
                ("CSeq", f"{cseq} REGISTER"),
                ("Contact", self.contact(transport)),
                ("Expires", str(expires)),
                ("User-Agent", USER_AGENT),
            ]
            if authorization_header:
                headers.append(authorization_header)
            request = Request("REGISTER", target, headers)
            waiter: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
            self._waiters[client_key(request)] = waiter
            self._send_request(request, (host, port), transport, None)
            response = await waiter
            header = {401: "WWW-Authenticate", 407: "Proxy-Authenticate"}.get(response.status)
            challenge_text = response.headers.get(header) if header else None
            if challenge_text is None or password is None or authorization_header is not None:
                return response
            try:
                challenge = parse_challenge(challenge_text)
            except DigestError:
                return response
            name = "Authorization" if response.status == 401 else "Proxy-Authorization"
            value = authorization(
                challenge, method="REGISTER", uri=str(target), username=user, password=password
            )
            authorization_header = (name, value)
        assert response is not None
        return response

    def bye_restored(self, dialog: Dialog) -> None:
        """End a dialog an earlier run of this server left up (known only from its stored record)."""
        host, port, transport = dialog.next_hop()
        # Later than any request the earlier run may have sent in this dialog after the record was kept.
        dialog.local_seq += 1000
        bye = dialog.request("BYE", self._via(transport), extra=[("User-Agent", USER_AGENT)])
        self._send_request(bye, (host, port), transport, None)

    # -- internals ---------------------------------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _wake(self) -> None:
        self._wakeup.set()

    def _forget_later(self, call: Call) -> None:
        """Drop an ended call from our tables once late retransmissions can no longer need it (64*T1)."""
        asyncio.get_running_loop().call_later(64 * T1, self._forget, call)

    def _forget(self, call: Call) -> None:
        for key in call._owner_keys:
            if self._owners.get(key) is call:
                del self._owners[key]
        if call.dialog is not None and self._dialogs.get(call.dialog.id) is call:
            del self._dialogs[call.dialog.id]
        incoming = _server_id(call.invite)
        if self._incoming.get(incoming) is call:
            del self._incoming[incoming]

    def _via(self, transport: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"SIP/2.0/{transport.upper()} {host}:{self.port};branch={new_branch()};rport"

    def _send_request(self, request: Request, peer: Address, transport: str, call: Call | None) -> None:
        if call is not None:
            key = client_key(request)
            self._owners[key] = call
            call._owner_keys.append(key)
        self._carry_out(self.layer.send_request(request, peer, self._now(), reliable=transport == "tcp"))

    def _respond(self, request: Request, response: Response) -> None:
        try:
            self._carry_out(self.layer.respond(request, response, self._now()))
        except (KeyError, ValueError) as error:
            log.info("cannot answer %s %s: %s", request.method, response.status, error)

    def _carry_out(self, actions: list[Action]) -> None:
        # Transmissions first: the ACK for a 401 must leave before the TU's new INVITE does.
        actions = sorted(actions, key=lambda action: not isinstance(action, Transmit))
        for action in actions:
            if isinstance(action, Transmit):
                self.transports.send(action.message, action.destination, "tcp" if action.reliable else "udp")
            elif isinstance(action, Deliver):
                self._deliver(action.message)
            elif isinstance(action, TimedOut):
                waiter = self._waiters.pop(client_key(action.request), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(reply(action.request, 408))
                call = self._owners.get(client_key(action.request))
                if (
                    call is not None
                    and action.request.method == "INVITE"
                    and call.state in ("calling", "ringing")
                ):
                    call.state = "ended"
                    call._emit("failed", status=408, reason="Request Timeout")
        self._wake()

    def _on_send_failure(self, message: Request | Response, destination: Address) -> None:
        """A request that could not leave ends its client transaction as if the peer answered 503."""
        if not isinstance(message, Request) or message.method == "ACK":
            return
        key = client_key(message)
        if self.layer.forget(message) is None:
            return
        response = reply(message, 503)
        response.reason = "Service Unavailable (transport error)"
        waiter = self._waiters.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(response)
        call = self._owners.get(key)
        if call is not None and message.method == "INVITE" and call.state in ("calling", "ringing"):
            call.state = "ended"
            call._emit("failed", status=503, reason=response.reason)
        self._wake()

    def _on_message(self, message: Request | Response, source: Address, transport: str) -> None:
        if isinstance(message, Request):
            problem = _unacceptable(message)
            if problem is not None:
                if message.method != "ACK":
                    self.transports.send(_stateless(message, *problem), source, transport)
                return
            _stamp_via(message, source)
        self._carry_out(self.layer.receive(message, source, self._now(), reliable=transport == "tcp"))

    # -- what the transaction layer delivers ----------------------------------------------------------------

    def _deliver(self, message: Request | Response) -> None:
        if isinstance(message, Response):
            self._on_response(message)
            return
        handler = {
            "INVITE": self._on_invite,
            "ACK": self._on_ack,
            "BYE": self._on_bye,
            "CANCEL": self._on_cancel,
            "OPTIONS": self._on_options,
        }.get(message.method)
        if handler is None:
            self._respond(message, reply(message, 501, [("Allow", ALLOW)]))
            return
        handler(message)

    def _on_response(self, response: Response) -> None:
        waiter = self._waiters.get(client_key(response))
        if waiter is not None:
            if response.status >= 200 and not waiter.done():
                del self._waiters[client_key(response)]
                waiter.set_result(response)
            return
        call = self._owners.get(client_key(response))
        method = response.cseq.method if response.cseq else ""
        if call is None:
            if method == "INVITE" and 200 <= response.status < 300:
                self._ack_stray_2xx(response)
            return
        if method != "INVITE":
            return
        if call._reinvite is not None and response.cseq and call._reinvite.cseq == response.cseq:
            self._on_reinvite_response(call, response)
            return
        if response.status < 200:
            if response.status > 100 and call.state == "calling":
                call.state = "ringing"
                call._emit("ringing", status=response.status, reason=response.reason, message=response)
            return
        if response.status < 300:
            self._on_invite_success(call, response)
            return
        if response.status in (401, 407) and self._retry_with_credentials(call, response):
            return
        if call.state in ("calling", "ringing"):
            call.state = "ended"
            kind = "cancelled" if response.status == 487 else "failed"
            call._emit(kind, status=response.status, reason=response.reason, message=response)

    def _on_invite_success(self, call: Call, response: Response) -> None:
        if call._ack is not None:  # a retransmitted 2xx: ACK it again
            host, port, transport = call.dialog.next_hop() if call.dialog else (*call.peer, call.transport)
            self.transports.send(call._ack, (host, port), transport)
            return
        call.dialog = Dialog.as_uac(call.invite, response)
        self._dialogs[call.dialog.id] = call
        host, port, transport = call.dialog.next_hop()
        cseq = call.invite.cseq.number if call.invite.cseq else 1
        call._ack = call.dialog.request("ACK", self._via(transport), cseq=cseq)
        self.transports.send(call._ack, (host, port), transport)
        call.remote_sdp = response.body
        if call.state == "ended":  # we gave up (CANCEL) but they answered anyway: hang up at once
            call.state = "active"
            call.bye()
            return
        call.state = "active"
        call._emit("answered", status=response.status, sdp=response.body, message=response)

    def _on_reinvite_response(self, call: Call, response: Response) -> None:
        if response.status < 200 or call.dialog is None:
            return
        if response.status >= 300:  # the transaction ACKed it; the old media stays
            call._reinvite = None
            call._emit("reinvite-failed", status=response.status, message=response)
            return
        host, port, transport = call.dialog.next_hop()
        if call._reinvite_ack is None or call._reinvite_ack.cseq != response.cseq:
            number = response.cseq.number if response.cseq else call.dialog.local_seq
            call._reinvite_ack = call.dialog.request("ACK", self._via(transport), cseq=number)
            call.remote_sdp = response.body
            call._emit("reinvite-answered", status=response.status, sdp=response.body, message=response)
        self.transports.send(call._reinvite_ack, (host, port), transport)

    def _retry_with_credentials(self, call: Call, response: Response) -> bool:
        credentials = call.credentials
        header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
        challenge_text = response.headers.get(header)
        if credentials is None or call._auth_tried or challenge_text is None:
            return False
        try:
            challenge = parse_challenge(challenge_text)
        except DigestError as error:
            log.info("cannot answer the challenge: %s", error)
            return False
        call._auth_tried = True
        old = call.invite
        answer_header = "Authorization" if response.status == 401 else "Proxy-Authorization"
        value = authorization(
            challenge, method="INVITE", uri=str(old.uri), username=credentials[0], password=credentials[1]
        )
        number = (old.cseq.number if old.cseq else 1) + 1
        headers = [(n, v) for n, v in old.headers if n not in ("Via", "CSeq", "Content-Length")]
        headers = [
            ("Via", self._via(call.transport)),
            ("CSeq", f"{number} INVITE"),
            *headers,
            (answer_header, value),
        ]
        call.invite = Request("INVITE", old.uri, headers, old.body)
        self._send_request(call.invite, call.peer, call.transport, call)
        return True

    def _ack_stray_2xx(self, response: Response) -> None:
        for call in self._dialogs.values():
            if call._ack is not None and call.dialog and call.dialog.call_id == response.call_id:
                host, port, transport = call.dialog.next_hop()
                self.transports.send(call._ack, (host, port), transport)
                return

    def _dialog_of(self, request: Request) -> Call | None:
        if request.call_id is None or request.to is None or request.from_ is None:
            return None
        return self._dialogs.get((request.call_id, request.to.tag or "", request.from_.tag or ""))

    def _on_invite(self, invite: Request) -> None:
        existing = self._dialog_of(invite)
        if invite.to is not None and invite.to.tag:
            if existing is None or existing.dialog is None or not existing.dialog.accepts(invite):
                self._respond(invite, reply(invite, 481))
                return
            # A re-INVITE (hold, resume, new media): answer with our SDP, tell the application.
            existing.remote_sdp = invite.body
            if existing.on_offer is not None and invite.body:
                try:
                    existing.local_sdp = existing.on_offer(invite.body)
                except ValueError:
                    self._respond(invite, reply(invite, 488))
                    return
            extra = [("Contact", self.contact(existing.transport)), ("Allow", ALLOW)]
            if existing.local_sdp:
                extra.append(("Content-Type", "application/sdp"))
            self._respond(invite, reply(invite, 200, extra, body=existing.local_sdp))
            existing._emit("reinvite", sdp=invite.body, message=invite)
            return
        call = Call(self, "in", invite, "udp", ("", 0), remote_sdp=invite.body)
        server = self.layer.server_for(invite, "INVITE")
        if server is not None:
            call.peer, call.transport = server.peer, "tcp" if server.reliable else "udp"
        self._incoming[_server_id(invite)] = call
        self._respond(invite, reply(invite, 100))
        if self.on_incoming is None:
            call.reject(480)
            return
        self.on_incoming(call)

    def _on_ack(self, ack: Request) -> None:
        call = self._dialog_of(ack)
        if call is not None and call._final is not None:
            call._final = None
            call._retransmit_at = call._give_up_at = None
            call._emit("confirmed", message=ack)

    def _on_bye(self, bye: Request) -> None:
        call = self._dialog_of(bye)
        if call is None or call.dialog is None or not call.dialog.accepts(bye):
            self._respond(bye, reply(bye, 481))
            return
        self._respond(bye, reply(bye, 200))
        if call.state != "ended":
            call.state = "ended"
            call._final = None
            call._emit("ended", reason="remote", message=bye)

    def _on_cancel(self, cancel: Request) -> None:
        invite_transaction = self.layer.server_for(cancel, "INVITE")
        call = self._incoming.get(_server_id(cancel))
        if invite_transaction is None or call is None:
            self._respond(cancel, reply(cancel, 481))
            return
        self._respond(cancel, reply(cancel, 200))
        if call.state in ("calling", "ringing"):
            call.state = "ended"
            self._respond(call.invite, call._response(487))
            call._emit("cancelled", status=487, message=cancel)

    def _on_options(self, options: Request) -> None:
        self._respond(options, reply(options, 200, [("Allow", ALLOW), ("Accept", "application/sdp")]))

    # -- timers ------------------------------------------------------------------------------------------

    async def _run_timers(self) -> None:
        while True:
            now = self._now()
            self._carry_out_timers(now)
            deadlines = [
                d for d in (self.layer.next_deadline(), *self._retransmit_deadlines()) if d is not None
            ]
            timeout = max(0.0, min(deadlines) - self._now()) if deadlines else 1.0
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wakeup.wait()

    def _carry_out_timers(self, now: float) -> None:
        actions = self.layer.fire_due(now)
        if actions:
            for action in actions:
                self._carry_out([action])
        for call in list(self._unacked.values()):
            if call._final is None:
                del self._unacked[id(call)]
                continue
            if call._retransmit_at is None or call._retransmit_at > now:
                continue
            if call._give_up_at is not None and now >= call._give_up_at:
                call._final = None  # no ACK in 64*T1: the session is dead (§13.3.1.4)
                call.state = "active"
                call.bye()
                continue
            self.transports.send(call._final, call.peer, call.transport)
            call._retransmit_interval = min(call._retransmit_interval * 2, T2)
            call._retransmit_at = now + call._retransmit_interval

    def _retransmit_deadlines(self) -> list[float]:
        return [c._retransmit_at for c in self._unacked.values() if c._final is not None and c._retransmit_at]


def _parse_target(uri: str) -> SipUri:
    from .uri import parse_uri

    parsed = parse_uri(uri)
    if not isinstance(parsed, SipUri):
        raise ValueError(f"{uri} is not a sip: URI")
    if parsed.secure:
        raise ValueError("sips: URIs need TLS, which Trebuchet does not support")
    return parsed


def _server_id(request: Request) -> tuple[str, str, str]:
    via = request.top_via
    return (via.branch or "" if via else "", via.sent_by.lower() if via else "", request.call_id or "")


def _stamp_via(request: Request, source: Address) -> None:
    """RFC 3581 / RFC 3261 §18.2.1: note in the top Via where the request really came from, so every
    response (which echoes the Via) tells a client behind a NAT its public address and port."""
    via = request.top_via
    if via is None or not via.has_param("rport"):
        return
    params = [(name, value) for name, value in via.params if name.lower() not in ("rport", "received")]
    params += [("received", source[0]), ("rport", str(source[1]))]
    values = request.headers.get_all("Via")
    request.headers.set("Via", str(replace(via, params=tuple(params))))
    for value in values[1:]:
        request.headers.add("Via", value)


def _unacceptable(request: Request) -> tuple[int, str] | None:
    """A reason to refuse a request before any transaction sees it (status, reason), or None."""
    if request.version != "SIP/2.0":
        return 505, "Version Not Supported"
    missing = request.missing_mandatory()
    if missing:
        return 400, f"Missing {', '.join(missing)}"
    if request.cseq is not None and request.cseq.method != request.method:
        return 400, "CSeq method does not match"
    if not isinstance(request.uri, SipUri):
        return 416, "Unsupported URI Scheme"
    if request.uri.secure:
        return 416, "SIPS is not supported"
    return None


def _stateless(request: Request, status: int, reason: str) -> Response:
    response = reply(request, status)
    response.reason = reason
    return response
