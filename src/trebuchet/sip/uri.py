"""SIP and SIPS URIs (RFC 3261 §19.1) plus an opaque holder for every other scheme.

Components are stored *unescaped* (``%HH`` decoded exactly once), so two URIs that differ only
in escaping compare equal, and ``str()`` re-escapes whatever the grammar requires. Non-SIP URIs
(``tel:``, ``http:``, RFC 4475 ``unkscm``...) are kept as :class:`AbsoluteUri` with their raw
text: the parser accepts them and the layer above answers 416 if it cannot use them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from .errors import ParseError
from .grammar import ALPHA, ALPHANUM, HEXDIG, UNRESERVED, is_digits, only

# RFC 3261 §25.1 character classes for the pieces of a SIP URI ("%" admits escapes).
_USER_SAFE = UNRESERVED + "&=+$,;?/"
_PASSWORD_SAFE = UNRESERVED + "&=+$,"
_PARAM_SAFE = UNRESERVED + "[]/:&+$"
_HNV_SAFE = UNRESERVED + "[]/?:+$"
_HOST_CHARS = ALPHANUM + "-._"
_SCHEME_CHARS = ALPHANUM + "+-."
# Characters that may appear in the opaque part of an absoluteURI (uric, roughly RFC 2396).
_OPAQUE_CHARS = UNRESERVED + ";/?:@&=+$,%[]#"

Params = tuple[tuple[str, str | None], ...]


def unescape(text: str) -> str:
    """Decode ``%HH`` escapes once; ``%00`` becomes a NUL character, never a terminator.

    Escaped octets are reassembled as UTF-8; invalid UTF-8 survives as surrogate escapes so the
    original octets come back out on serialisation.
    """
    if "%" not in text:
        return text
    out = bytearray()
    i = 0
    n = len(text)
    while i < n:
        j = text.find("%", i)
        if j < 0:
            out += text[i:].encode("utf-8", "surrogateescape")
            break
        out += text[i:j].encode("utf-8", "surrogateescape")
        hh = text[j + 1 : j + 3]
        if len(hh) != 2 or hh[0] not in HEXDIG or hh[1] not in HEXDIG:
            raise ParseError(f"bad %-escape in URI component: {text[j : j + 3]!r}")
        out.append(int(hh, 16))
        i = j + 3
    return out.decode("utf-8", "surrogateescape")


def escape(text: str, safe: str) -> str:
    """Percent-encode every character of ``text`` outside ``safe`` (``%`` itself is never safe)."""
    if only(text, safe):
        return text
    out: list[str] = []
    for c in text:
        if c in safe:
            out.append(c)
        else:
            out.extend(f"%{b:02X}" for b in c.encode("utf-8", "surrogateescape"))
    return "".join(out)


def _params_tuple(value: object) -> Params:
    if isinstance(value, dict):
        return tuple((str(k), None if v is None else str(v)) for k, v in value.items())
    return tuple((str(k), None if v is None else str(v)) for k, v in value)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class SipUri:
    """A ``sip:`` or ``sips:`` URI with unescaped components.

    ``params`` and ``headers`` keep their order (tuples of pairs); a parameter without a value
    (``;lr``) has value ``None``. Build one in code with keywords, e.g.
    ``SipUri(host="example.com", user="alice", params={"transport": "tcp"})``.
    """

    host: str
    user: str | None = None
    port: int | None = None
    params: Params = field(default=())
    headers: tuple[tuple[str, str], ...] = field(default=())
    password: str | None = None
    scheme: str = "sip"

    def __post_init__(self) -> None:
        if not isinstance(self.params, tuple):
            object.__setattr__(self, "params", _params_tuple(self.params))
        if not isinstance(self.headers, tuple):
            hdrs = self.headers.items() if isinstance(self.headers, dict) else self.headers
            object.__setattr__(self, "headers", tuple((str(k), str(v)) for k, v in hdrs))

    @property
    def secure(self) -> bool:
        """True for ``sips:``, which demands TLS on every hop (RFC 3261 §26.2.2)."""
        return self.scheme == "sips"

    def param(self, name: str, default: str | None = None) -> str | None:
        """Value of URI parameter ``name`` (case-insensitive); ``default`` if absent or valueless."""
        lname = name.lower()
        for n, v in self.params:
            if n.lower() == lname:
                return default if v is None else v
        return default

    def has_param(self, name: str) -> bool:
        """Whether parameter ``name`` is present at all (``;lr`` has no value but is present)."""
        lname = name.lower()
        return any(n.lower() == lname for n, _ in self.params)

    def __str__(self) -> str:
        parts = [self.scheme, ":"]
        if self.user is not None:
            parts.append(escape(self.user, _USER_SAFE))
            if self.password is not None:
                parts.append(":")
                parts.append(escape(self.password, _PASSWORD_SAFE))
            parts.append("@")
        parts.append(self.host)
        if self.port is not None:
            parts.append(f":{self.port}")
        for name, value in self.params:
            parts.append(";")
            parts.append(escape(name, _PARAM_SAFE))
            if value is not None:
                parts.append("=")
                parts.append(escape(value, _PARAM_SAFE))
        if self.headers:
            parts.append("?")
            parts.append("&".join(f"{escape(n, _HNV_SAFE)}={escape(v, _HNV_SAFE)}" for n, v in self.headers))
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class AbsoluteUri:
    """A URI in a scheme this layer does not interpret (``tel:``, ``http:``, ``urn:``...).

    Kept verbatim so a proxy can forward it and a UAS can answer 416 Unsupported URI Scheme.
    ``scheme`` is lower-cased for easy comparison; ``text`` is exactly what was received.
    """

    scheme: str
    text: str

    @property
    def secure(self) -> bool:
        """Never implies TLS: only ``sips:`` does."""
        return False

    def __str__(self) -> str:
        return self.text


Uri = SipUri | AbsoluteUri


def parse_host(text: str) -> str:
    """Validate a host (hostname, IPv4 address or bracketed IPv6 reference) and return it."""
    if not text:
        raise ParseError("empty host")
    if text[0] == "[":
        if text[-1] != "]":
            raise ParseError(f"unterminated IPv6 reference: {text[:60]!r}")
        try:
            ipaddress.IPv6Address(text[1:-1])
        except ValueError:
            raise ParseError(f"bad IPv6 reference: {text[:60]!r}") from None
        return text
    if not only(text, _HOST_CHARS):
        raise ParseError(f"bad host: {text[:60]!r}")
    return text


def parse_port(text: str) -> int:
    """A port number 0-65535; anything else (empty, signed, huge) is a ParseError."""
    if len(text) > 5 or not is_digits(text) or int(text) > 65535:
        raise ParseError(f"bad port: {text[:20]!r}")
    return int(text)


def parse_hostport(text: str) -> tuple[str, int | None]:
    """Split and validate ``host[:port]`` (IPv6 hosts keep their brackets)."""
    if text[:1] != "[":
        host, colon, port = text.partition(":")
        if not host or host.strip(_HOST_CHARS):
            raise ParseError(f"bad host: {host[:60]!r}")
        return host, (parse_port(port) if colon else None)
    close = text.find("]")
    if close < 0:
        raise ParseError(f"unterminated IPv6 reference: {text[:60]!r}")
    host = parse_host(text[: close + 1])
    rest = text[close + 1 :]
    if not rest:
        return host, None
    if rest[0] != ":":
        raise ParseError(f"junk after IPv6 reference: {text[:60]!r}")
    return host, parse_port(rest[1:])


_USERINFO_OK = _USER_SAFE + "%:"
_PARAM_OK = _PARAM_SAFE + "%"
_PASSWORD_OK = _PASSWORD_SAFE + "%"


def _parse_sip(scheme: str, rest: str) -> SipUri:
    # Written for the common case (no escapes, no password, no IPv6): plain str methods only,
    # because a typical INVITE carries four or five URIs.
    user: str | None = None
    password: str | None = None
    at = rest.find("@")
    if at >= 0:
        userinfo = rest[:at]
        rest = rest[at + 1 :]
        if not userinfo or userinfo.strip(_USERINFO_OK) or userinfo[0] == ":":
            raise ParseError(f"bad user part in URI: {userinfo[:60]!r}")
        if ":" in userinfo:
            user, _, password = userinfo.partition(":")
            if password.strip(_PASSWORD_OK):
                raise ParseError("bad password in URI")
            if "%" in password:
                password = unescape(password)
        else:
            user = userinfo
        if "%" in user:
            user = unescape(user)

    headers: tuple[tuple[str, str], ...] = ()
    qmark = rest.find("?")
    if qmark >= 0:
        headers = _parse_uri_headers(rest[qmark + 1 :])
        rest = rest[:qmark]

    params: Params = ()
    semi = rest.find(";")
    if semi >= 0:
        params = _parse_uri_params(rest[semi + 1 :])
        rest = rest[:semi]

    host, port = parse_hostport(rest)
    return SipUri(host, user, port, params, headers, password, scheme)


def _parse_uri_params(text: str) -> Params:
    if text.strip(_PARAM_OK + ";="):
        raise ParseError(f"bad character in URI parameters: {text[:60]!r}")
    params: list[tuple[str, str | None]] = []
    for piece in text.split(";"):
        name, eq, value = piece.partition("=")
        if not name or (eq and (not value or "=" in value)):
            raise ParseError(f"bad URI parameter: {piece[:60]!r}")
        if "%" in piece:
            params.append((unescape(name), unescape(value) if eq else None))
        else:
            params.append((name, value if eq else None))
    return tuple(params)


def _parse_uri_headers(text: str) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    for piece in text.split("&"):
        name, eq, value = piece.partition("=")
        if not name or not eq or not only(name + value, _HNV_SAFE + "%"):
            raise ParseError(f"bad URI header: {piece[:60]!r}")
        headers.append((unescape(name), unescape(value)))
    return tuple(headers)


def parse_uri(text: str) -> Uri:
    """Parse a URI as found in a Request-URI or inside ``<...>``.

    ``sip:``/``sips:`` (scheme case-insensitive) give a :class:`SipUri`; any other well-formed
    scheme gives an :class:`AbsoluteUri`. Whitespace, angle brackets and other characters no URI
    may contain raise :class:`ParseError`.
    """
    if text[:4] == "sip:":
        return _parse_sip("sip", text[4:])
    colon = text.find(":")
    if colon <= 0:
        raise ParseError(f"not a URI (no scheme): {text[:60]!r}")
    scheme = text[:colon]
    if scheme[0] not in ALPHA or not only(scheme, _SCHEME_CHARS):
        raise ParseError(f"bad URI scheme: {scheme[:40]!r}")
    lscheme = scheme.lower()
    rest = text[colon + 1 :]
    if lscheme in ("sip", "sips"):
        return _parse_sip(lscheme, rest)
    if not rest or not only(rest, _OPAQUE_CHARS):
        raise ParseError(f"bad {lscheme}: URI: {text[:60]!r}")
    return AbsoluteUri(lscheme, text)
