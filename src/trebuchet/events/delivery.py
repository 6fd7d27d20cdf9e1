"""One callback delivery: the HTTP request, its deadline, retries, the fallback URL, and the verdict.

A delivery fails on a connection error, on no answer within `callbackTimeout`, or on a non-2xx status
(DECISIONS.md "Callback delivery"). After the retries the URL's fragment allows, the event goes once to
`fallbackUrl`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

from .. import __version__
from ..store.outbox import PendingCallback
from .target import CallbackTarget, parse_target

USER_AGENT = f"BandwidthAPI/v1 (Trebuchet {__version__})"
FIRST_BACKOFF = 0.5


@dataclass
class Attempt:
    url: str
    ok: bool
    kind: str  # "ok", "ct", "rt", "4xx", "5xx", "3xx"
    detail: str


@dataclass
class Verdict:
    delivered: bool
    attempts: list[Attempt]

    @property
    def last_error(self) -> str | None:
        failures = [a for a in self.attempts if not a.ok]
        return failures[-1].detail if failures else None


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _sign(secret: str, signed: str) -> str:
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"{stamp}.{signed}".encode(), hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def build_request(
    event: PendingCallback, target: CallbackTarget
) -> tuple[str, str, dict[str, str], bytes | None]:
    """(method, url, headers, body) for one attempt, signed when the user has a signing secret."""
    headers = {"User-Agent": USER_AGENT, "X-Trebuchet-Event-Id": event.id}
    if target.authorization:
        headers["Authorization"] = target.authorization
    if event.method == "GET":
        query = urlencode([(key, _query_value(value)) for key, value in event.payload.items()])
        parts = urlsplit(target.url)
        full_query = f"{parts.query}&{query}" if parts.query else query
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, full_query, ""))
        if event.signing_secret:
            headers["X-Trebuchet-Signature"] = _sign(event.signing_secret, query)
        return "GET", url, headers, None
    body = json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False)
    headers["Content-Type"] = "application/json; charset=utf-8"
    if event.signing_secret:
        headers["X-Trebuchet-Signature"] = _sign(event.signing_secret, body)
    return "POST", target.url, headers, body.encode()


async def _send(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], body: bytes | None
) -> httpx.Response:
    """Send once; if the connection broke before any answer, send again on a fresh one.

    A pooled keep-alive connection may have been closed by the receiver just as we reuse it; that
    is not the receiver failing, so it does not count as an attempt.
    """
    try:
        response = await client.request(method, url, headers=headers, content=body)
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
        response = await client.request(method, url, headers=headers, content=body)
    await response.aread()
    return response


async def _attempt(client: httpx.AsyncClient, event: PendingCallback, target: CallbackTarget) -> Attempt:
    method, url, headers, body = build_request(event, target)
    try:
        async with asyncio.timeout(event.timeout_ms / 1000):
            response = await _send(client, method, url, headers, body)
    except TimeoutError:
        return Attempt(target.url, False, "rt", f"no answer within {event.timeout_ms} ms")
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        return Attempt(target.url, False, "ct", f"connection failed: {exc.__class__.__name__}")
    except httpx.HTTPError as exc:
        return Attempt(target.url, False, "rt", f"request failed: {exc.__class__.__name__}: {exc}")
    status = response.status_code
    if 200 <= status < 300:
        return Attempt(target.url, True, "ok", f"HTTP {status}")
    kind = f"{status // 100}xx"
    return Attempt(target.url, False, kind, f"HTTP {status}")


LEASE_MARGIN = 3.0


def worst_case_seconds(event: PendingCallback) -> float:
    """The longest one delivery of `event` can take: every retry and the fallback timing out."""
    retry = parse_target(event.url).retry
    timeout = event.timeout_ms / 1000
    backoffs = sum(FIRST_BACKOFF * 2**n for n in range(retry.count))
    fallback = timeout if event.fallback_url else 0.0
    return (retry.count + 1) * timeout + backoffs + fallback + LEASE_MARGIN


async def deliver(client: httpx.AsyncClient, event: PendingCallback) -> Verdict:
    attempts: list[Attempt] = []
    target = parse_target(event.url)
    backoff = FIRST_BACKOFF
    for retry in range(target.retry.count + 1):
        attempt = await _attempt(client, event, target)
        attempts.append(attempt)
        if attempt.ok:
            return Verdict(True, attempts)
        if retry == target.retry.count or not target.retry.allows(attempt.kind):
            break
        await asyncio.sleep(backoff)
        backoff *= 2
    if event.fallback_url:
        attempt = await _attempt(client, event, parse_target(event.fallback_url))
        attempts.append(attempt)
        if attempt.ok:
            return Verdict(True, attempts)
    return Verdict(False, attempts)
