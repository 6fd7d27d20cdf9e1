"""`POST /calls/{id}/dtmf` (spec §2.8): which digit strings may be sent into a call."""

from __future__ import annotations

import re
from typing import Any

from .coerce import as_str, require_object
from .errors import missing_property, validation_error

DTMF_OUT_MAX = 92
DTMF_OUT = re.compile(r"^[A-D0-9#*,wW]+$")


def parse_dtmf_out(raw: Any) -> str:
    """The `dtmfOut` string: 1-92 of 0-9, *, #, A-D and the pauses `,` `w` (0.5 s) and `W` (1 s)."""
    body = require_object(raw)
    value = body.get("dtmfOut")
    if value is None:
        raise missing_property("dtmfOut", "call")
    digits = as_str(value, "dtmfOut")
    if not digits or len(digits) > DTMF_OUT_MAX:
        raise validation_error("dtmfOut", f"must be 1 to {DTMF_OUT_MAX} characters")
    if not DTMF_OUT.match(digits):
        raise validation_error("dtmfOut", "may contain only 0-9, *, #, A-D and the pauses , w W")
    return digits
