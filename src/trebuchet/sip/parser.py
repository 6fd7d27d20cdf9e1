"""Bytes to :class:`Request` / :class:`Response` (RFC 3261 §7), sans-IO.

Theory of operation
-------------------
1. **Frame.** Leading CRLFs (keep-alives, RFC 3261 §7.5) are skipped. The header section ends at
   the first empty line, CRLF or (liberally) bare LF. A datagram whose last header line is not
   followed by an empty line is accepted with an empty body, so such a message is judged on its
   content (RFC 4475 ``baddn``) instead of on the missing line.
2. **Decode once.** The header section is decoded as UTF-8 in one call (``surrogateescape``, so no
   octet can make decoding fail and every octet survives re-encoding). CRLF becomes LF, any
   remaining bare CR is refused, and folded lines (LF + SP/HTAB) are joined with two
   ``str.replace`` calls. The section is then split into lines; no regex is used anywhere.
3. **Start line, strictly.** Exactly single spaces between the three request-line elements
   (``lwsstart``, ``trws`` and ``lwsruri`` are refused), a token method, a URI that parses and
   carries no ``?headers`` (``escruri``) nor angle brackets (``ltgtruri``), and a version of the
   form ``SIP/d.d``. Other versions still parse, so the layer above can answer 505. Status lines
   need a 3-digit code in 100-699; the reason phrase may be empty or any UTF-8.
4. **Headers, leniently.** Whitespace around the colon is allowed, names are case-insensitive
   tokens, compact forms map to long names, and values are kept as text, verbatim.
5. **Body.** Exactly Content-Length octets after the empty line. Trailing octets are ignored
   (``dblreq``). Too few octets, a non-numeric or negative length, or conflicting lengths raise
   ParseError (``clerr``, ``ncl``, ``mcl01``). Without Content-Length the body is the rest of the
   datagram (``inv2543``). The body is never decoded.
6. **Validate what the layers above trust.** Via, From, To, Contact, Route, Record-Route, CSeq,
   Call-ID, Max-Forwards and Date are parsed eagerly. A malformed one makes the message a 400
   case, and finding that here is cheaper than in every caller. The parsed values prime the
   message's cache. Other headers stay raw strings until someone asks for them.

Semantic problems (missing mandatory headers, duplicated singletons, a CSeq method differing from
the request method, an unknown URI scheme or SIP version) are *not* parse errors. The message is
returned, and :meth:`Message.missing_mandatory` and friends let the transaction layer choose the
right response.

Every failure is a :class:`ParseError`. A last-resort guard turns any other exception into one,
so a parser bug can never crash a transport loop.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import ParseError
from .grammar import WSP, bounded_int, is_digits, is_token
from .headers import CANONICAL, Headers
from .message import Message, Request, Response
from .uri import SipUri, parse_uri
from .values import (
    NameAddr,
    Via,
    parse_call_id,
    parse_cseq,
    parse_date,
    parse_max_forwards,
    parse_name_addr,
    parse_via,
    split_list_strict,
)

# lower-case spelling (long or compact) -> (lookup key, canonical name), for one dict hit per line
_KNOWN: dict[str, tuple[str, str]] = {lower: (canon.lower(), canon) for lower, canon in CANONICAL.items()}

# Largest Content-Length we bother converting; anything longer cannot fit a datagram anyway.
_MAX_CONTENT_LENGTH = 2**31 - 1


def parse(data: bytes) -> Request | Response:
    """Parse one complete SIP message (a datagram, or a stream-framed message).

    Raises :class:`ParseError` for anything malformed and never any other exception.
    """
    try:
        return _parse(data)
    except ParseError:
        raise
    except Exception as exc:  # defensive: a bug must surface as a 400, not a crashed transport
        raise ParseError(f"malformed message ({type(exc).__name__})") from exc


def _split_head(data: bytes) -> tuple[bytes, int]:
    """Return the header section (without its terminating empty line) and the body offset."""
    crlf = data.find(b"\n\r\n")
    limit = crlf if crlf >= 0 else len(data)
    lf = data.find(b"\n\n", 0, limit + 1)
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return data[:lf], lf + 2
    if crlf >= 0:
        return data[:crlf], crlf + 3
    if data.endswith(b"\n"):
        return data[:-1], len(data)
    raise ParseError("no empty line ends the header section")


def _parse(data: bytes) -> Request | Response:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ParseError("parse() needs bytes")
    data = bytes(data)
    if data[:1] in (b"\r", b"\n"):
        data = data.lstrip(b"\r\n")
    if not data:
        raise ParseError("empty message")
    head, body_start = _split_head(data)

    text = head.decode("utf-8", "surrogateescape")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if text.endswith("\r"):
            text = text[:-1]
        if "\r" in text:
            raise ParseError("bare CR in the header section")
    if "\n " in text or "\n\t" in text:
        text = text.replace("\n ", " ").replace("\n\t", "\t")
    lines = text.split("\n")
    build = _start_line(lines[0])

    items: list[tuple[str, str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise ParseError(f"header line without a colon: {line[:60]!r}")
        name = name.rstrip(WSP)
        known = _KNOWN.get(name.lower())
        if known is not None:
            key, canon = known
        elif is_token(name):
            key, canon = name.lower(), name
        else:
            raise ParseError(f"bad header name: {name[:60]!r}")
        items.append((key, canon, value.strip(WSP)))

    body = _frame_body(items, data, body_start)
    msg = build(Headers._trusted(items), body)
    _validate(msg, items)
    return msg


def _frame_body(items: list[tuple[str, str, str]], data: bytes, start: int) -> bytes:
    length: int | None = None
    for key, _, value in items:
        if key == "content-length":
            if not is_digits(value):
                raise ParseError(f"Content-Length is not a non-negative number: {value[:40]!r}")
            this = bounded_int(value, _MAX_CONTENT_LENGTH, "Content-Length")
            if length is not None and this != length:
                raise ParseError("conflicting Content-Length values")
            length = this
    if length is None:
        return data[start:]
    if start + length > len(data):
        raise ParseError(f"Content-Length {length} exceeds the {len(data) - start} octets available")
    return data[start : start + length]


def _check_version(version: str) -> None:
    major, dot, minor = version[4:].partition(".")
    if version[:4].upper() != "SIP/" or not dot or not is_digits(major) or not is_digits(minor):
        raise ParseError(f"bad SIP version: {version[:40]!r}")


def _start_line(line: str) -> Callable[[Headers, bytes], Request | Response]:
    """Check the start line and return a constructor that completes the message."""
    if line[:4].upper() == "SIP/":
        parts = line.split(" ", 2)
        if len(parts) < 2:
            raise ParseError(f"bad status line: {line[:60]!r}")
        _check_version(parts[0])
        code = parts[1]
        if len(code) != 3 or not is_digits(code) or not 100 <= int(code) <= 699:
            raise ParseError(f"bad status code: {code[:40]!r}")
        reason = parts[2] if len(parts) == 3 else ""
        if not reason.isprintable() and any((c < " " and c != "\t") or c == "\x7f" for c in reason):
            raise ParseError("control character in reason phrase")
        status, version = int(code), parts[0]
        return lambda headers, body: Response(status, reason, headers, body, version)
    parts = line.split(" ")
    if len(parts) != 3 or not all(parts):
        raise ParseError(f"request line must be 'METHOD SP Request-URI SP SIP-Version': {line[:80]!r}")
    method, raw_uri, version = parts
    if not is_token(method):
        raise ParseError(f"bad method: {method[:40]!r}")
    _check_version(version)
    uri = parse_uri(raw_uri)
    if isinstance(uri, SipUri) and uri.headers:
        raise ParseError("Request-URI must not carry ?headers")
    return lambda headers, body: Request(method, uri, headers, body, version)


def _validate(msg: Message, items: list[tuple[str, str, str]]) -> None:
    """Parse the headers the upper layers rely on; prime the message's cache with the results.

    Every line of a validated header is checked, including duplicates (RFC 4475 ``multi01``
    still parses; the cache holds the first value, as the accessors would).
    """
    via: list[Via] = []
    contact: list[NameAddr] = []
    route: list[NameAddr] = []
    record_route: list[NameAddr] = []
    first: dict[str, object] = {}
    star = 0
    for key, _, value in items:
        if key not in _EAGER:
            continue
        if key == "via":
            for v in split_list_strict(value, "Via"):
                via.append(parse_via(v))
        elif key == "from" or key == "to":
            parsed: object = parse_name_addr(value, "From" if key == "from" else "To")
            if key not in first:
                first[key] = parsed
        elif key == "cseq":
            parsed = parse_cseq(value)
            if key not in first:
                first[key] = parsed
        elif key == "call-id":
            if key not in first:
                first[key] = parse_call_id(value)
            else:
                parse_call_id(value)
        elif key == "max-forwards":
            parsed = parse_max_forwards(value)
            if key not in first:
                first[key] = parsed
        elif key == "contact":
            if value == "*":
                star += 1
            else:
                contact.extend(parse_name_addr(v, "Contact") for v in split_list_strict(value, "Contact"))
        elif key == "route":
            route.extend(parse_name_addr(v, "Route") for v in split_list_strict(value, "Route"))
        elif key == "record-route":
            record_route.extend(
                parse_name_addr(v, "Record-Route") for v in split_list_strict(value, "Record-Route")
            )
        else:  # date
            parse_date(value)
    if star and (star > 1 or contact):
        raise ParseError("Contact: * must be the only Contact")
    cache = msg._cache
    cache["via"] = via
    cache["contact"] = contact
    cache["route"] = route
    cache["record-route"] = record_route
    cache["from"] = first.get("from")
    cache["to"] = first.get("to")
    cache["cseq"] = first.get("cseq")
    cache["call-id"] = first.get("call-id")
    cache["max-forwards"] = first.get("max-forwards")


_EAGER = frozenset(
    ("via", "from", "to", "cseq", "call-id", "max-forwards", "contact", "route", "record-route", "date")
)
