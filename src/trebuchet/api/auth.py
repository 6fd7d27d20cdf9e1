"""HTTP Basic `token:secret` → the user, who must be the `{userId}` of the path."""

from __future__ import annotations

import base64
import binascii
import time

from fastapi import Request

from ..domain.errors import ApiError, authentication_failed
from ..domain.user import User
from ..store import users

# Token lookups are cached briefly: one indexed read per request is cheap, none is cheaper.
CACHE_SECONDS = 5.0


class Authenticator:
    def __init__(self) -> None:
        self._cache: dict[str, tuple[User, float]] = {}

    def forget(self, token: str | None = None) -> None:
        if token is None:
            self._cache.clear()
        else:
            self._cache.pop(token, None)

    async def _user_for(self, request: Request, token: str) -> User | None:
        cached = self._cache.get(token)
        now = time.monotonic()
        if cached and cached[1] > now:
            return cached[0]
        async with request.app.state.db.read() as conn:
            user = await users.user_by_token(conn, token)
        if user is not None:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token] = (user, now + CACHE_SECONDS)
        return user

    async def authenticate(self, request: Request) -> User:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise authentication_failed(
                "Authentication required: send your API token and secret as HTTP Basic"
            )
        try:
            token, sep, secret = (
                base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            raise authentication_failed("The Authorization header is not valid HTTP Basic") from None
        if not sep or not token or not token.isprintable() or len(token) > 64:
            raise authentication_failed()
        user = await self._user_for(request, token)
        if user is None or not user.check_secret(secret):
            raise authentication_failed()
        return user


async def current_user(request: Request, userId: str) -> User:
    """FastAPI dependency: authenticate, then insist the path names the token's own user."""
    user = await request.app.state.auth.authenticate(request)
    if user.id != userId:
        raise ApiError(
            401, "user-access-denied", f"User {user.id} does not have permission to access user {userId}"
        )
    request.state.user = user
    await request.app.state.limits.check_request(request, user)
    return user
