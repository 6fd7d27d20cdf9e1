"""SIP requests and responses: the in-memory form and the canonical wire form.

A message is a start line, a :class:`Headers` container (raw text values) and a ``bytes`` body.
Structured views (``msg.via``, ``msg.cseq``...) are parsed on demand and cached against the
container's ``version``, so code that only forwards a message never pays for values it does not
read, while :func:`~.parser.parse` can pre-fill the cache when it validates eagerly.

``to_bytes()`` writes CRLF line endings, canonical long header names and a Content-Length that
matches the body, so ``parse(m.to_bytes()) == m`` for every well-formed message ``m``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .headers import Headers
from .uri import Uri, parse_uri
from .values import (
    CSeq,
    NameAddr,
    Via,
    is_star_contact,
    parse_call_id,
    parse_cseq,
    parse_max_forwards,
    parse_name_addr,
    parse_name_addr_list,
    parse_via_values,
)

T = TypeVar("T")

SIP_VERSION = "SIP/2.0"

# Headers every request and response must carry (RFC 3261 §8.1.1). Max-Forwards is left out on
# purpose: RFC 2543 peers omit it (RFC 4475 inv2543) and a UAS can live without it.
MANDATORY = ("Via", "From", "To", "Call-ID", "CSeq")
# Headers that must not appear more than once (RFC 4475 multi01 is parseable but answered 400).
SINGLETONS = ("From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type")

REASON_PHRASES: dict[int, str] = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    483: "Too Many Hops",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    600: "Busy Everywhere",
    603: "Decline",
}


def _headers(value: Headers | Iterable[tuple[str, str]] | None) -> Headers:
    if isinstance(value, Headers):
        return value
    return Headers(value)


class Message:
    """What requests and responses share: version, headers, body and structured accessors."""

    __slots__ = ("_cache", "_cache_version", "body", "headers", "version")

    headers: Headers
    body: bytes
    version: str

    def _init(self, headers: Headers | Iterable[tuple[str, str]] | None, body: bytes, version: str) -> None:
        self.headers = _headers(headers)
        self.body = bytes(body)
        self.version = version
        self._cache: dict[str, Any] = {}
        self._cache_version = self.headers.version

    # ----------------------------------------------------------------- structured views

    def _structured(self, key: str, compute: Callable[[], T]) -> T:
        if self._cache_version != self.headers.version:
            self._cache = {}
            self._cache_version = self.headers.version
        try:
            return self._cache[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._cache[key] = compute()
            return value

    def _first(self, name: str, parse: Callable[[str], T]) -> T | None:
        raw = self.headers.get(name)
        return None if raw is None else parse(raw)

    @property
    def via(self) -> list[Via]:
        """Every Via value, topmost first (comma-joined values are split)."""
        return self._structured("via", lambda: parse_via_values(self.headers.lines("Via")))

    @property
    def top_via(self) -> Via | None:
        """The topmost Via: the one naming the previous hop for responses and transactions."""
        vias = self.via
        return vias[0] if vias else None

    @property
    def from_(self) -> NameAddr | None:
        return self._structured("from", lambda: self._first("From", lambda v: parse_name_addr(v, "From")))

    @property
    def to(self) -> NameAddr | None:
        return self._structured("to", lambda: self._first("To", lambda v: parse_name_addr(v, "To")))

    @property
    def call_id(self) -> str | None:
        return self._structured("call-id", lambda: self._first("Call-ID", parse_call_id))

    @property
    def cseq(self) -> CSeq | None:
        return self._structured("cseq", lambda: self._first("CSeq", parse_cseq))

    @property
    def max_forwards(self) -> int | None:
        return self._structured("max-forwards", lambda: self._first("Max-Forwards", parse_max_forwards))

    @property
    def contact(self) -> list[NameAddr]:
        """Contact addresses; empty for the ``*`` wildcard (see :attr:`contact_is_star`)."""
        return self._structured(
            "contact", lambda: parse_name_addr_list(self.headers.lines("Contact"), "Contact", allow_star=True)
        )

    @property
    def contact_is_star(self) -> bool:
        """True for ``Contact: *`` (REGISTER: remove all bindings)."""
        return is_star_contact(self.headers.lines("Contact"))

    @property
    def route(self) -> list[NameAddr]:
        return self._structured("route", lambda: parse_name_addr_list(self.headers.lines("Route"), "Route"))

    @property
    def record_route(self) -> list[NameAddr]:
        return self._structured(
            "record-route", lambda: parse_name_addr_list(self.headers.lines("Record-Route"), "Record-Route")
        )

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")

    # ----------------------------------------------------------------- semantic checks

    def missing_mandatory(self) -> list[str]:
        """Names of RFC 3261 §8.1.1 headers that are absent (RFC 4475 ``insuf``): answer 400."""
        return [name for name in MANDATORY if name not in self.headers]

    def duplicate_singletons(self) -> list[str]:
        """Names of single-valued headers that appear more than once (RFC 4475 ``multi01``)."""
        return [name for name in SINGLETONS if self.headers.count(name) > 1]

    # ----------------------------------------------------------------- wire form

    def start_line(self) -> str:
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        """Canonical wire form: CRLF, long names, Content-Length computed from the body.

        An existing Content-Length line is rewritten in place (extra ones dropped); otherwise
        one is appended, so the header order of a parsed message survives a round trip.
        """
        lines = [self.start_line()]
        length = f"Content-Length: {len(self.body)}"
        placed = False
        for key, name, value in self.headers._items:
            if key == "content-length":
                if not placed:
                    lines.append(length)
                    placed = True
            else:
                lines.append(f"{name}: {value}" if value else f"{name}:")
        if not placed:
            lines.append(length)
        lines.append("")
        lines.append("")
        return "\r\n".join(lines).encode("utf-8", "surrogateescape") + self.body

    def _same_frame(self, other: Message) -> bool:
        return (
            self.version == other.version
            and self.body == other.body
            and self.headers.comparable("content-length") == other.headers.comparable("content-length")
        )


class Request(Message):
    """A SIP request. ``uri`` may be given as text; it is parsed with :func:`parse_uri`.

    ``Request("INVITE", "sip:bob@example.com", headers=[("Via", ...), ...], body=sdp)``
    """

    __slots__ = ("method", "uri")

    def __init__(
        self,
        method: str,
        uri: Uri | str,
        headers: Headers | Iterable[tuple[str, str]] | None = None,
        body: bytes = b"",
        version: str = SIP_VERSION,
    ) -> None:
        self.method = method
        self.uri: Uri = parse_uri(uri) if isinstance(uri, str) else uri
        self._init(headers, body, version)

    def start_line(self) -> str:
        return f"{self.method} {self.uri} {self.version}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Request):
            return NotImplemented
        return self.method == other.method and self.uri == other.uri and self._same_frame(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Request({self.method!r}, {str(self.uri)!r}, headers={list(self.headers)!r}, body={self.body!r})"
        )


class Response(Message):
    """A SIP response. ``reason`` defaults to the usual phrase for ``status``."""

    __slots__ = ("reason", "status")

    def __init__(
        self,
        status: int,
        reason: str | None = None,
        headers: Headers | Iterable[tuple[str, str]] | None = None,
        body: bytes = b"",
        version: str = SIP_VERSION,
    ) -> None:
        self.status = status
        self.reason = REASON_PHRASES.get(status, "") if reason is None else reason
        self._init(headers, body, version)

    def start_line(self) -> str:
        return f"{self.version} {self.status} {self.reason}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Response):
            return NotImplemented
        return self.status == other.status and self.reason == other.reason and self._same_frame(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Response({self.status!r}, {self.reason!r}, headers={list(self.headers)!r}, body={self.body!r})"
        )
