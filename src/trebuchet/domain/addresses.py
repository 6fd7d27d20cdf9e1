"""Phone numbers, SIP URIs, callback URLs and X- headers: the shapes a call's addresses may take."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
# RFC 3261 §25.1: user part unreserved / escaped / user-unreserved; host: hostname, IPv4 or [IPv6].
_SIP_USER = r"(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+"
_HOSTNAME = r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.?"
_IPV6 = r"\[[0-9A-Fa-f:.]+\]"
_PARAMS = r"(?:;[A-Za-z0-9\-_.!~*'()%\[\]/:&+$]+(?:=[A-Za-z0-9\-_.!~*'()%\[\]/:&+$]+)?)*"
_HEADERS = r"(?:\?[A-Za-z0-9\-_.!~*'()%\[\]/:&+$=?]*)?"
SIP_URI = re.compile(
    rf"^sip:(?:(?P<user>{_SIP_USER})(?::[^@]*)?@)?(?P<host>{_HOSTNAME}|{_IPV6})(?::(?P<port>[0-9]{{1,5}}))?"
    rf"{_PARAMS}{_HEADERS}$",
    re.IGNORECASE,
)
# RFC 3261 §25.1 token characters: what a header field name may contain.
HEADER_NAME = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")


def is_e164(value: str) -> bool:
    return bool(E164.match(value))


def is_sips(value: str) -> bool:
    return value[:5].lower() == "sips:"


def is_sip_uri(value: str) -> bool:
    """True for a well-formed sip: URI (user part optional, port within 1..65535)."""
    match = SIP_URI.match(value)
    if not match:
        return False
    port = match.group("port")
    return port is None or 0 < int(port) <= 65535


def is_http_url(value: str) -> bool:
    """A callback URL must be absolute http(s) with a host; credentials and a fragment are allowed."""
    if any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return False
    return port is None or 0 < port <= 65535


def has_control_chars(value: str) -> bool:
    return any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value)
