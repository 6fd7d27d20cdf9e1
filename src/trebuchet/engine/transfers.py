"""TransferService: `state: transferring` (spec §2.6) on the bridging machinery.

A transfer rings someone new for an active call. The new leg is an ordinary outbound call (its own id,
returned as the `Location` of a 201, its events to the transfer's `callbackUrl`, else the call's), and
the two calls are put in a new bridge. While the leg rings the call is `transferring`; when the leg
answers it first hears the `whisperAudio`, then the call becomes `active` again and the bridge links
them. If the leg fails (busy, no answer, refused) the call goes back to `active` on its own. When the call
ends, its transfer leg is hung up (it was there for that call); when the leg ends, the call stays up, as
in a bridge, and the application decides what comes next (BXML's `transferComplete` has the same shape).

Cross-call work (the leg's end moving the call, the call's end hanging up the leg) runs in tasks, never
inline, so one call's lock is never held while waiting for another's.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ..domain.audio import AudioRequest, parse_audio
from ..domain.bridge import BridgeChange
from ..domain.call import Call, CreateCall, UpdateCall, call_uri
from ..domain.call_state import Input
from ..domain.diversion import passed_on
from ..domain.errors import ApiError
from ..domain.user import User
from ..media import SAMPLE_RATE
from ..store import phone_numbers as number_store
from .control import Outcome
from .tasks import BackgroundTasks

if TYPE_CHECKING:
    from .calls import CallService

log = logging.getLogger("trebuchet.engine")

ANONYMOUS = "anonymous"  # the From user of a transfer with transferCallerId `private`


@dataclass(frozen=True)
class Whisper:
    """What the target hears before it is connected, and for how long."""

    audio: AudioRequest
    samples: np.ndarray

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


@dataclass
class TransferLeg:
    origin: str  # the call being transferred
    leg: str  # the new outbound call
    user: User
    whisper: Whisper | None


class TransferService:
    def __init__(self, calls: CallService) -> None:
        self.calls = calls
        self._legs: dict[str, TransferLeg] = {}  # by the leg's id
        self._origins: dict[str, str] = {}  # origin call id -> its leg's id
        self._tasks = BackgroundTasks("transfer")

    async def prepare(self, user: User, call: Call, update: UpdateCall) -> Whisper | None:
        """Checks and the whisper, loaded before anything changes: what cannot be had is refused and
        nothing rings."""
        await self._check_caller(user, call, update.transfer_caller_id)
        if update.whisper_audio is None:
            return None
        request = replace(parse_audio(update.whisper_audio, "call"), loop=False)  # one pass, then connect
        if request.stop:
            return None
        samples = await self.calls.audio.load(user, request, self.calls.public_url)
        return Whisper(request, samples)

    async def start(self, user: User, call: Call, update: UpdateCall, whisper: Whisper | None) -> str:
        """Ring the transfer target (the caller holds the call's lock, and made it `transferring` first,
        so a target that answers at once is not bridged before its whisper); the new leg's URL."""
        assert update.transfer_to is not None
        bridge_id = await self._bridge_for(user, call)
        private = update.transfer_caller_id == "private"
        spec = CreateCall(
            from_=call.from_ if private or update.transfer_caller_id is None else update.transfer_caller_id,
            to=update.transfer_to,
            callback_url=update.callback_url or call.callback_url,
            callback_http_method=call.callback_http_method,
            callback_timeout=call.callback_timeout,
            fallback_url=None if update.callback_url else call.fallback_url,
            bridge_id=bridge_id,
            recording_enabled=bool(update.recording_enabled),
            recording_file_format=update.recording_file_format or "wav",
        )
        if private:  # RFC 3323: the target sees no number
            spec.sip_headers["Privacy"] = "id"
        diverted = passed_on(
            call.diversion,
            update.diversion_treatment or "none",
            number=call.to,
            host=self.calls.signalling.sip_host,
            reason=update.diversion_reason or "unknown",
        )
        if diverted:
            spec.sip_headers["Diversion"] = ", ".join(diverted)
        base = self.calls.user_base(user.id)

        def remember(leg_id: str) -> None:  # before it is dialled: a leg that fails at once is known
            self._legs[leg_id] = TransferLeg(call.id, leg_id, user, whisper)
            self._origins[call.id] = leg_id

        created = await self.calls.create(
            user, spec, lambda call_id: call_uri(base, call_id), on_created=remember, caller_checked=True
        )
        return created.location

    async def _check_caller(self, user: User, call: Call, caller: str | None) -> None:
        """With TREBUCHET_ENFORCE_CALLER_ID, the spec's rule: `private`, the call's own numbers (an inbound
        caller's `from`, the number it called), or one of the user's numbers."""
        if not self.calls.enforce_caller_id or caller in (None, "private", call.from_, call.to):
            return
        async with self.calls.db.read() as conn:
            owned = await number_store.user_owns_number(conn, user.id, caller)
        if not owned:
            raise ApiError(
                400,
                "validation-error",
                f"The callerId {caller} is not allowed. It must be `private` or a phone number owned by user",
                field="transferCallerId",
            )

    async def _bridge_for(self, user: User, call: Call) -> str:
        """A new bridge holding the call (taken out of the bridge it was in); the leg joins it on answer."""
        bridges = self.calls.bridges
        if call.bridge_id is not None:
            former = await bridges.get(user, call.bridge_id)
            if former.state != "completed" and call.id in former.call_ids:
                others = [other for other in former.call_ids if other != call.id]
                await bridges.update(user, former.id, BridgeChange(call_ids=others))
        location = await bridges.create(
            user, BridgeChange(bridge_audio=True, call_ids=[call.id]), lambda i: i
        )
        return location.rsplit("/", 1)[-1]

    # -- what happens to the two calls (CallService._apply_locked tells; work goes to tasks) ---------------

    def answered(self, leg_id: str) -> None:
        leg = self._legs.get(leg_id)
        if leg is not None:
            self._tasks.spawn(self._connect(leg), f"transfer-{leg_id}")

    def ended(self, call_id: str) -> None:
        leg = self._legs.pop(call_id, None)
        if leg is not None:  # the leg ended: its call, if still transferring to it, goes back to active
            if self._origins.get(leg.origin) == call_id:
                del self._origins[leg.origin]
                back = self.calls.apply(leg.origin, Outcome(Input.TRANSFER_FAILED))
                self._tasks.spawn(back, f"transfer-back-{call_id}")
            return
        leg_id = self._origins.pop(call_id, None)
        if leg_id is not None:  # the call ended: its transfer leg goes too
            self._legs.pop(leg_id, None)
            self._tasks.spawn(self.calls.hang_up_quietly(leg_id), f"transfer-end-{leg_id}")

    async def _connect(self, leg: TransferLeg) -> None:
        """The target answered: whisper to it, then the call is active again and the bridge links them."""
        if leg.whisper is not None:
            try:
                whisper = leg.whisper
                await self.calls.audio.play(
                    leg.user, leg.leg, whisper.audio, self.calls.public_url, whisper.samples
                )
                await asyncio.sleep(leg.whisper.seconds + 0.1)
            except ApiError as why:  # the leg ended meanwhile, or the audio went away: connect anyway
                log.info("transfer %s: whisper not played: %s", leg.leg, why.message)
        if leg.leg in self._legs:
            await self.calls.apply(leg.origin, Outcome(Input.TRANSFERRED))

    async def close(self) -> None:
        await self._tasks.wait()
