"""Conferences and their members (spec §4): what a request may say, how they are shown, their events.

A conference is `created` until its first member joins, `active` while it has members, and `completed`
when its last member leaves or the API ends it; a completed conference cannot be used again. What a
member may do follows from its own `mute`/`hold` and the conference's (`rights`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import addresses
from .call import CALLBACK_TIMEOUT_MAX, HTTP_METHODS, TAG_MAX, call_uri, validate_url
from .clock import iso
from .coerce import as_bool, as_enum, as_int_in_range, as_str, present, require_object
from .errors import ApiError, missing_property, validation_error

MAX_MEMBERS = 20
PROFILES = ("interpret_digits", "passthru_digits")
RESOURCE = "conference"
MEMBER = "member"


@dataclass
class Conference:
    id: str
    user_id: str
    from_: str
    created_time: datetime
    state: str = "created"  # created, active, completed
    callback_url: str | None = None
    callback_http_method: str = "POST"
    callback_timeout: int = CALLBACK_TIMEOUT_MAX
    fallback_url: str | None = None
    profile: str = "interpret_digits"
    tag: str | None = None
    mute: bool = False
    hold: bool = False
    completed_time: datetime | None = None
    active_members: int = 0  # counted from the members, not stored


@dataclass
class Member:
    id: str
    conference_id: str
    call_id: str
    added_time: datetime
    state: str = "active"  # active, completed
    mute: bool = False
    hold: bool = False
    join_tone: bool = False
    leaving_tone: bool = False
    removed_time: datetime | None = None


def rights(conference: Conference, member: Member) -> tuple[bool, bool]:
    """(speaks, hears): muted members are not heard, held ones neither hear nor are heard; the
    conference's own mute and hold apply to everyone on top of each member's."""
    hold = member.hold or conference.hold
    return not (hold or member.mute or conference.mute), not hold


@dataclass
class KeypadLevels:
    """A member's own volume and noise-gate steps, moved with the keypad under `interpret_digits`."""

    talk: int = 0  # -4..4: how loud the others hear the member
    listen: int = 0  # -4..4: how loud the member hears the conference
    gate: int = 0  # 0..4: how much quiet sound (noise) is kept out of what the member says


# The spec's keypad for `interpret_digits`: 1-3 talk volume down/reset/up, 4-6 receive volume, 7-9 mic
# sensitivity up (more noise, a lower gate)/reset/down; 0 toggles mute, * toggles hold (nothing heard, not
# heard), # leaves. Any other key (A-D) does nothing, but the conference still takes it.
LEVEL_KEYS = {
    "1": ("talk", -1),
    "2": ("talk", 0),
    "3": ("talk", 1),
    "4": ("listen", -1),
    "5": ("listen", 0),
    "6": ("listen", 1),
    "7": ("gate", -1),
    "8": ("gate", 0),
    "9": ("gate", 1),
}
ACTION_KEYS = {"0": "mute", "*": "hold", "#": "leave"}


def press(levels: KeypadLevels, digit: str) -> str | None:
    """What a key does: moves one of `levels` (returns "levels"), or names an action (mute, hold, leave)."""
    if digit in ACTION_KEYS:
        return ACTION_KEYS[digit]
    if digit not in LEVEL_KEYS:
        return None
    name, step = LEVEL_KEYS[digit]
    low, high = (0, 4) if name == "gate" else (-4, 4)
    value = 0 if step == 0 else min(high, max(low, getattr(levels, name) + step))
    setattr(levels, name, value)
    return "levels"


# -- requests -----------------------------------------------------------------------------------------------


@dataclass
class ConferenceChange:
    """A create (with `from_`) or an update; None leaves a field as it is."""

    from_: str | None = None
    callback_url: str | None = None
    callback_http_method: str | None = None
    callback_timeout: int | None = None
    fallback_url: str | None = None
    profile: str | None = None
    tag: str | None = None
    state: str | None = None
    mute: bool | None = None
    hold: bool | None = None


def parse_create_conference(raw: Any) -> ConferenceChange:
    body = require_object(raw)
    if not present(body, "from"):
        raise missing_property("from", RESOURCE)
    from_ = as_str(body["from"], "from", RESOURCE).strip()
    if not addresses.is_e164(from_):
        raise validation_error(
            "from", f"value {from_!r} is an invalid phone number: use E.164, like +19195551212", RESOURCE
        )
    change = _callback_fields(body)
    change.from_ = from_
    if present(body, "profile"):
        change.profile = as_enum(body["profile"], "profile", PROFILES, RESOURCE)
    return change


def parse_update_conference(raw: Any) -> ConferenceChange:
    body = require_object(raw)
    change = _callback_fields(body)
    if present(body, "state"):
        change.state = as_enum(body["state"], "state", ("completed",), RESOURCE)
    for name in ("mute", "hold"):
        if present(body, name):
            setattr(change, name, as_bool(body[name], name, RESOURCE))
    return change


def _callback_fields(body: dict[str, Any]) -> ConferenceChange:
    change = ConferenceChange()
    if present(body, "callbackUrl"):
        change.callback_url = validate_url(body["callbackUrl"], "callbackUrl", RESOURCE)
    if present(body, "callbackHttpMethod"):
        change.callback_http_method = as_enum(
            body["callbackHttpMethod"], "callbackHttpMethod", HTTP_METHODS, RESOURCE
        )
    if present(body, "callbackTimeout"):
        change.callback_timeout = as_int_in_range(
            body["callbackTimeout"], "callbackTimeout", 1, CALLBACK_TIMEOUT_MAX, RESOURCE
        )
    if present(body, "fallbackUrl"):
        change.fallback_url = validate_url(body["fallbackUrl"], "fallbackUrl", RESOURCE)
    if present(body, "tag"):
        change.tag = as_str(body["tag"], "tag", RESOURCE, max_len=TAG_MAX)
    return change


