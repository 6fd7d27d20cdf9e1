"""HTTP Digest for SIP (RFC 2617, RFC 7616, RFC 3261 §22): the Authorization a UAC sends after 401/407.

Sans-IO: parse the challenge, compute the answer. MD5 and SHA-256, with `qop=auth` when offered (and
the RFC 2069 form when not). `auth-int` is not offered by the servers we meet and is refused.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from .grammar import WSP

_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


class DigestError(ValueError):
    """A challenge we cannot answer."""


@dataclass(frozen=True)
class Challenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False


def parse_challenge(value: str) -> Challenge:
    """`Digest realm="…", nonce="…", qop="auth", algorithm=MD5, opaque="…"` → Challenge."""
    scheme, _, rest = value.strip(WSP).partition(" ")
    if scheme.lower() != "digest":
        raise DigestError(f"not a Digest challenge: {scheme}")
    params = _auth_params(rest)
    if "realm" not in params or "nonce" not in params:
        raise DigestError("a Digest challenge needs realm and nonce")
    algorithm = params.get("algorithm", "MD5").upper()
    if algorithm not in _HASHES:
        raise DigestError(f"unsupported algorithm {algorithm}")
    qop = tuple(item.strip().lower() for item in params.get("qop", "").split(",") if item.strip())
    if qop and "auth" not in qop:
        raise DigestError(f"unsupported qop {params['qop']}")
    return Challenge(
        params["realm"],
        params["nonce"],
        algorithm,
        qop,
        params.get("opaque"),
        params.get("stale", "").lower() == "true",
    )


def _auth_params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    index = 0
    while index < len(text):
        while index < len(text) and text[index] in WSP + ",":
            index += 1
        eq = text.find("=", index)
        if eq < 0:
            break
        name = text[index:eq].strip(WSP).lower()
        index = eq + 1
        while index < len(text) and text[index] in WSP:
            index += 1
        if index < len(text) and text[index] == '"':
            value, index = _quoted(text, index)
        else:
            end = text.find(",", index)
            end = len(text) if end < 0 else end
            value, index = text[index:end].strip(WSP), end
        params[name] = value
    return params


def _quoted(text: str, start: int) -> tuple[str, int]:
    out = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(text[index + 1])
            index += 2
            continue
        if char == '"':
            return "".join(out), index + 1
        out.append(char)
        index += 1
    raise DigestError("unterminated quoted string in challenge")


def authorization(
    challenge: Challenge,
    *,
    method: str,
    uri: str,
    username: str,
    password: str,
    nc: int = 1,
    cnonce: str | None = None,
) -> str:
    """The value of the Authorization (or Proxy-Authorization) header answering `challenge`."""
    digest = _HASHES[challenge.algorithm]

    def h(text: str) -> str:
        return digest(text.encode()).hexdigest()

    ha1 = h(f"{username}:{challenge.realm}:{password}")
    ha2 = h(f"{method}:{uri}")
    fields = [
        f'username="{username}"',
        f'realm="{challenge.realm}"',
        f'nonce="{challenge.nonce}"',
        f'uri="{uri}"',
        f"algorithm={challenge.algorithm}",
    ]
    if "auth" in challenge.qop:
        cnonce = cnonce or secrets.token_hex(8)
        count = f"{nc:08x}"
        response = h(f"{ha1}:{challenge.nonce}:{count}:{cnonce}:auth:{ha2}")
        fields += [f'response="{response}"', "qop=auth", f"nc={count}", f'cnonce="{cnonce}"']
    else:
        fields.append(f'response="{h(f"{ha1}:{challenge.nonce}:{ha2}")}"')
    if challenge.opaque is not None:
        fields.append(f'opaque="{challenge.opaque}"')
    return "Digest " + ", ".join(fields)
