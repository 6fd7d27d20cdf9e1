"""ConferenceService: calls that all hear each other (spec §4), and the conference's events.

The conference's audio is a mix in the engine named by the conference's id (`media/mixer.py`): each
member is a port in it with the rights its own and the conference's `mute`/`hold` give it. What is stored
decides: a member row is written in the same transaction as its `conference-member` event, and the
engine is told after. Changes run one at a time under one lock, taken after the call's lock when a call
is involved (the order `CallService` uses when a member's call ends), so the two never wait on each other.

Conference events go to the conference's own callback URL, in order (their outbox stream is the
conference's id). Audio to the whole conference raises `conference-playback`/`conference-speak`; audio
to one member is that call's own `playback`/`speak`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.audio import AudioRequest
from ..domain.clock import utcnow
from ..domain.conference import (
    MAX_MEMBERS,
    Conference,
    ConferenceChange,
    KeypadLevels,
    Member,
    MemberChange,
    conference_audio_event,
    conference_event,
    conference_not_found,
    invalid_state,
    member_event,
    member_not_found,
    press,
    rights,
)
from ..domain.errors import ApiError
from ..domain.ids import is_plausible_id, new_id
from ..domain.user import User
from ..media.audio_files import VOLUME_GAINS, FilePlayer
from ..media.mixer import JOIN_TONE, LEAVING_TONE, MixSource
from ..store import calls as call_store
from ..store import conferences as store
from ..store import idempotency
from ..store.call_events import enqueue_for
from ..store.idempotency import IdempotentRequest, create_once
from .control import MediaUnavailable
from .tasks import BackgroundTasks

if TYPE_CHECKING:
    from .calls import CallService

log = logging.getLogger("trebuchet.engine")

GATE_RMS = {0: 0, 1: 50, 2: 100, 3: 200, 4: 400}  # keypad gate steps: what counts as silence, in RMS


@dataclass
class ConferenceAudio:
    """What plays to a whole conference now, to say `done` for it once."""

    kind: str
    tag: str | None
    source: MixSource | None = None


class ConferenceService:
    def __init__(self, calls: CallService) -> None:
        self.calls = calls
        self._lock = asyncio.Lock()
        self._playing: dict[str, ConferenceAudio] = {}
        self._levels: dict[str, KeypadLevels] = {}  # by member id: keypad volume and gate steps
        self._reports = BackgroundTasks("conference audio event")

    async def close(self) -> None:
        """At shutdown (members' calls already hung up): audio still playing to a conference ends, with
        its `done` event written before the dispatcher stops."""
        for conference_id in list(self._playing):
            self.calls.signalling.close_mix(conference_id)
        await self._reports.wait()

    # -- conferences --------------------------------------------------------------------------------------

    async def create(
        self,
        user: User,
        change: ConferenceChange,
        location_for: Callable[[str], str],
        idem: IdempotentRequest | None = None,
    ) -> str:
        """A new conference and its `created` event (once per Idempotency-Key: a retry gets the first)."""
        assert change.from_ is not None
        conference = Conference(
            id=new_id("conference"), user_id=user.id, from_=change.from_, created_time=utcnow()
        )
        _copy_given(change, conference, CONFERENCE_SETTINGS)
        if change.profile is not None:
            conference.profile = change.profile

        async def insert(conn: AsyncConnection) -> None:
            await store.insert_conference(conn, conference)
            payload = conference_event(conference, self._base(user.id), conference.created_time)
            await self._event(conn, conference, payload)

        location = location_for(conference.id)
        location = await create_once(self.calls.db, user.id, idem, location, conference.created_time, insert)
        self.calls.on_events()
        return location

    async def get(self, user: User, conference_id: str) -> Conference:
        if not is_plausible_id(conference_id):
            raise conference_not_found(conference_id)
        async with self.calls.db.read() as conn:
            conference = await store.get_conference(conn, conference_id, user.id)
        if conference is None:
            raise conference_not_found(conference_id)
        return conference

    async def update(self, user: User, conference_id: str, change: ConferenceChange) -> None:
        async with self._lock:
            conference = await self.get(user, conference_id)
            if conference.state == "completed":
                raise invalid_state(conference)
            before = (conference.mute, conference.hold)
            _copy_given(change, conference, CONFERENCE_SETTINGS)
            if change.state == "completed":
                await self._complete(conference, await self._active(conference.id))
                return
            async with self.calls.db.write() as conn:
                await store.save_conference(conn, conference)
            if (conference.mute, conference.hold) != before:
                for member in await self._active(conference.id):
                    self._mix(conference, member)

    # -- members ------------------------------------------------------------------------------------------

    async def add_member(
        self,
        user: User,
        conference_id: str,
        change: MemberChange,
        location_for: Callable[[str], str],
        idem: IdempotentRequest | None = None,
    ) -> str:
        """The call joins (once per Idempotency-Key: a retry gets the first member's Location)."""
        call_id = change.call_id or ""
        if not is_plausible_id(call_id):
            await self.get(user, conference_id)  # an unknown conference is the first thing missing
            raise _call_not_found(call_id)
        async with self.calls._locks.hold(call_id), self._lock:
            conference = await self.get(user, conference_id)
            if idem is not None:  # before the checks: the first answer made the call a member
                async with self.calls.db.read() as conn:
                    earlier = await idempotency.recall(conn, user.id, idem.key, utcnow())
                if earlier is not None:
                    return earlier.replayed_location(idem.key, idem.request_hash)
            if conference.state == "completed":
                raise invalid_state(conference)
            async with self.calls.db.read() as conn:
                call = await call_store.get_call(conn, call_id, user.id)
                current = await store.active_membership(conn, call_id)
            if call is None:
                raise _call_not_found(call_id)
            if call.conference_id != conference.id:
                raise ApiError(
                    403,
                    "invalid-call-conference-id",
                    f"The call {call_id} was not created with conferenceId {conference.id}",
                    field="callId",
                )
            if call.state != "active":
                raise ApiError(
                    403,
                    "call-invalid-state",
                    f"The call {call_id} is {call.state}: only an active call can join a conference",
                    field="callId",
                )
            if current is not None:
                raise ApiError(
                    409,
                    "conference-member-update-conflict",
                    f"The call {call_id} is already a member of conference {conference.id}",
                    field="callId",
                )
            if conference.active_members >= MAX_MEMBERS:
                raise ApiError(
                    403,
                    "conference-max-members",
                    f"The conference {conference.id} reached the max number of members",
                )
            now = utcnow()
            member = Member(id=new_id("member"), conference_id=conference.id, call_id=call_id, added_time=now)
            _copy_given(change, member, MEMBER_SETTINGS)
            try:
                self._mix(conference, member, strict=True)
            except MediaUnavailable as why:
                raise ApiError(503, "call-unavailable", f"The call {call_id} cannot join: {why}") from None
            conference.state, conference.active_members = "active", conference.active_members + 1

            async def insert(conn: AsyncConnection) -> None:
                await store.insert_member(conn, member)
                await store.save_conference(conn, conference)
                await self._event(
                    conn, conference, member_event(conference, member, self._base(user.id), now)
                )

            ours = location_for(member.id)
            try:
                location = await create_once(self.calls.db, user.id, idem, ours, now, insert)
            except BaseException:
                self.calls.signalling.unmix_call(conference.id, call_id)
                raise
            if location != ours:  # another process answered the same key first: its member stands
                self.calls.signalling.unmix_call(conference.id, call_id)
                return location
            if member.join_tone:
                self._tone(conference.id, JOIN_TONE)
        self.calls.on_events()
        return location

    async def get_member(self, user: User, conference_id: str, member_id: str) -> Member:
        await self.get(user, conference_id)
        member = None
        if is_plausible_id(member_id):
            async with self.calls.db.read() as conn:
                member = await store.get_member(conn, conference_id, member_id)
        if member is None:
            raise member_not_found(member_id)
        return member

    async def members(self, user: User, conference_id: str) -> list[Member]:
        await self.get(user, conference_id)
        async with self.calls.db.read() as conn:
            return await store.list_members(conn, conference_id)

    async def update_member(
        self, user: User, conference_id: str, member_id: str, change: MemberChange
    ) -> None:
        async with self._lock:
            conference = await self.get(user, conference_id)
            member = await self.get_member(user, conference_id, member_id)
            if member.state == "completed":
                raise ApiError(
                    409,
                    "conference-member-update-conflict",
                    f"The member {member_id} has left the conference {conference_id}",
                )
            if change.state == "completed":
                await self._remove(conference, member)
            else:
                await self._change(conference, member, change)

    async def call_ended(self, call_id: str) -> None:
        """A member's call ended (the caller holds the call's lock): it leaves, perhaps the last one."""
        async with self._lock:
            found = await self._membership(call_id)
            if found is not None:
                await self._remove(*found)

    async def keypad(self, call_id: str, digit: str) -> bool:
        """A digit pressed by a member's call (the caller holds the call's lock). Under `interpret_digits`
        the conference acts on it and takes it (True: no `dtmf` event, no gather); otherwise False."""
        async with self._lock:
            found = await self._membership(call_id)
            if found is None or found[0].profile != "interpret_digits":
                return False
            conference, member = found
            levels = self._levels.setdefault(member.id, KeypadLevels())
            action = press(levels, digit)
            if action == "levels":
                with contextlib.suppress(MediaUnavailable):
                    self.calls.signalling.tune_mix(
                        conference.id,
                        call_id,
                        talk=VOLUME_GAINS[levels.talk],
                        listen=VOLUME_GAINS[levels.listen],
                        gate=GATE_RMS[levels.gate],
                    )
            elif action == "leave":
                await self._remove(conference, member)
            elif action == "mute":
                await self._change(conference, member, MemberChange(mute=not member.mute))
            elif action == "hold":
                await self._change(conference, member, MemberChange(hold=not member.hold))
        return True

    # -- audio --------------------------------------------------------------------------------------------

    async def play(self, user: User, conference_id: str, request: AudioRequest, base_url: str) -> None:
        """Audio to everyone in the conference who can hear, with conference-playback/-speak events."""
        conference = await self.get(user, conference_id)
        if conference.state == "completed":
            raise invalid_state(conference)
        if request.stop:
            async with self._lock:
                playing = self._playing.get(conference_id)
                if playing is None or playing.kind != request.kind or playing.source is None:
                    raise ApiError(
                        403,
                        "call-audio-invalid-state",
                        f"No {request.kind} plays in conference {conference_id}",
                    )
                self.calls.signalling.stop_mix_audio(conference_id, playing.source)
            return
        samples = await self.calls.audio.load(user, request, base_url)
        async with self._lock:
            conference = await self.get(user, conference_id)
            if conference.state == "completed":
                raise invalid_state(conference)
            former = self._playing.get(conference_id)
            if former is not None and former.source is not None:
                self.calls.signalling.stop_mix_audio(conference_id, former.source)
            audio = ConferenceAudio(request.kind, request.tag)
            player = FilePlayer(samples, loop=request.loop, volume=request.volume)
            try:
                audio.source = self.calls.signalling.play_to_mix(
                    conference_id, player, lambda: self._audio_done(conference_id, audio)
                )
            except MediaUnavailable as why:
                raise ApiError(
                    503, "audio-update-failure", f"Audio cannot play in conference {conference_id}: {why}"
                ) from None
            self._playing[conference_id] = audio
            await self._audio_event(conference, audio, started=True)
        self.calls.on_events()

    async def play_to_member(
        self, user: User, conference_id: str, member_id: str, request: AudioRequest, base_url: str
    ) -> None:
        """Audio to one member only: the member's call plays it (its own playback/speak events)."""
        member = await self.get_member(user, conference_id, member_id)
        if member.state != "active":
            raise ApiError(
                503, "call-unavailable", f"The conference member {member_id} doesn't have an available call"
            )
        await self.calls.audio.play(user, member.call_id, request, base_url)

    def _audio_done(self, conference_id: str, audio: ConferenceAudio) -> None:
        """Called on the frame clock (or by a stop) when conference audio ended: say `done`, once."""
        if self._playing.get(conference_id) is audio:
            del self._playing[conference_id]
        self._reports.spawn(self._finished(conference_id, audio), f"conference-audio-{conference_id}")

    async def _finished(self, conference_id: str, audio: ConferenceAudio) -> None:
        try:
            async with self._lock:
                async with self.calls.db.read() as conn:
                    conference = await store.get_conference(conn, conference_id)
                if conference is not None:
                    await self._audio_event(conference, audio, started=False)
            self.calls.on_events()
        except Exception:
            log.exception("conference %s: recording the end of its audio failed", conference_id)

    async def _audio_event(self, conference: Conference, audio: ConferenceAudio, *, started: bool) -> None:
        now = utcnow()
        payload = conference_audio_event(
            conference, self._base(conference.user_id), now, audio.kind, started, audio.tag
        )
        async with self.calls.db.write() as conn:
            await self._event(conn, conference, payload)

    # -- inside the lock ----------------------------------------------------------------------------------

    async def _active(self, conference_id: str) -> list[Member]:
        async with self.calls.db.read() as conn:
            return await store.list_members(conn, conference_id, active_only=True)

    async def _membership(self, call_id: str) -> tuple[Conference, Member] | None:
        """The conference the call is a member of now, and its membership."""
        async with self.calls.db.read() as conn:
            member = await store.active_membership(conn, call_id)
            conference = await store.get_conference(conn, member.conference_id) if member else None
        return (conference, member) if member is not None and conference is not None else None

    async def _change(self, conference: Conference, member: Member, change: MemberChange) -> None:
        """New settings for a member (by the API or its keypad): stored, announced when its mute or hold
        changed, and applied to its place in the mix."""
        before = (member.mute, member.hold)
        _copy_given(change, member, MEMBER_SETTINGS)
        now = utcnow()
        async with self.calls.db.write() as conn:
            await store.save_member(conn, member)
            if (member.mute, member.hold) != before:
                payload = member_event(conference, member, self._base(conference.user_id), now)
                await self._event(conn, conference, payload)
        self._mix(conference, member)
        self.calls.on_events()

    def _let_go(self, conference: Conference, member: Member, now: datetime) -> None:
        """A member out of the conference (not yet stored): its call leaves the mix, its keypad levels go."""
        member.state, member.removed_time = "completed", now
        self._levels.pop(member.id, None)
        self.calls.signalling.unmix_call(conference.id, member.call_id)

    async def _remove(self, conference: Conference, member: Member) -> None:
        """The member leaves (removed, or its call ended); the conference completes if it was the last."""
        now = utcnow()
        self._let_go(conference, member, now)
        conference.active_members = max(0, conference.active_members - 1)
        async with self.calls.db.write() as conn:
            await store.save_member(conn, member)
            await store.save_conference(conn, conference)
            await self._event(
                conn, conference, member_event(conference, member, self._base(conference.user_id), now)
            )
        if conference.active_members == 0:
            await self._complete(conference, [])
        elif member.leaving_tone:
            self._tone(conference.id, LEAVING_TONE)
        self.calls.on_events()

    async def _complete(self, conference: Conference, members: list[Member]) -> None:
        """Everyone left, or the API ended it: members out (their calls stay up), audio stopped."""
        now = utcnow()
        base = self._base(conference.user_id)
        for member in members:
            self._let_go(conference, member, now)
        async with self.calls.db.write() as conn:
            for member in members:  # each leaves in turn: the count goes down to 0
                conference.active_members = max(0, conference.active_members - 1)
                await store.save_member(conn, member)
                await self._event(conn, conference, member_event(conference, member, base, now))
            conference.state, conference.completed_time, conference.active_members = "completed", now, 0
            await store.save_conference(conn, conference)
            await self._event(conn, conference, conference_event(conference, base, now))
        self.calls.signalling.close_mix(conference.id)  # stops its audio: `done` follows `completed`
        self.calls.on_events()

    def _mix(self, conference: Conference, member: Member, *, strict: bool = False) -> None:
        """Put the member's call in the conference's mix with the rights it has now."""
        speaks, hears = rights(conference, member)
        try:
            self.calls.signalling.mix_call(conference.id, member.call_id, speaks=speaks, hears=hears)
        except MediaUnavailable:
            if strict:
                raise  # its call ended meanwhile: its end takes it out

    def _tone(self, conference_id: str, samples: Any) -> None:
        with contextlib.suppress(MediaUnavailable):
            self.calls.signalling.play_to_mix(conference_id, FilePlayer(samples), lambda: None)

    async def _event(self, conn: AsyncConnection, conference: Conference, payload: dict[str, Any]) -> None:
        """Conference events go to its own callback, in order: its outbox stream is its id."""
        await enqueue_for(conn, conference, conference.id, payload, utcnow())

    def _base(self, user_id: str) -> str:
        return self.calls.user_base(user_id)


def _call_not_found(call_id: str) -> ApiError:
    return ApiError(404, "call-not-found", f"The call {call_id} could not be found", field="callId")


# What a request may change (and `_copy_given` copies when given).
CONFERENCE_SETTINGS = (
    "callback_url",
    "callback_http_method",
    "callback_timeout",
    "fallback_url",
    "tag",
    "mute",
    "hold",
)
MEMBER_SETTINGS = ("join_tone", "leaving_tone", "mute", "hold")


def _copy_given(change: object, target: object, names: tuple[str, ...]) -> None:
    """The fields a request gave (None: not given) onto the conference or member they change."""
    for name in names:
        value = getattr(change, name)
        if value is not None:
            setattr(target, name, value)