@dataclass
class MemberChange:
    """An add (with `call_id`) or an update (`state: completed` removes); None leaves a field as it is."""

    call_id: str | None = None
    state: str | None = None
    join_tone: bool | None = None
    leaving_tone: bool | None = None
    mute: bool | None = None
    hold: bool | None = None


def parse_add_member(raw: Any) -> MemberChange:
    body = require_object(raw)
    if not present(body, "callId"):
        raise missing_property("callId", MEMBER)
    change = _member_flags(body)
    change.call_id = as_str(body["callId"], "callId", MEMBER, max_len=64)
    return change


def parse_update_member(raw: Any) -> MemberChange:
    body = require_object(raw)
    change = _member_flags(body)
    if present(body, "state"):
        change.state = as_enum(body["state"], "state", ("completed",), MEMBER)
    return change


def _member_flags(body: dict[str, Any]) -> MemberChange:
    change = MemberChange()
    for name, attribute in (
        ("joinTone", "join_tone"),
        ("leavingTone", "leaving_tone"),
        ("mute", "mute"),
        ("hold", "hold"),
    ):
        if present(body, name):
            setattr(change, attribute, as_bool(body[name], name, MEMBER))
    return change


def conference_not_found(conference_id: str) -> ApiError:
    return ApiError(404, "conference-not-found", f"The conference {conference_id} could not be found")


def member_not_found(member_id: str) -> ApiError:
    return ApiError(
        404, "conference-member-not-found", f"The conference member {member_id} could not be found"
    )


def invalid_state(conference: Conference) -> ApiError:
    return ApiError(
        403,
        "conference-error",
        f"Unable to update conference {conference.id}. Invalid conference state {conference.state}",
    )


# -- resources ----------------------------------------------------------------------------------------------


def conference_uri(user_base: str, conference_id: str) -> str:
    return f"{user_base}/conferences/{conference_id}"


def member_uri(user_base: str, member: Member) -> str:
    return f"{conference_uri(user_base, member.conference_id)}/members/{member.id}"


def conference_resource(conference: Conference, user_base: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "id": conference.id,
        "state": conference.state,
        "from": conference.from_,
        "createdTime": iso(conference.created_time),
        "completedTime": iso(conference.completed_time),
        "activeMembers": conference.active_members,
        "hold": conference.hold,
        "mute": conference.mute,
        "profile": conference.profile,
        "callbackUrl": conference.callback_url,
        "callbackHttpMethod": conference.callback_http_method,
        "callbackTimeout": conference.callback_timeout,
        "fallbackUrl": conference.fallback_url,
        "tag": conference.tag,
        "members": f"{conference_uri(user_base, conference.id)}/members",
    }
    return {key: value for key, value in resource.items() if value is not None}


def member_resource(member: Member, user_base: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "id": member.id,
        "state": member.state,
        "mute": member.mute,
        "hold": member.hold,
        "joinTone": member.join_tone,
        "leavingTone": member.leaving_tone,
        "addedTime": iso(member.added_time),
        "removedTime": iso(member.removed_time),
        "call": call_uri(user_base, member.call_id),
    }
    return {key: value for key, value in resource.items() if value is not None}


# -- events (to the conference's callbackUrl) ---------------------------------------------------------------


def _event(
    event_type: str, conference: Conference, user_base: str, at: datetime, **fields: Any
) -> dict[str, Any]:
    """The common fields of every conference event; the conference's tag rides along (the audio's, if it
    has one, on audio events)."""
    payload: dict[str, Any] = {
        "eventType": event_type,
        "conferenceId": conference.id,
        "conferenceUri": conference_uri(user_base, conference.id),
        "time": iso(at),
    }
    if conference.tag is not None:
        payload["tag"] = conference.tag
    payload.update({key: value for key, value in fields.items() if value is not None})
    return payload


def conference_event(conference: Conference, user_base: str, at: datetime) -> dict[str, Any]:
    """`conference`: `created`, or `completed` with its completedTime."""
    status = "completed" if conference.state == "completed" else "created"
    return _event(
        "conference",
        conference,
        user_base,
        at,
        status=status,
        createdTime=iso(conference.created_time),
        completedTime=iso(conference.completed_time),
    )


def member_event(conference: Conference, member: Member, user_base: str, at: datetime) -> dict[str, Any]:
    """`conference-member`: a member joined, left, or its mute or hold changed."""
    return _event(
        "conference-member",
        conference,
        user_base,
        at,
        memberId=member.id,
        memberUri=member_uri(user_base, member),
        callId=member.call_id,
        state=member.state,
        activeMembers=conference.active_members,
        hold=member.hold,
        mute=member.mute,
    )


def conference_audio_event(
    conference: Conference, user_base: str, at: datetime, kind: str, started: bool, tag: str | None
) -> dict[str, Any]:
    """`conference-playback` (a file) or `conference-speak` (a sentence), `started` then `done`."""
    payload = _event(f"conference-{kind}", conference, user_base, at, status="started" if started else "done")
    if tag is not None:
        payload["tag"] = tag
    return payload
