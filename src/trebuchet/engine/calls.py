"""CallService: creates calls, runs commands on them one at a time, and records every change with its events.

Every state change goes through `domain.call_state` and is written in one transaction together with the
call's timeline entry and its callback (transactional outbox), so a change and its event exist together
or not at all. Commands for one call are serialised by a per-call lock, which is what guarantees one
terminal `hangup` per call whatever races to end it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain import causes
from ..domain.application import Application
from ..domain.call import Call, CreateCall, UpdateCall
from ..domain.call_state import REQUESTED_STATE_INPUT, Input, InvalidTransition, is_noop, next_state
from ..domain.clock import utcnow
from ..domain.errors import ApiError, validation_error
from ..domain.events import answer_event, dtmf_event, hangup_event, incoming_call_event, timeout_event
from ..domain.ids import is_plausible_id, new_id
from ..domain.user import User
from ..metrics import CALL_TRANSITIONS, CALLS_CREATED
from ..store import calls as call_store
from ..store import idempotency, references
from ..store import phone_numbers as number_store
from ..store import recordings as recording_store
from ..store.call_events import record_call_event
from ..store.database import Database
from ..store.idempotency import IdempotentRequest
from .audio import AudioService
from .bridges import BridgeService
from .conferences import ConferenceService
from .control import MediaUnavailable, NoSignalling, Outcome, Signalling
from .gathers import GatherService
from .recordings import RecordingService
from .transcriptions import TranscriptionService
from .transfers import TransferService

log = logging.getLogger("trebuchet.engine")


@dataclass(frozen=True)
class Created:
    """The answer to a create: the new call's id and Location (or the remembered first answer)."""

    call_id: str
    location: str


