"""Call diversion (RFC 5806 `Diversion` headers): the `diversion` object of `incomingcall` and `answer`
events (spec §8.2), and what a transfer passes on to its new leg (`diversionTreatment`, spec §2.6).

An inbound call keeps its Diversion headers as entries, newest (topmost) first: the header value as it
came, the diverting user and the header parameters. Parsing them is the SIP layer's business; this
module only reads entries.
"""

from __future__ import annotations

from typing import Any

REASONS = (
    "unknown",
    "user-busy",
    "no-answer",
    "unavailable",
    "unconditional",
    "time-of-day",
    "do-not-disturb",
    "deflection",
    "follow-me",
    "out-of-service",
    "away",
)
TREATMENTS = ("none", "propagate", "stack")


def entry(value: str, user: str | None, params: dict[str, str]) -> dict[str, Any]:
    """One Diversion header value as kept with the call."""
    return {"value": value, "user": user, "params": params}


def diversion_object(entries: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """The spec's `diversion` object from the newest diversion: `origTo` (the diverting number, or
    `Anonymous` under `privacy=full`), `reason`, `screen`, `privacy`, `counter` and `limit` as numbers,
    and any other parameter as its own key."""
    if not entries:
        return None
    params = dict(entries[0]["params"])
    privacy = params.pop("privacy", "off")
    found: dict[str, Any] = {
        "origTo": "Anonymous" if privacy == "full" else entries[0]["user"],
        "reason": params.pop("reason", "unknown"),
        "screen": params.pop("screen", "no"),
        "privacy": privacy,
    }
    for name in ("counter", "limit"):
        if name in params:
            value = params.pop(name)
            found[name] = int(value) if value.isdigit() else value
    found.update(params)
    return found


def passed_on(
    entries: list[dict[str, Any]] | None, treatment: str, *, number: str, host: str, reason: str
) -> list[str]:
    """The Diversion header values a transfer's new leg carries, newest first: none; the inbound ones
    (`propagate`); or those under a new one for the number the inbound call reached (`stack`)."""
    inbound = [item["value"] for item in entries or []]
    if treatment == "propagate":
        return inbound
    if treatment == "stack":
        return [f"<sip:{number}@{host}>;reason={reason};counter=1", *inbound]
    return []
