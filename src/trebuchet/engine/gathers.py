"""GatherService: DTMF gathers on live calls (spec §2.9), one at a time per call.

The API starts and stops gathers here; the call's controller collects the digits (it hears them) and
reports the result back through `finish`, which records the `gather` event with the gather's tag. All
of it runs under the call's lock, in order with the call's other commands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..domain.audio import parse_audio
from ..domain.clock import utcnow
from ..domain.errors import ApiError
from ..domain.events import gather_event
from ..domain.gather import CreateGather, Gather
from ..domain.ids import is_plausible_id, new_id
from ..domain.user import User
from ..media.audio_files import FilePlayer
from ..store import calls as call_store
from ..store import gathers as gather_store
from ..store.call_events import record_call_event
from .control import MediaUnavailable

if TYPE_CHECKING:
    from .calls import CallService


def gather_not_found(gather_id: str) -> ApiError:
    return ApiError(404, "resource-not-found", f"The gather {gather_id} could not be found")


class GatherService:
    def __init__(self, calls: CallService) -> None:
        self.calls = calls

    async def start(
        self,
        user: User,
        call_id: str,
        spec: CreateGather,
        location_for: Callable[[str], str],
        base_url: str = "",
    ) -> str:
        prompt = parse_audio(spec.prompt, "gather") if spec.prompt is not None else None
        if prompt is not None and prompt.stop:
            raise ApiError(
                400, "validation-error", "A gather's prompt needs a fileUrl or a sentence", field="prompt"
            )
        await self.calls.get(user, call_id)  # 404 before any work
        samples = await self.calls.audio.load(user, prompt, base_url) if prompt is not None else None
        async with self.calls._locks.hold(call_id):
            call = await self.calls.get(user, call_id)
            if call.state != "active":
                raise ApiError(
                    403,
                    "call-invalid-state",
                    f"Unable to gather digits on call {call.id}. Invalid call state {call.state}",
                )
            gather = Gather(
                id=new_id("gather"),
                call_id=call.id,
                user_id=user.id,
                rules=spec.rules,
                created_time=utcnow(),
                tag=spec.tag,
                prompt=spec.prompt,
            )
            async with self.calls.db.write() as conn:
                if await gather_store.started_gather(conn, call.id) is not None:
                    raise ApiError(
                        409,
                        "call-duplicate-gather-error",
                        f"DTMF digits are already being gathered for call {call.id}",
                    )
                await gather_store.insert_gather(conn, gather)
            try:
                self.calls.signalling.start_gather(call, gather.id, spec.rules)
                if prompt is not None and samples is not None:
                    # The prompt plays until the first digit (bargeable, the only way Catapult allows).
                    player = FilePlayer(samples, loop=prompt.loop, volume=prompt.volume)
                    self.calls.signalling.play_audio(call, prompt.kind, player, prompt.tag, barge_in=True)
                    await self.calls.audio.started(call, prompt.kind, prompt.tag)
            except MediaUnavailable as why:
                await self._finish_locked(call.id, gather.id, "hung-up", "")
                raise ApiError(
                    503, "call-unavailable", f"Cannot gather digits on call {call.id}: {why}"
                ) from None
            return location_for(gather.id)

    async def get(self, user: User, call_id: str, gather_id: str) -> Gather:
        await self.calls.get(user, call_id)  # 404 for a call that is not the user's
        if not is_plausible_id(gather_id):
            raise gather_not_found(gather_id)
        async with self.calls.db.read() as conn:
            gather = await gather_store.get_gather(conn, gather_id, call_id)
        if gather is None:
            raise gather_not_found(gather_id)
        return gather

    async def stop(self, user: User, call_id: str, gather_id: str) -> None:
        """`{"state": "completed"}`: stop collecting; stopping a finished gather succeeds quietly."""
        gather = await self.get(user, call_id, gather_id)
        if gather.state == "completed":
            return
        call = await self.calls.get(user, call_id)
        if not self.calls.signalling.stop_gather(call, gather_id):
            await self.finish(call_id, gather_id, "cancelled", "")

    async def finish(self, call_id: str, gather_id: str, reason: str, digits: str) -> None:
        async with self.calls._locks.hold(call_id):
            await self._finish_locked(call_id, gather_id, reason, digits)

    async def _finish_locked(self, call_id: str, gather_id: str, reason: str, digits: str) -> None:
        now = utcnow()
        async with self.calls.db.write() as conn:
            if not await gather_store.complete_gather(conn, gather_id, reason=reason, digits=digits, at=now):
                return
            call = await call_store.get_call(conn, call_id)
            gather = await gather_store.get_gather(conn, gather_id)
            if call is None or gather is None:
                return
            base = self.calls.user_base(call.user_id)
            payload = gather_event(call, base, now, gather_id, reason, digits, gather.tag)
            await record_call_event(conn, call, "gather", now, payload, data=reason)
        self.calls.on_events()
