"""Creating a resource once: `Idempotency-Key` (DECISIONS.md: on every POST that creates) for routes whose
create is a plain insert. The answer is remembered in the creating transaction, so a retry after a lost
response gets the first `Location` back instead of a second resource."""

from __future__ import annotations

import hashlib
import json

from fastapi import Request

from ..domain.errors import validation_error
from ..store.idempotency import IdempotentRequest, create_once

__all__ = ["create_once", "idempotent_request"]


def idempotent_request(request: Request, body: object) -> IdempotentRequest | None:
    """The request's key, if it sent one, with a hash of its path and body (a key reused on another
    resource or with another body is refused, never replayed)."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not key or len(key) > 255:
        raise validation_error("Idempotency-Key", "must be 1 to 255 characters", "request")
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(f"{request.url.path}\n{canonical}".encode()).hexdigest()
    return IdempotentRequest(key, digest)
