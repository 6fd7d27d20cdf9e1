"""Bridges (spec §3): at most two calls that hear each other, and what a bridge request may say."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .clock import iso
from .coerce import as_bool, present, require_object
from .errors import ApiError, validation_error
from .ids import is_plausible_id

MAX_CALLS = 2


@dataclass
class Bridge:
    id: str
    user_id: str
    created_time: datetime
    state: str = "created"  # created, active, hold, completed
    bridge_audio: bool = True
    call_ids: list[str] = field(default_factory=list)
    activated_time: datetime | None = None
    completed_time: datetime | None = None


@dataclass(frozen=True)
class BridgeChange:
    bridge_audio: bool | None = None
    call_ids: list[str] | None = None  # None: membership unchanged; []: everyone leaves


def parse_bridge(raw: Any, bridge_id: str = "new") -> BridgeChange:
    body = require_object(raw)
    audio = as_bool(body["bridgeAudio"], "bridgeAudio", "bridge") if present(body, "bridgeAudio") else None
    call_ids = None
    if present(body, "callIds"):
        value = body["callIds"]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise validation_error("callIds", "must be a list of call ids", "bridge")
        call_ids = list(dict.fromkeys(value))  # a call named twice is one call
        if len(call_ids) > MAX_CALLS:
            raise ApiError(
                403,
                "bridge-callIds-overflow",
                f"Only two calls are allowed in a bridge {bridge_id}",
                field="callIds",
            )
        for call_id in call_ids:
            if not is_plausible_id(call_id):
                raise ApiError(
                    404, "call-not-found", f"The call {call_id} could not be found", field="callIds"
                )
    return BridgeChange(audio, call_ids)


def bridge_resource(bridge: Bridge, user_base: str) -> dict[str, Any]:
    uri = f"{user_base}/bridges/{bridge.id}"
    resource: dict[str, Any] = {
        "id": bridge.id,
        "state": bridge.state,
        "bridgeAudio": bridge.bridge_audio,
        "callIds": bridge.call_ids,
        "calls": f"{uri}/calls",
        "createdTime": iso(bridge.created_time),
        "activatedTime": iso(bridge.activated_time),
        "completedTime": iso(bridge.completed_time),
    }
    return {key: value for key, value in resource.items() if value is not None}
