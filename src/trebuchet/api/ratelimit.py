"""Rate limits in Catapult's shapes (spec §10.3), with numbers set per user or by the server's defaults.

- Call creation: at most N calls per second for the account and for each `from` number, measured as the
  average over a 10 s window; over it, 403 `call-rate-limit`.
- Every other endpoint: at most M requests per second per user and route; over it, 429 with
  `X-RateLimit-Reset` in epoch milliseconds.

A limit of 0 means unlimited. Counts live in this process: with several API nodes each enforces its own.
"""

from __future__ import annotations

import time
from collections import deque

from fastapi import Request

from ..domain.errors import ApiError
from ..domain.user import User

CALL_WINDOW = 10.0


class RateLimits:
    def __init__(self, *, call_rate: float, api_rate: int) -> None:
        self.default_call_rate = call_rate
        self.default_api_rate = api_rate
        self._calls: dict[str, deque[float]] = {}
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}

    def _call_rate(self, user: User) -> float:
        return self.default_call_rate if user.call_rate_limit is None else user.call_rate_limit

    def _api_rate(self, user: User) -> int:
        return self.default_api_rate if user.api_rate_limit is None else user.api_rate_limit

    def check_call_create(self, user: User, from_number: str) -> None:
        """Refuse a call creation over the limit; count it otherwise."""
        limit = self._call_rate(user)
        if limit <= 0:
            return
        now = time.monotonic()
        keys = (f"user:{user.id}", f"number:{user.id}:{from_number}")
        windows = []
        for key in keys:
            window = self._calls.setdefault(key, deque())
            while window and window[0] <= now - CALL_WINDOW:
                window.popleft()
            rate = (len(window) + 1) / CALL_WINDOW
            if rate > limit:
                raise ApiError(
                    403,
                    "call-rate-limit",
                    f"You can create {limit:g} calls per 1 seconds, "
                    "calculated as the average over 10 seconds. "
                    f"Your rate is: {rate:g}",
                    category="limit",
                )
            windows.append(window)
        for window in windows:
            window.append(now)
        if len(self._calls) > 100_000:  # forget idle keys now and then
            self._calls = {key: w for key, w in self._calls.items() if w and w[-1] > now - CALL_WINDOW}

    async def check_request(self, request: Request, user: User) -> None:
        """Count one request against the user's per-route limit; 429 when over it."""
        limit = self._api_rate(user)
        if limit <= 0:
            return
        route = request.scope.get("route")
        template = getattr(route, "path", request.url.path)
        key = (user.id, f"{request.method} {template}")
        now_ms = int(time.time() * 1000)
        second = now_ms // 1000
        start, count = self._windows.get(key, (second, 0))
        if start != second:
            start, count = second, 0
        if count >= limit:
            reset = str((second + 1) * 1000)
            raise ApiError(
                429,
                "rate-limit-reached",
                f"Too many requests: the limit is {limit} per second for this endpoint; retry after {reset}",
                category="too-many-requests",
                headers={"X-RateLimit-Reset": reset},
                details=[("rateLimitResetTime", reset)],
            )
        self._windows[key] = (start, count + 1)
        if len(self._windows) > 100_000:
            self._windows = {k: v for k, v in self._windows.items() if v[0] == second}
