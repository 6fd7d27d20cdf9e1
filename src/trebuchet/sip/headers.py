"""The ordered, case-insensitive header container of a SIP message.

Headers are kept as received: one entry per header line, in order, under a canonical name (long
form for compact and odd-case spellings of known headers, the name as written otherwise) with the
value as text. Splitting comma-separated lists is done on read (:meth:`Headers.get_all`) because
only the caller knows which values it will look at; keeping lines intact keeps unknown headers
byte-exact and makes serialisation trivial.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .grammar import WSP, split_outside

# RFC 3261 §7.3.3 and later RFCs: single-letter compact forms.
COMPACT_FORMS: dict[str, str] = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
    "o": "Event",
    "r": "Refer-To",
    "b": "Referred-By",
    "x": "Session-Expires",
    "u": "Allow-Events",
    "a": "Accept-Contact",
    "j": "Reject-Contact",
    "d": "Request-Disposition",
    "y": "Identity",
    "n": "Identity-Info",
}

_KNOWN = [
    "Accept",
    "Accept-Contact",
    "Accept-Encoding",
    "Accept-Language",
    "Alert-Info",
    "Allow",
    "Allow-Events",
    "Authentication-Info",
    "Authorization",
    "Call-ID",
    "Call-Info",
    "Contact",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-Type",
    "CSeq",
    "Date",
    "Error-Info",
    "Event",
    "Expires",
    "From",
    "Identity",
    "Identity-Info",
    "In-Reply-To",
    "Max-Forwards",
    "MIME-Version",
    "Min-Expires",
    "Min-SE",
    "Organization",
    "P-Asserted-Identity",
    "P-Preferred-Identity",
    "Path",
    "Priority",
    "Privacy",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Require",
    "RAck",
    "Reason",
    "Record-Route",
    "Refer-To",
    "Referred-By",
    "Reject-Contact",
    "Replaces",
    "Reply-To",
    "Request-Disposition",
    "Require",
    "Retry-After",
    "Route",
    "RSeq",
    "Server",
    "Service-Route",
    "Session-Expires",
    "Subject",
    "Subscription-State",
    "Supported",
    "Timestamp",
    "To",
    "Unsupported",
    "User-Agent",
    "Via",
    "Warning",
    "WWW-Authenticate",
]

# lower-case spelling (long or compact) -> canonical long name
CANONICAL: dict[str, str] = {name.lower(): name for name in _KNOWN}
CANONICAL.update(COMPACT_FORMS)

# Headers whose values are comma-separated lists (RFC 3261 §7.3.1). Others, e.g. Date or
# WWW-Authenticate, legitimately contain commas and are never split.
LIST_HEADERS = frozenset(
    [
        "via",
        "contact",
        "route",
        "record-route",
        "accept",
        "accept-encoding",
        "accept-language",
        "alert-info",
        "allow",
        "allow-events",
        "call-info",
        "content-encoding",
        "content-language",
        "error-info",
        "in-reply-to",
        "proxy-require",
        "require",
        "supported",
        "unsupported",
        "warning",
        "path",
        "service-route",
        "accept-contact",
        "reject-contact",
        "p-asserted-identity",
        "p-preferred-identity",
    ]
)


def canonical_name(name: str) -> str:
    """Long canonical spelling of a known header name (``v`` -> ``Via``); others unchanged."""
    return CANONICAL.get(name.lower(), name)


def header_key(name: str) -> str:
    """The case-insensitive lookup key of a header name (compact forms fold to the long form)."""
    lower = name.lower()
    canon = CANONICAL.get(lower)
    return canon.lower() if canon is not None else lower


def split_values(value: str) -> list[str]:
    """Split a list header value on top-level commas, dropping empty elements and whitespace."""
    return [v for v in (p.strip(WSP) for p in split_outside(value, ",")) if v]


class Headers:
    """Ordered multi-map of header name -> text value, case-insensitive on names.

    ``version`` increases on every mutation so that messages can cache parsed structured values
    (Via, From...) and notice when they go stale.
    """

    __slots__ = ("_items", "version")

    def __init__(self, items: Iterable[tuple[str, str]] | Headers | None = None) -> None:
        # Each entry: (key, canonical name, value).
        self._items: list[tuple[str, str, str]] = []
        self.version = 0
        if items is not None:
            for name, value in items:
                self.add(name, value)

    @classmethod
    def _trusted(cls, items: list[tuple[str, str, str]]) -> Headers:
        """Adopt already-normalised entries from the parser without re-checking them."""
        self = cls.__new__(cls)
        self._items = items
        self.version = 0
        return self

    @staticmethod
    def _entry(name: str, value: str) -> tuple[str, str, str]:
        value = value.strip(WSP)
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
            raise ValueError(f"header {name!r} would break message framing")
        lower = name.lower()
        canon = CANONICAL.get(lower)
        if canon is None:
            return lower, name, value
        return canon.lower(), canon, value

    def add(self, name: str, value: str) -> None:
        """Append a header line (after any existing ones with the same name)."""
        self._items.append(self._entry(name, value))
        self.version += 1

    def insert_first(self, name: str, value: str) -> None:
        """Prepend a header line: what a proxy does with its own Via."""
        self._items.insert(0, self._entry(name, value))
        self.version += 1

    def set(self, name: str, value: str) -> None:
        """Replace every line of ``name`` with one line (at the position of the first one)."""
        entry = self._entry(name, value)
        key = entry[0]
        out: list[tuple[str, str, str]] = []
        placed = False
        for item in self._items:
            if item[0] == key:
                if not placed:
                    out.append(entry)
                    placed = True
            else:
                out.append(item)
        if not placed:
            out.append(entry)
        self._items = out
        self.version += 1

    def remove(self, name: str) -> int:
        """Delete every line of ``name``; returns how many were removed."""
        key = header_key(name)
        before = len(self._items)
        self._items = [item for item in self._items if item[0] != key]
        self.version += 1
        return before - len(self._items)

    def get(self, name: str, default: str | None = None) -> str | None:
        """Raw value of the first line of ``name``, or ``default``."""
        key = header_key(name)
        for k, _, v in self._items:
            if k == key:
                return v
        return default

    def lines(self, name: str) -> list[str]:
        """Raw values of every line of ``name``, unsplit."""
        key = header_key(name)
        return [v for k, _, v in self._items if k == key]

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``: lines in order, list headers split on top-level commas."""
        key = header_key(name)
        values = [v for k, _, v in self._items if k == key]
        if key not in LIST_HEADERS:
            return values
        out: list[str] = []
        for v in values:
            out.extend(split_values(v))
        return out

    def count(self, name: str) -> int:
        """Number of header lines called ``name``."""
        key = header_key(name)
        return sum(1 for k, _, _ in self._items if k == key)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = header_key(name)
        return any(k == key for k, _, _ in self._items)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((n, v) for _, n, v in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[str]:
        """Lookup keys (lower-case long names) of all lines, in order."""
        return [k for k, _, _ in self._items]

    def comparable(self, skip: str | None = None) -> list[tuple[str, str]]:
        """(key, value) pairs for equality checks; names compare case-insensitively."""
        return [(k, v) for k, _, v in self._items if k != skip]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return self.comparable() == other.comparable()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({list(self)!r})"

    def copy(self) -> Headers:
        """An independent copy (messages are mutable; proxies copy before rewriting)."""
        return Headers._trusted(list(self._items))
