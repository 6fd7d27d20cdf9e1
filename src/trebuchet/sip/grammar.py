"""Character classes and tiny lexing helpers from the RFC 3261 §25 grammar.

Everything here is shared by the URI, header-value and message parsers. The helpers work on
``str`` with C-speed primitives (``str.strip`` with a character set, ``str.find``) instead of
regular expressions, because they run several times per header on the parse hot path.
"""

from __future__ import annotations

from .errors import ParseError

ALPHA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGIT = "0123456789"
ALPHANUM = ALPHA + DIGIT
HEXDIG = DIGIT + "abcdefABCDEF"
MARK = "-_.!~*'()"
UNRESERVED = ALPHANUM + MARK
# token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
TOKEN = ALPHANUM + "-.!%*_+`'~"
WSP = " \t"
_GEN_VALUE = TOKEN + "[]:"  # gen-value = token / host / quoted-string


def is_token(text: str) -> bool:
    """True when ``text`` is a non-empty RFC 3261 token.

    ``str.strip`` with the token alphabet removes every character iff all of them belong to it,
    which is much cheaper than a regex or a Python-level loop.
    """
    return bool(text) and not text.strip(TOKEN)


def only(text: str, allowed: str) -> bool:
    """True when every character of ``text`` is in ``allowed`` (the empty string qualifies)."""
    return not text.strip(allowed)


def is_digits(text: str) -> bool:
    """ASCII digits only; ``str.isdigit`` alone would accept other scripts' digits."""
    return bool(text) and text.isascii() and text.isdigit()


def bounded_int(text: str, limit: int, what: str) -> int:
    """Parse an unsigned decimal that must not exceed ``limit``.

    Leading zeros are allowed (``0068`` is 68). The length is checked before calling ``int`` so a
    hostile 10,000-digit number costs nothing and cannot trip Python's int-conversion limit.
    """
    if len(text) < 10 and text.isdigit() and text.isascii():
        value = int(text)
        if value > limit:
            raise ParseError(f"{what} out of range (max {limit}): {text!r}")
        return value
    if not is_digits(text):
        raise ParseError(f"{what} is not a decimal number: {text[:40]!r}")
    stripped = text.lstrip("0") or "0"
    if len(stripped) > len(str(limit)) or int(stripped) > limit:
        raise ParseError(f"{what} out of range (max {limit}): {text[:40]!r}")
    return int(stripped)


def scan_quoted(text: str, start: int) -> int:
    """Return the index just past the quoted-string that opens at ``text[start] == '"'``.

    A backslash escapes any following character (quoted-pair), including NUL, BEL and DEL as in
    RFC 4475 ``intmeth``. An unterminated string is a ParseError (RFC 4475 ``quotbal``).
    """
    i = start + 1
    n = len(text)
    while True:
        q = text.find('"', i)
        b = text.find("\\", i, q if q >= 0 else n)
        if b >= 0:
            if b + 1 >= n:
                raise ParseError("quoted string ends with a lone backslash")
            i = b + 2
            continue
        if q < 0:
            raise ParseError("unbalanced quote in header value")
        return q + 1


def unquote(text: str) -> str:
    """Decode a complete quoted-string (with its quotes) into its content."""
    inner = text[1:-1]
    if "\\" not in inner:
        return inner
    out: list[str] = []
    i = 0
    n = len(inner)
    while i < n:
        c = inner[i]
        if c == "\\" and i + 1 < n:
            out.append(inner[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def quote(text: str) -> str:
    """Encode ``text`` as a quoted-string, escaping what qdtext cannot carry literally."""
    if "\r" in text or "\n" in text:
        raise ValueError("CR and LF cannot be carried in a SIP quoted-string")
    out = ['"']
    for c in text:
        if c in '"\\' or (c < " " and c != "\t") or c == "\x7f":
            out.append("\\")
        out.append(c)
    out.append('"')
    return "".join(out)


def split_outside(text: str, sep: str) -> list[str]:
    """Split on ``sep`` where it is not inside a quoted-string or ``<...>``.

    This is how comma-separated header lists are split: ``"Bell, A." <sip:a@b;x=1,2>`` is one
    element. Unbalanced quotes raise ParseError rather than silently merging elements.
    """
    if sep not in text:
        return [text]
    if '"' not in text and "<" not in text:
        return text.split(sep)
    parts: list[str] = []
    begin = 0
    i = 0
    n = len(text)
    angle = False
    while i < n:
        c = text[i]
        if c == '"':
            i = scan_quoted(text, i)
            continue
        if angle:
            if c == ">":
                angle = False
        elif c == "<":
            angle = True
        elif c == sep:
            parts.append(text[begin:i])
            begin = i + 1
        i += 1
    parts.append(text[begin:])
    return parts


def parse_params(text: str, what: str) -> tuple[tuple[str, str | None], ...]:
    """Parse ``*( SEMI generic-param )`` as found after a name-addr or a Via sent-by.

    ``text`` must be empty or start (after whitespace) with ``;``. Whitespace around ``;`` and
    ``=`` is allowed (RFC 3261 SEMI/EQUAL include LWS). Empty parameters such as ``;;`` are a
    ParseError (RFC 4475 ``badinv01``). Values are kept as written; a quoted value keeps its quotes
    so serialisation reproduces it.
    """
    text = text.strip(WSP)
    if not text:
        return ()
    if text[0] != ";":
        raise ParseError(f"unexpected text in {what}: {text[:40]!r}")
    body = text[1:]
    pieces = split_outside(body, ";") if '"' in body else body.split(";")
    params: list[tuple[str, str | None]] = []
    for piece in pieces:
        name, eq, value = piece.partition("=")
        name = name.strip(WSP)
        if not name:
            raise ParseError(f"empty parameter in {what}")
        if name.strip(TOKEN):
            raise ParseError(f"bad parameter name in {what}: {name[:40]!r}")
        if not eq:
            params.append((name, None))
            continue
        value = value.strip(WSP)
        if not value:
            raise ParseError(f"parameter {name!r} in {what} has an empty value")
        if value[0] == '"':
            if scan_quoted(value, 0) != len(value):
                raise ParseError(f"junk after quoted value of {name!r} in {what}")
        elif value.strip(_GEN_VALUE):
            raise ParseError(f"bad value for parameter {name!r} in {what}: {value[:40]!r}")
        params.append((name, value))
    return tuple(params)


def format_params(params: tuple[tuple[str, str | None], ...]) -> str:
    """Serialise generic parameters as ``;name=value`` pairs."""
    return "".join(f";{n}" if v is None else f";{n}={v}" for n, v in params)


def find_param(params: tuple[tuple[str, str | None], ...], name: str) -> tuple[bool, str | None]:
    """Case-insensitive lookup: ``(present, value)``, so valueless params are distinguishable."""
    lname = name.lower()
    for n, v in params:
        if n.lower() == lname:
            return True, v
    return False, None