class _KeyedLocks:
    """One asyncio.Lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


def call_not_found(call_id: str) -> ApiError:
    return ApiError(404, "call-not-found", f"The call {call_id} could not be found")


def invalid_state(call: Call, requested: str) -> ApiError:
    return ApiError(
        403,
        "call-invalid-state",
        f"Unable to update call {call.id} to {requested}. Invalid call state {call.state}",
    )


class CallService:
    def __init__(
        self,
        db: Database,
        *,
        public_url: str,
        signalling: Signalling | None = None,
        on_events: Callable[[], None] = lambda: None,
        enforce_caller_id: bool = False,
        node: str | None = None,
        data_dir: Path = Path("data"),
    ) -> None:
        self.db = db
        self.public_url = public_url.rstrip("/")
        self.signalling: Signalling = signalling or NoSignalling()
        self.on_events = on_events
        self.enforce_caller_id = enforce_caller_id
        self.node = node
        self._locks = _KeyedLocks()
        self.gathers = GatherService(self)
        self.recordings = RecordingService(self, data_dir)
        self.transcriptions = TranscriptionService(self)
        self.audio = AudioService(self, data_dir)
        self.bridges = BridgeService(self)
        self.conferences = ConferenceService(self)
        self.transfers = TransferService(self)

    def user_base(self, user_id: str) -> str:
        return f"{self.public_url}/v1/users/{user_id}"

    # -- creating -------------------------------------------------------------------------------------

    async def create(
        self,
        user: User,
        spec: CreateCall,
        location_for: Callable[[str], str],
        idem: IdempotentRequest | None = None,
        on_created: Callable[[str], None] | None = None,
        caller_checked: bool = False,
    ) -> Created:
        """Write the call, then dial it; `on_created(call_id)` runs in between (a transfer's leg is known
        before anything can happen to it). `caller_checked`: the caller already vetted `from` (a
        transfer may use the transferred caller's number, which is not the user's)."""
        call = Call(
            id=new_id("call"),
            user_id=user.id,
            direction="out",
            from_=spec.from_,
            to=spec.to,
            start_time=utcnow(),
            call_timeout=spec.call_timeout,
            callback_url=spec.callback_url,
            callback_http_method=spec.callback_http_method,
            callback_timeout=spec.callback_timeout,
            fallback_url=spec.fallback_url,
            bridge_id=spec.bridge_id,
            conference_id=spec.conference_id,
            recording_enabled=spec.recording_enabled,
            recording_file_format=spec.recording_file_format,
            recording_max_duration=spec.recording_max_duration,
            transcription_enabled=spec.transcription_enabled,
            tag=spec.tag,
            sip_headers=spec.sip_headers,
            node=self.node,
        )
        location = location_for(call.id)
        try:
            async with self.db.write() as conn:
                if idem is not None:
                    earlier = await idempotency.recall(conn, user.id, idem.key, call.start_time)
                    if earlier is not None:
                        return self._replay(earlier, idem)
                await self._check_references(conn, user, spec, caller_checked)
                await call_store.insert_call(conn, call)
                await record_call_event(conn, call, "create", call.start_time, None)
                if idem is not None:
                    await idempotency.remember(
                        conn, user.id, idem.key, idem.request_hash, 201, location, call.start_time
                    )
        except IntegrityError:
            if idem is None:
                raise
            # A concurrent request with the same key won the race: answer what it answered.
            async with self.db.read() as conn:
                earlier = await idempotency.recall(conn, user.id, idem.key, utcnow())
            if earlier is None:
                raise
            return self._replay(earlier, idem)
        CALLS_CREATED.inc()
        if on_created is not None:
            on_created(call.id)
        async with self._locks.hold(call.id):
            outcome = await self.signalling.dial(call)
            if outcome is not None:
                await self._apply_locked(call.id, outcome)
        return Created(call.id, location)

    @staticmethod
    def _replay(earlier: idempotency.Remembered, idem: IdempotentRequest) -> Created:
        location = earlier.replayed_location(idem.key, idem.request_hash)
        return Created(location.rsplit("/", 1)[-1], location)

    async def _check_references(
        self, conn: AsyncConnection, user: User, spec: CreateCall, caller_checked: bool = False
    ) -> None:
        if (
            self.enforce_caller_id
            and not caller_checked
            and not await number_store.user_owns_number(conn, user.id, spec.from_)
        ):
            raise ApiError(
                401,
                "number-access-denied",
                f"The number {spec.from_} is not one of this user's numbers",
                field="from",
            )
        if spec.bridge_id is not None and not await references.bridge_exists(conn, user.id, spec.bridge_id):
            raise validation_error("bridgeId", f"names the bridge {spec.bridge_id}, which does not exist")
        if spec.conference_id is not None:
            state = await references.conference_state(conn, user.id, spec.conference_id)
            if state is None or state == "completed":
                raise ApiError(
                    403,
                    "invalid-call-conference-id",
                    f"The conferenceId {spec.conference_id} does not name an open conference of this user",
                    field="conferenceId",
                )

    async def create_inbound(
        self,
        user_id: str,
        application: Application,
        *,
        from_: str,
        to: str,
        diversion: list[dict[str, Any]] | None = None,
    ) -> Call:
        """An inbound call to one of the user's numbers, with its `incomingcall` event in one transaction.

        Its events go where the application says (spec §8.1): incomingCallUrl, its timeout and fallback.
        """
        now = utcnow()
        call = Call(
            id=new_id("call"),
            user_id=user_id,
            direction="in",
            from_=from_,
            to=to,
            start_time=now,
            callback_url=application.incoming_call_url,
            callback_http_method=application.callback_http_method,
            callback_timeout=application.incoming_call_url_callback_timeout,
            fallback_url=application.incoming_call_fallback_url,
            node=self.node,
            diversion=diversion or None,
        )
        payload = incoming_call_event(
            call, self.user_base(user_id), now, application.id, answering=application.auto_answer
        )
        async with self.db.write() as conn:
            await call_store.insert_call(conn, call)
            await record_call_event(conn, call, "incomingcall", now, payload)
        CALLS_CREATED.inc()
        self.on_events()
        return call

    # -- reading ----------------------------------------------------------------------------------------

    async def get(self, user: User, call_id: str) -> Call:
        if not is_plausible_id(call_id):
            raise call_not_found(call_id)
        async with self.db.read() as conn:
            call = await call_store.get_call(conn, call_id, user.id)
        if call is None:
            raise call_not_found(call_id)
        return call

    # -- commands from the API --------------------------------------------------------------------------

    async def update(self, user: User, call_id: str, update: UpdateCall) -> str | None:
        """Apply `POST /calls/{id}`: settings first, then the requested state through the signalling layer.
        A transfer answers the URL of its new call leg (None otherwise)."""
        async with self._locks.hold(call_id):
            call = await self.get(user, call_id)
            command = REQUESTED_STATE_INPUT.get(update.state) if update.state else None
            if command is not None:
                try:
                    next_state(call.direction, call.state, command)
                except InvalidTransition:
                    raise invalid_state(call, update.state or "") from None
            settings = {
                "recording_enabled": update.recording_enabled,
                "recording_file_format": update.recording_file_format,
                "recording_max_duration": update.recording_max_duration,
            }
            settings = {name: value for name, value in settings.items() if value is not None}
            if settings:
                if is_noop(call.state):
                    raise invalid_state(call, "a new recording setting")
                async with self.db.write() as conn:
                    current = await call_store.get_call(conn, call_id)
                    assert current is not None
                    changes_format = any(
                        name != "recording_enabled" and getattr(current, name) != value
                        for name, value in settings.items()
                    )
                    if changes_format and await recording_store.running_recording(conn, call_id):
                        raise ApiError(
                            409,
                            "conflicted-recording-values-request",
                            "The recording format and maximum duration cannot be changed while recording"
                            " is being executed!",
                        )
                    for name, value in settings.items():
                        setattr(current, name, value)
                    await call_store.save_call(conn, current)
                call = current
                if call.state == "active" and update.recording_enabled is not None:
                    if update.recording_enabled:
                        await self.recordings.start(call)
                    else:
                        self.recordings.stop(call)
            if command is None or is_noop(call.state):
                return None
            if command is Input.TRANSFER:
                whisper = await self.transfers.prepare(user, call, update)
                await self._apply_locked(call_id, Outcome(Input.TRANSFER))
                try:
                    return await self.transfers.start(user, call, update, whisper)
                except BaseException:
                    await self._apply_locked(call_id, Outcome(Input.TRANSFER_FAILED))
                    raise
            outcome = await self._signal(call, command)
            if outcome is not None:
                await self._apply_locked(call_id, outcome)
            return None

    async def _signal(self, call: Call, command: Input) -> Outcome | None:
        if command is Input.HANGUP:
            return await self.signalling.hangup(call)
        if command is Input.ANSWER:
            return await self.signalling.answer(call)
        assert command is Input.REJECT
        return await self.signalling.reject(call)

    async def send_dtmf(self, user: User, call_id: str, digits: str) -> None:
        """`POST /calls/{id}/dtmf`: RFC 4733 digits into an active call, in order with other commands."""
        async with self._locks.hold(call_id):
            call = await self.get(user, call_id)

            def failure(reason: str) -> ApiError:
                message = f"DTMF digits {digits} could not be sent for call {call.id}: {reason}"
                return ApiError(503, "send-dtmf-failure", message)

            if call.state != "active":
                raise failure(f"the call is {call.state}")
            try:
                self.signalling.send_dtmf(call, digits)
            except MediaUnavailable as why:
                raise failure(str(why)) from None

    async def record_digit(self, call_id: str, digit: str) -> bool:
        """A digit the far end pressed: the `dtmf` event, one per digit, in the order they came. A member
        of a conference that interprets digits gives them to the conference instead (False: not the app's)."""
        async with self._locks.hold(call_id):
            async with self.db.read() as conn:
                call = await call_store.get_call(conn, call_id)
            if call is None or call.state != "active":
                return False
            if call.conference_id is not None and await self.conferences.keypad(call_id, digit):
                return False
            now = utcnow()
            async with self.db.write() as conn:
                payload = dtmf_event(call, self.user_base(call.user_id), now, digit)
                await record_call_event(conn, call, "dtmf", now, payload, data=digit)
        self.on_events()
        return True

    # -- what the network reports -----------------------------------------------------------------------

    async def apply(self, call_id: str, outcome: Outcome) -> Call | None:
        """Record something that happened to a call; illegal or late reports are logged and dropped."""
        async with self._locks.hold(call_id):
            return await self._apply_locked(call_id, outcome)

    async def _apply_locked(self, call_id: str, outcome: Outcome) -> Call | None:
        now = utcnow()
        async with self.db.write() as conn:
            call = await call_store.get_call(conn, call_id)
            if call is None:
                return None
            try:
                new_state = next_state(call.direction, call.state, outcome.input)
            except InvalidTransition:
                log.info("call %s: %s ignored in state %s", call_id, outcome.input, call.state)
                return call
            if is_noop(call.state):
                return call
            base = self.user_base(call.user_id)
            call.state = new_state
            if outcome.dialog is not None:
                call.dialog = outcome.dialog
            if outcome.input is Input.ANSWERED or outcome.input is Input.ANSWER:
                call.active_time = now
                await record_call_event(conn, call, "answer", now, answer_event(call, base, now))
            if outcome.input is Input.TIMED_OUT:
                await record_call_event(conn, call, "timeout", now, timeout_event(call, base, now))
            if new_state in ("completed", "rejected"):
                call.end_time = now
                call.cause = outcome.cause or (
                    causes.NO_ANSWER if outcome.input is Input.TIMED_OUT else causes.NORMAL_CLEARING
                )
                await record_call_event(
                    conn, call, "hangup", now, hangup_event(call, base, now, call.cause), data=call.cause
                )
            await call_store.save_call(conn, call)
        CALL_TRANSITIONS.labels(new_state).inc()
        self.on_events()
        answered = outcome.input is Input.ANSWERED or outcome.input is Input.ANSWER
        if answered and new_state == "active" and call.recording_enabled:
            await self.recordings.start(call)
        ended = new_state in ("completed", "rejected")
        transferred = outcome.input is Input.TRANSFERRED
        if call.bridge_id is not None and (answered or ended or transferred):
            await self.bridges.refresh(call.bridge_id)  # join the bridge on answer, leave it on hang-up
        if answered:
            self.transfers.answered(call.id)
        if ended:
            self.transfers.ended(call.id)
        if call.conference_id is not None and ended:
            await self.conferences.call_ended(call.id)  # a member whose call ends leaves the conference
        return call

    # -- start and stop ---------------------------------------------------------------------------------

    async def live_call_ids(self) -> list[str]:
        async with self.db.read() as conn:
            return await call_store.live_call_ids(conn, self.node)

    async def hang_up_quietly(self, call_id: str) -> None:
        """Hang up a call the service itself ends (a transfer leg whose call is gone), if still live."""
        async with self._locks.hold(call_id):
            async with self.db.read() as conn:
                call = await call_store.get_call(conn, call_id)
            if call is None or is_noop(call.state):
                return
            outcome = await self.signalling.hangup(call)
            if outcome is not None:
                await self._apply_locked(call_id, outcome)

    async def close_calls(self, live: list[str], cause: str) -> int:
        """End each of these calls that is still live (after a crash, or at shutdown) with `cause`."""
        for call_id in live:
            async with self._locks.hold(call_id):
                async with self.db.read() as conn:
                    call = await call_store.get_call(conn, call_id)
                if call is not None and not is_noop(call.state):
                    try:
                        await self.signalling.hangup(call)
                    except Exception:  # the call ends in storage whatever the network says
                        log.exception("hanging up %s at %s failed", call_id, cause)
                await self._apply_locked(call_id, Outcome(Input.SHUTDOWN, cause))
        return len(live)
