"""BridgeService: two calls that hear each other (spec §3).

Membership is stored on the calls (`calls.bridge_id`); `refresh` makes the engine match what is stored
whenever something changes (a create or update, a call answering or ending): two active calls with
`bridgeAudio` are linked (each hears the other's far end), anything else is unlinked, and the bridge's
state follows (`created`, `active`, `hold`, `completed`). When one call leaves, the other stays up.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.audio import AudioRequest
from ..domain.bridge import Bridge, BridgeChange
from ..domain.call import Call
from ..domain.call_state import is_noop
from ..domain.clock import utcnow
from ..domain.errors import ApiError
from ..domain.ids import is_plausible_id, new_id
from ..domain.user import User
from ..store import bridges as bridge_store
from ..store import calls as call_store
from ..store.idempotency import IdempotentRequest, create_once
from .control import MediaUnavailable

if TYPE_CHECKING:
    from .calls import CallService


def bridge_not_found(bridge_id: str) -> ApiError:
    return ApiError(404, "bridge-not-found", f"The bridge {bridge_id} could not be found")


class BridgeService:
    def __init__(self, calls: CallService) -> None:
        self.calls = calls
        self._lock = asyncio.Lock()  # bridge membership changes one at a time (they read, then write)

    async def create(
        self,
        user: User,
        change: BridgeChange,
        location_for: Callable[[str], str],
        idem: IdempotentRequest | None = None,
    ) -> str:
        """A new bridge with its calls (once per Idempotency-Key: a retry gets the first bridge)."""
        bridge = Bridge(
            id=new_id("bridge"),
            user_id=user.id,
            created_time=utcnow(),
            bridge_audio=True if change.bridge_audio is None else change.bridge_audio,
        )

        async def insert(conn: AsyncConnection) -> None:
            await self._check_calls(conn, user, bridge.id, change.call_ids or [])
            await bridge_store.insert_bridge(conn, bridge)
            for call_id in change.call_ids or []:
                await bridge_store.set_call_bridge(conn, call_id, bridge.id)

        async with self._lock:
            location = location_for(bridge.id)
            location = await create_once(self.calls.db, user.id, idem, location, bridge.created_time, insert)
            await self._refresh_locked(location.rsplit("/", 1)[-1])
        return location

    async def get(self, user: User, bridge_id: str) -> Bridge:
        if not is_plausible_id(bridge_id):
            raise bridge_not_found(bridge_id)
        async with self.calls.db.read() as conn:
            bridge = await bridge_store.get_bridge(conn, bridge_id, user.id)
        if bridge is None:
            raise bridge_not_found(bridge_id)
        return bridge

    async def update(self, user: User, bridge_id: str, change: BridgeChange) -> None:
        async with self._lock:
            bridge = await self.get(user, bridge_id)
            if bridge.state == "completed":
                raise ApiError(
                    400,
                    "bridge-invalid-state",
                    f"Unable to update bridge {bridge_id}. Invalid bridge state completed",
                )
            removed: list[str] = []
            async with self.calls.db.write() as conn:
                if change.call_ids is not None:
                    removed = [call_id for call_id in bridge.call_ids if call_id not in change.call_ids]
                    added = [call_id for call_id in change.call_ids if call_id not in bridge.call_ids]
                    for call_id in removed:  # first, so the ones that replace them fit
                        await bridge_store.set_call_bridge(conn, call_id, None)
                    await self._check_calls(conn, user, bridge_id, added)
                    for call_id in added:
                        await bridge_store.set_call_bridge(conn, call_id, bridge_id)
                if change.bridge_audio is not None:
                    bridge.bridge_audio = change.bridge_audio
                    await bridge_store.save_bridge(conn, bridge)
            for call_id in removed:
                self.calls.signalling.unmix_call(bridge_id, call_id)
            await self._refresh_locked(bridge_id, emptied=change.call_ids == [])

    async def calls_of(self, user: User, bridge_id: str) -> list[Call]:
        await self.get(user, bridge_id)
        async with self.calls.db.read() as conn:
            return await call_store.list_calls(
                conn, user.id, call_store.CallFilter(bridge_id=bridge_id), offset=0, limit=None
            )

    async def play(self, user: User, bridge_id: str, request: AudioRequest, base_url: str) -> None:
        """Audio into the bridge: played to each of its active calls (their own playback events)."""
        bridge = await self.get(user, bridge_id)
        async with self.calls.db.read() as conn:
            calls = [await call_store.get_call(conn, call_id) for call_id in bridge.call_ids]
        active = [call for call in calls if call is not None and call.state == "active"]
        if not active:
            raise ApiError(400, "bridge-invalid-operation", f"No active calls in the bridge {bridge_id}")
        samples = None if request.stop else await self.calls.audio.load(user, request, base_url)
        for call in active:  # fetched or spoken once, played to each
            await self.calls.audio.play(user, call.id, request, base_url, samples)

    async def refresh(self, bridge_id: str) -> None:
        """A call of the bridge answered or ended: link or unlink, and update the bridge's state."""
        async with self._lock:
            await self._refresh_locked(bridge_id)

    async def _refresh_locked(self, bridge_id: str, emptied: bool = False) -> None:
        now = utcnow()
        async with self.calls.db.write() as conn:
            bridge = await bridge_store.get_bridge(conn, bridge_id)
            if bridge is None or bridge.state == "completed":
                return
            calls = [await call_store.get_call(conn, call_id) for call_id in bridge.call_ids]
            active = [call.id for call in calls if call is not None and call.state == "active"]
            linked = len(active) == 2 and bridge.bridge_audio
            if not bridge.call_ids and (bridge.activated_time is not None or emptied):
                bridge.state, bridge.completed_time = "completed", now
            elif linked:
                bridge.state = "active"
                bridge.activated_time = bridge.activated_time or now
            elif not bridge.bridge_audio and bridge.call_ids:
                bridge.state = "hold"
            await bridge_store.save_bridge(conn, bridge)
        signalling = self.calls.signalling
        for call_id in bridge.call_ids:
            if linked:
                with contextlib.suppress(MediaUnavailable):  # it ended meanwhile: its end refreshes again
                    signalling.mix_call(bridge_id, call_id)
            else:
                signalling.unmix_call(bridge_id, call_id)

    async def _check_calls(
        self, conn: AsyncConnection, user: User, bridge_id: str, call_ids: list[str]
    ) -> None:
        current = await bridge_store.live_call_ids(conn, bridge_id)
        if len(set(current) | set(call_ids)) > 2:
            raise ApiError(
                403, "bridge-callIds-overflow", f"Bridge {bridge_id} already has 2 calls", field="callIds"
            )
        for call_id in call_ids:
            call = await call_store.get_call(conn, call_id, user.id)
            if call is None:
                raise ApiError(
                    404, "call-not-found", f"The call {call_id} could not be found", field="callIds"
                )
            if is_noop(call.state):
                raise ApiError(
                    400,
                    "bridge-invalid-state",
                    f"The call {call_id} has ended and cannot join a bridge",
                    field="callIds",
                )
            if call.bridge_id is not None and call.bridge_id != bridge_id:
                other = await bridge_store.get_bridge(conn, call.bridge_id)
                if other is not None and other.state != "completed":
                    raise ApiError(
                        400,
                        "bridge-bridged-callId",
                        f"The callId {call_id} is already in another bridge",
                        field="callIds",
                    )
