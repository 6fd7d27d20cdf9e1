"""Resource ids: a type prefix and 24 lowercase base32 characters from the OS CSPRNG.

120 random bits make ids unguessable, so knowing one call's id says nothing about another's.
"""

from __future__ import annotations

import base64
import secrets

PREFIXES = {
    "user": "u-",
    "call": "c-",
    "call_event": "ce-",
    "bridge": "brg-",
    "conference": "conf-",
    "member": "member-",
    "recording": "rec-",
    "transcription": "tr-",
    "gather": "gtr-",
    "application": "a-",
    "number": "n-",
    "domain": "rd-",
    "endpoint": "re-",
    "user_error": "ue-",
    "user_error_detail": "ued-",
    "outbox": "ev-",
    "token": "t-",
}


def random_base32(n_bytes: int = 15) -> str:
    """Lowercase base32 of n_bytes random bytes (15 bytes → 24 characters, no padding)."""
    return base64.b32encode(secrets.token_bytes(n_bytes)).decode("ascii").rstrip("=").lower()


def new_id(kind: str) -> str:
    """A fresh id for a resource of the given kind (a key of PREFIXES)."""
    return PREFIXES[kind] + random_base32()


def is_plausible_id(text: str) -> bool:
    """Whether `text` could be an id we issued (a prefix and base32), so junk never reaches a query."""
    prefix, sep, rest = text.partition("-")
    return (
        bool(sep)
        and prefix.isalpha()
        and prefix.islower()
        and 0 < len(rest) <= 64
        and rest.isalnum()
        and rest.isascii()
    )
