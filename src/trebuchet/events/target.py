"""What a callback URL says beyond where to go: Basic credentials and the `#rc=&rp=` retry fragment.

The fragment (`#rc=3&rp=ct,5xx`) is Trebuchet's opt-in retry policy, borrowed in shape from Twilio and
jambonz: `rc` retries (0-5) on the listed failure kinds (`ct` connect error, `rt` read timeout, `4xx`,
`5xx`, `all`). It is never sent on the wire.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

FAILURE_KINDS = ("ct", "rt", "4xx", "5xx")
MAX_RETRIES = 5


@dataclass(frozen=True)
class RetryPolicy:
    count: int = 0
    on: frozenset[str] = field(default_factory=frozenset)

    def allows(self, kind: str) -> bool:
        return "all" in self.on or kind in self.on


@dataclass(frozen=True)
class CallbackTarget:
    url: str  # without credentials and fragment: safe to show in logs and /errors
    authorization: str | None
    retry: RetryPolicy


def parse_target(raw: str) -> CallbackTarget:
    parts = urlsplit(raw)
    authorization = None
    if parts.username is not None:
        user = unquote(parts.username)
        password = unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        authorization = f"Basic {token}"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return CallbackTarget(url=url, authorization=authorization, retry=_retry_policy(parts.fragment))


def _retry_policy(fragment: str) -> RetryPolicy:
    if not fragment:
        return RetryPolicy()
    options = parse_qs(fragment)
    try:
        count = int(options.get("rc", ["0"])[0])
    except ValueError:
        count = 0
    count = max(0, min(count, MAX_RETRIES))
    kinds = set()
    for item in options.get("rp", []):
        kinds.update(kind.strip().lower() for kind in item.split(",") if kind.strip())
    if count and not kinds:
        kinds = {"ct"}
    return RetryPolicy(count=count, on=frozenset(kinds))
