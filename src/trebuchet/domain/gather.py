"""DTMF gathers (spec §2.9): what a gather request may say, how digits complete one, and how it is shown.

`Collector` is the gather's whole logic as a small state machine with time passed in (no clock, no
sockets): digits go in, and out comes the reason the gather ended, or the deadline by which the next
digit must come. The engine feeds it what the far end presses and wakes it at its deadline.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .clock import iso
from .coerce import as_str, present, require_object
from .errors import validation_error

MAX_DIGITS_LIMIT = 30
INTER_DIGIT_TIMEOUT_DEFAULT, INTER_DIGIT_TIMEOUT_MAX = 5.0, 30.0
TERMINATING_DEFAULT = "#"
DIGITS = re.compile(r"^[0-9*#A-Da-d]*$")
REASONS = ("max-digits", "terminating-digit", "inter-digit-timeout", "hung-up", "cancelled")


@dataclass(frozen=True)
class GatherRules:
    max_digits: int = MAX_DIGITS_LIMIT
    inter_digit_timeout: float = INTER_DIGIT_TIMEOUT_DEFAULT
    terminating_digits: str = TERMINATING_DEFAULT


@dataclass(frozen=True)
class CreateGather:
    rules: GatherRules
    tag: str | None = None
    prompt: dict[str, Any] | None = None


@dataclass
class Gather:
    id: str
    call_id: str
    user_id: str
    rules: GatherRules
    created_time: datetime
    state: str = "started"
    reason: str | None = None
    digits: str = ""
    tag: str | None = None
    prompt: dict[str, Any] | None = None
    completed_time: datetime | None = None


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool):
        raise validation_error(field, "must be a number", "gather")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise validation_error(field, "must be a number", "gather") from None
    if not math.isfinite(number):
        raise validation_error(field, "must be a number", "gather")
    return number


def parse_create_gather(raw: Any) -> CreateGather:
    body = require_object(raw)
    max_digits = MAX_DIGITS_LIMIT
    if present(body, "maxDigits"):
        value = _number(body["maxDigits"], "maxDigits")
        if value != int(value) or not 1 <= value <= MAX_DIGITS_LIMIT:
            raise validation_error(
                "maxDigits", f"must be a whole number from 1 to {MAX_DIGITS_LIMIT}", "gather"
            )
        max_digits = int(value)
    timeout = INTER_DIGIT_TIMEOUT_DEFAULT
    if present(body, "interDigitTimeout"):
        timeout = _number(body["interDigitTimeout"], "interDigitTimeout")
        if not 0 < timeout <= INTER_DIGIT_TIMEOUT_MAX:
            raise validation_error(
                "interDigitTimeout", f"must be more than 0 and at most {INTER_DIGIT_TIMEOUT_MAX:g}", "gather"
            )
    terminating = TERMINATING_DEFAULT
    if present(body, "terminatingDigits"):
        terminating = as_str(body["terminatingDigits"], "terminatingDigits", "gather", max_len=16)
        if not DIGITS.match(terminating):
            raise validation_error("terminatingDigits", "may contain only 0-9, *, # and A-D", "gather")
        terminating = terminating.upper()
    tag = as_str(body["tag"], "tag", "gather") if present(body, "tag") else None
    prompt = None
    if present(body, "prompt"):
        if not isinstance(body["prompt"], dict):
            raise validation_error("prompt", "must be an object", "gather")
        prompt = body["prompt"]
    return CreateGather(GatherRules(max_digits, timeout, terminating), tag, prompt)


def parse_update_gather(raw: Any) -> str:
    """The only update a gather takes: `{"state": "completed"}` (stop it)."""
    body = require_object(raw)
    state = body.get("state")
    if not isinstance(state, str) or state.lower() != "completed":
        raise validation_error("state", "must be completed (the only change a gather accepts)", "gather")
    return "completed"


class Collector:
    """One gather's digits. `press` and `expired` say why it ended, or None while it goes on."""

    def __init__(self, rules: GatherRules, now: float) -> None:
        self.rules = rules
        self.digits = ""
        self.deadline = now + rules.inter_digit_timeout  # the wait for the first digit counts too

    def press(self, digit: str, now: float) -> str | None:
        digit = digit.upper()
        if digit in self.rules.terminating_digits:
            return "terminating-digit"
        self.digits += digit
        if len(self.digits) >= self.rules.max_digits:
            return "max-digits"
        self.deadline = now + self.rules.inter_digit_timeout
        return None

    def expired(self, now: float) -> str | None:
        return "inter-digit-timeout" if now >= self.deadline else None


def gather_resource(gather: Gather, call_url: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "id": gather.id,
        "state": gather.state,
        "reason": gather.reason,
        "digits": gather.digits if gather.state == "completed" else None,
        "call": call_url,
        "createdTime": iso(gather.created_time),
        "completedTime": iso(gather.completed_time),
    }
    return {key: value for key, value in resource.items() if value is not None}
