"""Structured header values a user agent relies on: Via, name-addr, CSeq and friends.

Each parser takes the *text* of one header line (as stored in :class:`~.headers.Headers`) and
either returns a small immutable value object or raises :class:`ParseError`. The value objects
serialise back with ``str()`` in canonical form (single spaces, no optional whitespace, name-addr
always with ``<...>``), which is what the serialiser and the round-trip tests rely on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ParseError
from .grammar import (
    TOKEN,
    WSP,
    bounded_int,
    find_param,
    format_params,
    is_token,
    only,
    parse_params,
    quote,
    scan_quoted,
    split_outside,
    unquote,
)
from .uri import AbsoluteUri, SipUri, Uri, parse_host, parse_hostport, parse_uri

Params = tuple[tuple[str, str | None], ...]

CSEQ_MAX = 2**31 - 1  # RFC 3261 §8.1.1.5: "MUST be expressible as a 32-bit unsigned integer" and < 2**31


def _as_params(value: object) -> Params:
    if isinstance(value, tuple):
        return value
    if isinstance(value, dict):
        return tuple((str(k), None if v is None else str(v)) for k, v in value.items())
    return tuple((str(k), None if v is None else str(v)) for k, v in value)  # type: ignore[attr-defined]


def split_list_strict(value: str, what: str) -> list[str]:
    """Split a list header line; an empty element (``a,,b`` or a trailing comma) is an error."""
    parts = split_outside(value, ",")
    out = []
    for p in parts:
        p = p.strip(WSP)
        if not p:
            raise ParseError(f"empty element in {what} list")
        out.append(p)
    return out


class _WithParams:
    """Header parameters (``;branch=…``, ``;tag=…``) of a structured header value, looked up by name."""

    __slots__ = ()
    params: Params

    def __post_init__(self) -> None:
        if not isinstance(self.params, tuple):
            object.__setattr__(self, "params", _as_params(self.params))

    def param(self, name: str) -> str | None:
        """Value of a parameter (case-insensitive name); None if absent or valueless."""
        return find_param(self.params, name)[1]

    def has_param(self, name: str) -> bool:
        """Whether the parameter is present, with or without a value (``;rport``)."""
        return find_param(self.params, name)[0]


# --------------------------------------------------------------------------- Via


@dataclass(frozen=True, slots=True)
class Via(_WithParams):
    """One Via value: ``SIP/2.0/UDP host:port;branch=...`` (RFC 3261 §20.42)."""

    transport: str
    host: str
    port: int | None = None
    params: Params = field(default=())
    protocol: str = "SIP"
    version: str = "2.0"

    @property
    def branch(self) -> str | None:
        """The transaction id; RFC 3261 branches start with the magic cookie ``z9hG4bK``."""
        return self.param("branch")

    @property
    def received(self) -> str | None:
        return self.param("received")

    @property
    def maddr(self) -> str | None:
        return self.param("maddr")

    @property
    def ttl(self) -> int | None:
        value = self.param("ttl")
        return None if value is None else int(value)

    @property
    def rport(self) -> int | None:
        """The rport value filled in by a server (RFC 3581); None if absent or still empty."""
        value = self.param("rport")
        return None if value is None else int(value)

    @property
    def sent_by(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.protocol}/{self.version}/{self.transport} {self.sent_by}{format_params(self.params)}"


def parse_via(text: str) -> Via:
    """Parse one via-parm. Whitespace is allowed around ``/`` and ``:`` and around params."""
    semi = text.find(";")
    head = text if semi < 0 else text[:semi]
    pieces = head.split("/", 2)
    if len(pieces) != 3:
        raise ParseError(f"Via sent-protocol must be NAME/VERSION/TRANSPORT: {head[:60]!r}")
    proto = pieces[0].strip(WSP)
    version = pieces[1].strip(WSP)
    rest = pieces[2].split(None, 1)
    if len(rest) != 2:
        raise ParseError(f"Via has no sent-by: {head[:60]!r}")
    transport, sent_by = rest
    if not proto or not version or not transport or (proto + version + transport).strip(TOKEN):
        raise ParseError(f"bad Via sent-protocol: {head[:60]!r}")
    if " " in sent_by or "\t" in sent_by:
        sent_by = "".join(sent_by.split())  # SWS ":" SWS is legal between host and port
    host, port = parse_hostport(sent_by)
    if semi < 0:
        return Via(transport, host, port, (), proto, version)
    params = parse_params(text[semi:], "Via")
    for name, value in params:
        lname = name.lower()
        if lname == "branch":
            if value is None or value.strip(TOKEN):
                raise ParseError("Via branch must be a token")
        elif lname == "received" or lname == "maddr":
            parse_host(value or "")
        elif lname == "rport":
            if value is not None:
                bounded_int(value, 65535, "Via rport")
        elif lname == "ttl":
            bounded_int(value or "", 255, "Via ttl")
    return Via(transport, host, port, params, proto, version)


def parse_via_values(lines: list[str]) -> list[Via]:
    """All Via values of a message from its Via header lines, top first."""
    return [parse_via(v) for line in lines for v in split_list_strict(line, "Via")]


# --------------------------------------------------------------------------- name-addr


@dataclass(frozen=True, slots=True)
class NameAddr(_WithParams):
    """``"Display" <uri>;params`` as used by From, To, Contact, Route and Record-Route.

    ``display_name`` is None when absent and is stored decoded (no quotes, no backslashes).
    ``params`` are header parameters (``tag``, ``expires``, ``q``...), never URI parameters.
    """

    uri: Uri
    display_name: str | None = None
    params: Params = field(default=())

    @property
    def tag(self) -> str | None:
        """The dialog tag of From/To."""
        return self.param("tag")

    def __str__(self) -> str:
        display = "" if self.display_name is None else quote(self.display_name) + " "
        return f"{display}<{self.uri}>{format_params(self.params)}"


def parse_name_addr(text: str, what: str) -> NameAddr:
    """Parse ``name-addr`` or bare ``addr-spec`` followed by header parameters.

    Accepts a quoted display name with quoted-pairs, an unquoted multi-token display name and a
    token glued to ``<`` (RFC 4475 ``lwsdisp``). Refuses whitespace inside ``<...>`` (``badaspec``),
    non-token unquoted display names such as ``Bell, Alexander`` (``baddn``), and a bare addr-spec
    carrying URI headers (``regbadct``), which RFC 3261 §20 requires to be bracketed.
    """
    text = text.strip(WSP)
    if not text:
        raise ParseError(f"empty {what}")
    display: str | None = None
    if text[0] == '"':
        end = scan_quoted(text, 0)
        display = unquote(text[:end])
        lt = end
        while lt < len(text) and text[lt] in WSP:
            lt += 1
        if lt >= len(text) or text[lt] != "<":
            raise ParseError(f"{what}: quoted display name not followed by <URI>")
    else:
        lt = text.find("<")
        if lt > 0:
            raw = text[:lt].strip(WSP)
            if not only(raw, TOKEN + WSP):
                raise ParseError(f"{what}: display name must be tokens or quoted: {raw[:60]!r}")
            display = raw or None
    if lt >= 0:
        gt = text.find(">", lt)
        if gt < 0:
            raise ParseError(f"{what}: '<' without '>'")
        inner = text[lt + 1 : gt]
        if not inner or " " in inner or "\t" in inner:
            raise ParseError(f"{what}: whitespace or nothing inside <...>")
        uri = parse_uri(inner)
        params = parse_params(text[gt + 1 :], what)
        return NameAddr(uri=uri, display_name=display, params=params)
    # addr-spec: the URI ends at the first ';' (anything after is a header parameter).
    semi = text.find(";")
    spec = text if semi < 0 else text[:semi].rstrip(WSP)
    if " " in spec or "\t" in spec:
        raise ParseError(f"{what}: whitespace inside an address: {spec[:60]!r}")
    uri = parse_uri(spec)
    if (isinstance(uri, SipUri) and uri.headers) or (isinstance(uri, AbsoluteUri) and "?" in spec):
        raise ParseError(f"{what}: an address with URI headers must be enclosed in <...>")
    params = parse_params(text[semi:], what) if semi >= 0 else ()
    return NameAddr(uri=uri, params=params)


def parse_name_addr_list(lines: list[str], what: str, allow_star: bool = False) -> list[NameAddr]:
    """Parse every comma-separated name-addr in the given header lines (Contact, Route...).

    A Contact of ``*`` (only meaningful in REGISTER) is returned as an empty list; callers that
    care check :func:`is_star_contact` on the raw lines.
    """
    out: list[NameAddr] = []
    for line in lines:
        if allow_star and line.strip(WSP) == "*":
            continue
        for value in split_list_strict(line, what):
            out.append(parse_name_addr(value, what))
    return out


def is_star_contact(lines: list[str]) -> bool:
    """True when the Contact header is the wildcard ``*`` (RFC 3261 §10.2.2)."""
    return any(line.strip(WSP) == "*" for line in lines)


# --------------------------------------------------------------------------- CSeq & scalars


@dataclass(frozen=True, slots=True)
class CSeq:
    """``CSeq: 4711 INVITE`` - orders requests within a dialog and names the method."""

    number: int
    method: str

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


def parse_cseq(text: str) -> CSeq:
    """Sequence number (at most 2**31-1, leading zeros allowed) and a method token."""
    parts = text.split()
    if len(parts) != 2:
        raise ParseError(f"CSeq must be 'number method': {text[:60]!r}")
    number = bounded_int(parts[0], CSEQ_MAX, "CSeq number")
    if not is_token(parts[1]):
        raise ParseError(f"bad CSeq method: {parts[1][:60]!r}")
    return CSeq(number, parts[1])


def parse_max_forwards(text: str) -> int:
    """0-255, leading zeros allowed (``0068`` is 68)."""
    return bounded_int(text.strip(WSP), 255, "Max-Forwards")


def parse_call_id(text: str) -> str:
    """``word ["@" word]``: any printable non-space characters; ``%`` is not an escape here."""
    if not text or not text.isprintable() or " " in text or text.count("@") > 1:
        raise ParseError(f"bad Call-ID: {text[:60]!r}")
    return text


_WKDAY = frozenset(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
_MONTH = frozenset(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"])


def parse_date(text: str) -> str:
    """Check an RFC 1123 date in GMT, the only zone RFC 3261 §20.17 allows (RFC 4475 ``baddate``)."""
    parts = text.split()
    ok = len(parts) == 6 and parts[0][:-1] in _WKDAY and parts[0][-1:] == ","
    if ok:
        day, month, year, clock, zone = parts[1:]
        hms = clock.split(":")
        ok = (
            len(day) == 2
            and day.isascii()
            and day.isdigit()
            and month in _MONTH
            and len(year) == 4
            and year.isascii()
            and year.isdigit()
            and len(hms) == 3
            and all(len(x) == 2 and x.isascii() and x.isdigit() for x in hms)
            and zone == "GMT"
        )
    if not ok:
        raise ParseError(f"bad Date (must be RFC 1123 format in GMT): {text[:60]!r}")
    return text
