"""SipEngine: the `Signalling` that makes calls real, and the door inbound INVITEs come through.

It owns the user agent, the frame clock with its RTP session group, the RTP port range and one
`CallController` per live call. `CallService` asks it to dial, answer, reject and hang up (holding the
call's lock); controllers report back through `CallService.apply`. Inbound INVITEs are matched to a
phone number and its application, become calls with `direction: in`, and are answered at once when the
application says `autoAnswer`.

At shutdown the service hangs every live call up through this engine (BYE or CANCEL on the wire), then
`stop` gives CANCELs a moment for their 487, closes what is left, and only then the SIP sockets go.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..domain import causes, diversion
from ..domain.addresses import is_e164
from ..domain.call import Call
from ..domain.call_state import Input
from ..domain.clock import utcnow
from ..domain.errors import ApiError
from ..domain.gather import GatherRules
from ..media.audio_files import FilePlayer
from ..media.clock import FrameClock
from ..media.mixer import Mix, MixSource
from ..media.ports import PortRange
from ..media.session import SessionGroup
from ..sip import sdp
from ..sip.call import Call as SipCall
from ..sip.dialog import Dialog
from ..sip.errors import ParseError
from ..sip.uri import SipUri
from ..sip.useragent import UserAgent
from ..sip.values import parse_name_addr, split_list_strict
from ..store import applications as application_store
from ..store import phone_numbers as number_store
from ..store.user_errors import record_error
from .calls import CallService
from .control import MediaUnavailable, Outcome
from .controller import INBOUND_RING_LIMIT, CallController
from .routing import NoRoute, RoutingPolicy
from .tasks import BackgroundTasks

log = logging.getLogger("trebuchet.engine")

# How long shutdown waits for CANCELs to be answered (487) before closing regardless.
STOP_GRACE = 2.0


@dataclass
class EngineCounts:
    """What is alive inside the engine, for /metrics and for tests that check nothing is left behind."""

    controllers: int
    rtp_sessions: int
    mixes: int  # bridges and conferences whose audio is being mixed
    sip_calls: int  # INVITE sessions not yet ended
    sip_remembered: int  # ended sessions kept 64*T1 for late retransmissions, then forgotten
    sip_transactions: int
    stuck_transactions: int  # transactions with no timer left to end them and no live call to answer them
    tasks: int


class SipEngine:
    def __init__(
        self,
        service: CallService,
        *,
        host: str,
        port: int,
        rtp_ports: PortRange,
        routing: RoutingPolicy,
        media_timeout: float = 60.0,
    ) -> None:
        self.service = service
        self.agent = UserAgent(host=host, port=port, on_incoming=self._incoming)
        self.clock = FrameClock()
        self.media = SessionGroup(self.clock)
        self.rtp_ports = rtp_ports
        self.routing = routing
        self.media_timeout = media_timeout  # seconds without RTP before an answered call is ended (0: never)
        self.controllers: dict[str, CallController] = {}
        self.mixes: dict[str, Mix] = {}  # by bridge or conference id
        self._tasks = BackgroundTasks("incoming call")
        self._closing = False

    @property
    def media_host(self) -> str:
        return self.agent.host

    @property
    def sip_host(self) -> str:
        return self.agent.host

    async def start(self) -> tuple[str, int]:
        address = await self.agent.start()
        self.clock.start()
        return address

    async def stop(self) -> None:
        """After the service hung every call up: let CANCELs finish briefly, then close everything."""
        self._closing = True
        self._tasks.cancel()
        await self._tasks.wait()
        await asyncio.gather(*(c.stop(STOP_GRACE) for c in list(self.controllers.values())))
        await asyncio.sleep(0.05)  # BYEs and CANCELs written to TCP get out before the sockets close
        await self.clock.stop()
        await self.agent.close()

    def counts(self) -> EngineCounts:
        known = _agent_calls(self.agent)
        live_calls = [c for c in known if c.state != "ended"]
        layer = self.agent.layer
        transactions = [*layer.clients.values(), *layer.servers.values()]
        stuck = sum(1 for t in transactions if t.next_deadline() is None and not t.terminated)
        return EngineCounts(
            controllers=len(self.controllers),
            rtp_sessions=len(self.media),
            mixes=len(self.mixes),
            sip_calls=len(live_calls),
            sip_remembered=len(known) - len(live_calls),
            sip_transactions=len(transactions),
            stuck_transactions=max(0, stuck - len(live_calls)),
            tasks=len(self._tasks),
        )

    def _carrying(self, call: Call) -> CallController:
        """The controller of a call whose media this server carries, or MediaUnavailable."""
        controller = self.controllers.get(call.id)
        if controller is None:
            raise MediaUnavailable("its media is not carried by this server")
        return controller

    def released(self, controller: CallController) -> None:
        if self.controllers.get(controller.call_id) is controller:
            del self.controllers[controller.call_id]
        self.rtp_ports.give_back(controller.rtp_port)

    # -- Signalling ---------------------------------------------------------------------------------------

    async def dial(self, call: Call) -> Outcome | None:
        try:
            route = self.routing.route(call.to)
        except NoRoute as no_route:
            await self._call_error(call, "call-creation-failure", no_route.message)
            return Outcome(Input.FAILED, no_route.cause)
        try:
            port = self._take_port()
        except OverflowError as full:
            await self._call_error(call, "call-creation-failure", str(full))
            return Outcome(Input.FAILED, causes.NORMAL_TEMPORARY_FAILURE)
        offer = sdp.make_offer(self.media_host, port, session_id=random.getrandbits(31))
        from_uri = self._from_uri(call.from_)
        headers = [("P-Asserted-Identity", f"<{from_uri}>"), *call.sip_headers.items()]
        try:
            sip_call = self.agent.invite(
                route.uri,
                from_uri=from_uri,
                sdp=offer.to_bytes(),
                headers=headers,
                credentials=route.credentials,
            )
        except (ValueError, OSError) as error:
            self.rtp_ports.give_back(port)
            await self._call_error(call, "call-creation-failure", f"{call.to}: {error}")
            return Outcome(Input.FAILED, causes.NO_ROUTE_DESTINATION)
        controller = CallController(self, call.id, sip_call, port, ring_limit=call.call_timeout, offer=offer)
        self.controllers[call.id] = controller
        controller.start()
        return None

    async def hangup(self, call: Call) -> Outcome | None:
        controller = self.controllers.get(call.id)
        if controller is None:  # an earlier run's call (after a crash): BYE from its stored dialog
            if call.dialog is not None:
                self._bye_restored(call)
            return Outcome(Input.HANGUP, causes.NORMAL_CLEARING)
        return controller.hang_up()

    def _bye_restored(self, call: Call) -> None:
        assert call.dialog is not None
        try:
            self.agent.bye_restored(Dialog.from_record(call.dialog))
        except (KeyError, ValueError, ParseError) as error:
            log.warning("call %s: its stored dialog cannot be used: %s", call.id, error)

    async def answer(self, call: Call) -> Outcome | None:
        controller = self.controllers.get(call.id)
        if controller is None:
            raise ApiError(
                503, "call-unavailable", f"The call {call.id} has no live SIP session on this server"
            )
        return await controller.answer()

    async def reject(self, call: Call) -> Outcome | None:
        controller = self.controllers.get(call.id)
        if controller is None:
            return Outcome(Input.REJECT, causes.CALL_REJECTED)
        return controller.reject()

    def start_gather(self, call: Call, gather_id: str, rules: GatherRules) -> None:
        self._carrying(call).start_gather(gather_id, rules)

    def stop_gather(self, call: Call, gather_id: str) -> bool:
        controller = self.controllers.get(call.id)
        return controller is not None and controller.stop_gather(gather_id)

    def start_recording(
        self, call: Call, recording_id: str, path: Path, file_format: str, max_duration: float
    ) -> None:
        self._carrying(call).start_recording(recording_id, path, file_format, max_duration)

    def stop_recording(self, call: Call) -> None:
        controller = self.controllers.get(call.id)
        if controller is not None:
            controller.stop_recording()

    def play_audio(
        self, call: Call, kind: str, player: FilePlayer, tag: str | None, barge_in: bool = False
    ) -> None:
        self._carrying(call).play_audio(kind, player, tag, barge_in)

    def stop_audio(self, call: Call, kind: str) -> bool:
        controller = self.controllers.get(call.id)
        return controller is not None and controller.stop_audio(kind)

    # -- mixes: the audio of bridges and conferences (see media/mixer.py) ---------------------------------

    def mix_call(self, mix_id: str, call_id: str, *, speaks: bool = True, hears: bool = True) -> None:
        """Put a live call into the mix `mix_id` (made on first use), out of any other, with these rights."""
        controller = self.controllers.get(call_id)
        if controller is None or controller.session is None:
            raise MediaUnavailable("its media is not carried by this server")
        controller.join_mix(mix_id, self._mix(mix_id), speaks=speaks, hears=hears)

    def unmix_call(self, mix_id: str, call_id: str) -> None:
        controller = self.controllers.get(call_id)
        if controller is not None and controller.mix_id == mix_id:
            controller.leave_mix()

    def tune_mix(self, mix_id: str, call_id: str, *, talk: float, listen: float, gate: int) -> None:
        """A call's own gains and noise gate in the mix it is in."""
        controller = self.controllers.get(call_id)
        mix = self.mixes.get(mix_id)
        if controller is None or mix is None or controller.mix_id != mix_id:
            raise MediaUnavailable("the call is not in that mix here")
        mix.tune(call_id, talk=talk, listen=listen, gate=gate)

    def play_to_mix(self, mix_id: str, player: FilePlayer, on_done: Callable[[], None]) -> MixSource:
        """Play to everyone in the mix who hears; `on_done` when it finished or was stopped."""

        def done() -> None:
            on_done()
            self._drop_if_idle(mix_id)

        return self._mix(mix_id).play(player, done)

    def stop_mix_audio(self, mix_id: str, source: MixSource) -> bool:
        mix = self.mixes.get(mix_id)
        return mix is not None and mix.stop(source)

    def close_mix(self, mix_id: str) -> None:
        """Everyone out, everything it plays stopped: the bridge or conference is over."""
        mix = self.mixes.get(mix_id)
        if mix is None:
            return
        for key in list(mix.ports):
            self.unmix_call(mix_id, key)
        for source in list(mix.sources):
            mix.stop(source)
        self._drop_if_idle(mix_id)

    def left_mix(self, mix_id: str, call_id: str) -> None:
        """A controller's report that it left `mix_id` (its call moved, ended, or was taken out)."""
        mix = self.mixes.get(mix_id)
        if mix is not None:
            mix.leave(call_id)
            self._drop_if_idle(mix_id)

    def _mix(self, mix_id: str) -> Mix:
        mix = self.mixes.get(mix_id)
        if mix is None:
            mix = self.mixes[mix_id] = Mix()
            self.media.add_mix(mix)
        return mix

    def _drop_if_idle(self, mix_id: str) -> None:
        mix = self.mixes.get(mix_id)
        if mix is not None and not mix.ports and not mix.sources:
            del self.mixes[mix_id]
            self.media.remove_mix(mix)

    def send_dtmf(self, call: Call, digits: str) -> None:
        self._carrying(call).send_digits(digits)

    # -- inbound ------------------------------------------------------------------------------------------

    def _incoming(self, sip_call: SipCall) -> None:
        if self._closing:
            sip_call.reject(503)
            return
        self._tasks.spawn(self._take(sip_call), "sip-incoming")

    async def _take(self, sip_call: SipCall) -> None:
        try:
            await self._route_incoming(sip_call)
        except asyncio.CancelledError:
            sip_call.reject(503)
            raise
        except Exception:
            log.exception("an incoming call could not be taken")
            sip_call.reject(500)

    async def _route_incoming(self, sip_call: SipCall) -> None:
        number = dialled_number(sip_call.invite.uri)
        async with self.service.db.read() as conn:
            owned = await number_store.find_number(conn, number) if number else None
            application = (
                await application_store.get_application(conn, owned.application_id, owned.user_id)
                if owned is not None and owned.application_id
                else None
            )
        if owned is None:
            sip_call.reject(404)
            return
        if application is None or not application.incoming_call_url:
            sip_call.reject(480)
            code, message = (
                ("no-application-for-number", f"No application is configured for number {number}")
                if application is None
                else (
                    "no-callback-for-call",
                    f"Application {application.id} for number {number} does not specify a URL"
                    " for call events",
                )
            )
            await self._record_unavailable(owned.user_id, code, message, [("number", number)])
            return
        try:
            port = self._take_port()
        except OverflowError:
            sip_call.reject(503)
            return
        try:
            call = await self.service.create_inbound(
                owned.user_id, application, from_=caller(sip_call), to=number, diversion=diversions(sip_call)
            )
        except BaseException:
            self.rtp_ports.give_back(port)
            raise
        controller = CallController(self, call.id, sip_call, port, ring_limit=INBOUND_RING_LIMIT)
        self.controllers[call.id] = controller
        controller.start()
        if application.auto_answer:
            await self.service.apply(call.id, await controller.answer())
        else:
            sip_call.ring()

    # -- helpers ------------------------------------------------------------------------------------------

    def _take_port(self) -> int:
        """A port pair from the range that is free on this host now (another program may hold some)."""
        for _ in range(self.rtp_ports.capacity):
            port = self.rtp_ports.take()
            if pair_is_free(self.media_host, port):
                return port
            self.rtp_ports.give_back(port)
        raise OverflowError(f"no free RTP port pair in {self.rtp_ports.low}-{self.rtp_ports.high}")

    def _from_uri(self, from_: str) -> str:
        if from_.lower().startswith("sip:"):
            return from_
        host = f"[{self.agent.host}]" if ":" in self.agent.host else self.agent.host
        return f"sip:{from_}@{host}"

    async def _call_error(self, call: Call, code: str, message: str) -> None:
        await self._record_unavailable(call.user_id, code, message, [("callId", call.id), ("to", call.to)])

    async def _record_unavailable(
        self, user_id: str, code: str, message: str, details: list[tuple[str, str]]
    ) -> None:
        """An entry in the user's /errors: what the network side could not do for them."""
        async with self.service.db.write() as conn:
            await record_error(
                conn,
                user_id,
                at=utcnow(),
                category="unavailable",
                code=code,
                message=message,
                details=details,
            )


