"""`trebuchet phone`: a SIP phone on Trebuchet's own stack, for people and for tests.

It waits for calls (or dials one), answers, plays a file or a tone, records what it hears, sends and
hears RFC 4733 digits, and prints every SIP event and digit as one JSON line on stdout so a script can
follow it.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..media.clock import FrameClock
from ..media.ports import PortRange, free_port_pair
from ..media.session import RtpSession, SessionGroup, open_session
from ..media.wav import Player, Tone, read_wav, write_wav
from ..sip import sdp
from ..sip.call import Call
from ..sip.useragent import UserAgent


@dataclass
class PhoneOptions:
    sip: tuple[str, int] = ("127.0.0.1", 5062)
    dial: str | None = None
    from_uri: str = "sip:phone@127.0.0.1"
    headers: list[tuple[str, str]] = field(default_factory=list)
    answer_after: float = 0.0
    reject: int | None = None
    play: Path | None = None
    tone: float | None = None
    record: Path | None = None
    dtmf: str | None = None
    hangup_after: float | None = None
    register: str | None = None
    user: str | None = None
    password: str | None = None
    count: int = 1
    rtp_ports: PortRange | None = None  # None: any free pair of ports
    codec: str | None = None  # answer with this codec when the offer has it


def emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}, separators=(",", ":")), flush=True)


class Phone:
    def __init__(self, options: PhoneOptions) -> None:
        self.options = options
        self.clock = FrameClock()
        self.media = SessionGroup(self.clock)
        self.agent = UserAgent(
            host=options.sip[0], port=options.sip[1], user="phone", on_incoming=self._incoming
        )
        self.finished = 0
        self.all_done = asyncio.Event()
        self._recordings: list[np.ndarray] = []

    async def run(self) -> int:
        host, port = await self.agent.start()
        self.clock.start()
        emit("listening", sip=f"{host}:{port}")
        try:
            if self.options.register:
                response = await self.agent.register(
                    self.options.register, user=self.options.user or "phone", password=self.options.password
                )
                emit("registered" if response.status < 300 else "register-failed", status=response.status)
                if response.status >= 300:
                    return 1
            if self.options.dial:
                for _ in range(self.options.count):
                    await self._dial(self.options.dial)
            else:
                await self.all_done.wait()
        finally:
            await self.clock.stop()
            await self.agent.close()
            if self.options.record is not None:
                audio = np.concatenate(self._recordings) if self._recordings else np.zeros(0, np.int16)
                write_wav(self.options.record, audio)
                emit("recorded", file=str(self.options.record), seconds=round(len(audio) / 8000, 3))
        return 0

    # -- calls -------------------------------------------------------------------------------------------

    async def _dial(self, uri: str) -> None:
        rtp_port = self._rtp_port()
        offer = sdp.make_offer(self.agent.host, rtp_port, session_id=random.getrandbits(31))
        call = self.agent.invite(
            uri, from_uri=self.options.from_uri, sdp=offer.to_bytes(), headers=self.options.headers
        )
        emit("calling", to=uri)
        session: RtpSession | None = None
        while True:
            event = await call.events.get()
            emit(event.kind, **({"status": event.status} if event.status else {}))
            if event.kind == "answered":
                negotiated = sdp.accept_answer(offer, sdp.parse_sdp(event.sdp))
                session = await self._media(call, negotiated, rtp_port)
                asyncio.get_running_loop().create_task(self._after_answer(call, session))
            if event.kind in ("failed", "cancelled", "ended"):
                break
        self._close(session)

    def _incoming(self, call: Call) -> None:
        headers = {name: value for name, value in call.invite.headers if name.lower().startswith("x-")}
        emit(
            "incoming",
            **{"from": str(call.invite.from_.uri) if call.invite.from_ else None},
            to=str(call.invite.uri),
            headers=headers,
            diversion=call.invite.headers.get_all("Diversion"),
        )
        asyncio.get_running_loop().create_task(self._take(call))

    async def _take(self, call: Call) -> None:
        session = None
        try:
            if self.options.reject:
                call.reject(self.options.reject)
                emit("rejected", status=self.options.reject)
                return
            call.ring()
            if await self._caller_gave_up(call, self.options.answer_after):
                emit("cancelled")
                return
            rtp_port = self._rtp_port()
            try:
                answer, negotiated = sdp.answer(
                    sdp.parse_sdp(call.remote_sdp),
                    self.agent.host,
                    rtp_port,
                    session_id=random.getrandbits(31),
                    prefer=self.options.codec,
                )
            except sdp.SdpError as error:
                call.reject(488)
                emit("rejected", status=488, reason=str(error))
                return
            call.on_offer = lambda offer: sdp.answer(
                sdp.parse_sdp(offer), self.agent.host, rtp_port, session_id=1, version=2
            )[0].to_bytes()
            call.answer(answer.to_bytes())
            emit("answered", codec=negotiated.codec, rtp_port=rtp_port)
            session = await self._media(call, negotiated, rtp_port)
            asyncio.get_running_loop().create_task(self._after_answer(call, session))
            while (event := await call.events.get()).kind != "ended":
                emit(event.kind)
            emit("ended", reason=event.reason)
        finally:
            self._close(session)
            self._call_done()

    @staticmethod
    async def _caller_gave_up(call: Call, seconds: float) -> bool:
        """Ring for `seconds`, or less if the caller CANCELs first (then say so at once)."""
        try:
            async with asyncio.timeout(seconds):
                while (await call.events.get()).kind not in ("cancelled", "ended"):
                    pass
        except TimeoutError:
            return call.state == "ended"
        return True

    async def _media(self, call: Call, negotiated: sdp.Negotiated, rtp_port: int) -> RtpSession:
        source = None
        if self.options.play is not None:
            source = Player(read_wav(self.options.play))
        elif self.options.tone is not None:
            source = Tone(self.options.tone)
        return await open_session(
            self.media,
            (self.agent.host, rtp_port),
            codec=negotiated.codec,
            payload_type=negotiated.payload_type,
            telephone_event=negotiated.telephone_event,
            remote=(negotiated.remote_address, negotiated.remote_port),
            source=source,
            on_audio=self._recordings.append if self.options.record is not None else None,
            on_digit=lambda digit: emit("dtmf", digit=digit),
        )

    async def _after_answer(self, call: Call, session: RtpSession) -> None:
        if self.options.dtmf:
            await asyncio.sleep(0.3)
            try:
                session.send_digits(self.options.dtmf)
                emit("dtmf-sent", digits=self.options.dtmf)
            except ValueError as error:
                emit("dtmf-failed", reason=str(error))
        if self.options.hangup_after is not None:
            await asyncio.sleep(self.options.hangup_after)
            if call.state == "active":
                call.bye()

    def _rtp_port(self) -> int:
        """An RTP port from --rtp-ports, or any free even/odd pair when no range was given."""
        return self.options.rtp_ports.take() if self.options.rtp_ports else free_port_pair(self.agent.host)

    def _close(self, session: RtpSession | None) -> None:
        if session is not None:
            session.close()
            if self.options.rtp_ports is not None:
                self.options.rtp_ports.give_back(session.local_port)

    def _call_done(self) -> None:
        self.finished += 1
        if self.finished >= self.options.count:
            self.all_done.set()


def run_phone(options: PhoneOptions) -> int:
    try:
        import uvloop

        return uvloop.run(Phone(options).run())
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError) as error:
        print(json.dumps({"event": "error", "reason": str(error)}), file=sys.stderr)
        return 2
