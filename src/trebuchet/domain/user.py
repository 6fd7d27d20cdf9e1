"""Users and their API credentials.

A user authenticates with HTTP Basic `token:secret`. The token is the public half and is stored as is;
the secret is 256 random bits, shown once, and stored only as a salted SHA-256. A slow password hash
would add no safety for a secret of that entropy and would cost milliseconds on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from .ids import new_id, random_base32


@dataclass
class User:
    id: str
    token: str
    secret_salt: str
    secret_hash: str
    created_time: datetime
    signing_secret: str | None = None
    call_rate_limit: float | None = None
    api_rate_limit: int | None = None

    def check_secret(self, secret: str) -> bool:
        return hmac.compare_digest(hash_secret(self.secret_salt, secret), self.secret_hash)


def hash_secret(salt: str, secret: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def new_credentials() -> tuple[str, str, str, str]:
    """(userId, token, secret, salt) for a new user."""
    return new_id("user"), new_id("token"), random_base32(32), secrets.token_hex(16)