def pair_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in (port, port + 1):
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind((host, candidate))
            except OSError:
                return False
    return True


def dialled_number(uri: object) -> str | None:
    """The E.164 number an INVITE is for, from its Request-URI user (`+1919…`, or digits without `+`)."""
    if not isinstance(uri, SipUri) or not uri.user:
        return None
    user = uri.user.split(";", 1)[0]
    candidate = user if user.startswith("+") else f"+{user}"
    return candidate if is_e164(candidate) else None


def diversions(sip_call: SipCall) -> list[dict[str, object]]:
    """The INVITE's Diversion headers (RFC 5806), newest first; a value that does not parse is left out
    (a malformed Diversion is no reason to refuse a call)."""
    found = []
    for line in sip_call.invite.headers.get_all("Diversion"):
        try:
            values = split_list_strict(line, "Diversion")
            for value in values:
                address = parse_name_addr(value, "Diversion")
                user = address.uri.user if isinstance(address.uri, SipUri) else None
                params = {name.lower(): given or "" for name, given in address.params}
                found.append(diversion.entry(value.strip(), user, params))
        except ParseError:
            continue
    return found


def caller(sip_call: SipCall) -> str:
    """The call's `from`: the caller's number when the From user is one, else the whole From URI."""
    from_ = sip_call.invite.from_
    if from_ is None:
        return "anonymous"
    uri = from_.uri
    if isinstance(uri, SipUri) and uri.user:
        user = uri.user.split(";", 1)[0]
        if is_e164(user):
            return user
    return str(uri)


def _agent_calls(agent: UserAgent) -> list[SipCall]:
    seen: dict[int, SipCall] = {}
    for table in (agent._dialogs, agent._owners, agent._incoming):
        for call in table.values():
            seen[id(call)] = call
    return list(seen.values())
