"""Cutting a TCP byte stream into SIP messages (RFC 3261 §18.3), and 400s for datagrams that do not parse.

Sans-IO. On a stream, Content-Length is the only way to find where a message ends, so it is mandatory
there and a bad one loses the framing: the connection must be closed. CRLF keep-alives between messages
(RFC 5626 §3.5.1: a double CRLF "ping" is answered with a single CRLF "pong") are consumed here.
"""

from __future__ import annotations

from .grammar import is_token

MAX_MESSAGE = 65_535  # larger than any message we accept on a stream


class FramingError(ValueError):
    """The stream cannot be cut into messages any more (bad or missing Content-Length)."""


class StreamFramer:
    def __init__(self) -> None:
        self._buffer = bytearray()
        self.pings = 0  # double-CRLF keep-alives seen; each wants a CRLF back

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every complete message now available."""
        self._buffer += data
        messages = []
        while True:
            while self._buffer.startswith(b"\r\n"):
                if self._buffer.startswith(b"\r\n\r\n"):
                    self.pings += 1
                    del self._buffer[:4]
                elif b"\r\n\r\n".startswith(bytes(self._buffer)):
                    return messages  # maybe the start of a ping: wait for the rest
                else:
                    del self._buffer[:2]
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_MESSAGE:
                    raise FramingError("header section too long")
                return messages
            length = _content_length(bytes(self._buffer[:end]))
            total = end + 4 + length
            if total > MAX_MESSAGE:
                raise FramingError(f"message of {total} bytes is too long")
            if len(self._buffer) < total:
                return messages
            messages.append(bytes(self._buffer[:total]))
            del self._buffer[:total]


def _content_length(head: bytes) -> int:
    found = None
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() in (b"content-length", b"l"):
            text = value.strip()
            if not text.isdigit():
                raise FramingError(f"bad Content-Length {text[:20]!r}")
            if found is not None and int(text) != found:
                raise FramingError("conflicting Content-Length values")
            found = int(text)
    if found is None:
        raise FramingError("a message on a stream needs a Content-Length")
    return found


_ECHOED = (b"via", b"v", b"from", b"f", b"to", b"t", b"call-id", b"i", b"cseq")


def bad_request_reply(data: bytes, reason: str) -> bytes | None:
    """A 400 for a request that failed to parse, built from its raw header lines, or None if impossible.

    Responses that fail to parse are dropped, as are requests too broken to route a reply (no Via).
    """
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    first = head[0].split(b" ", 1)[0]
    if first.startswith(b"SIP/") or not is_token(first.decode("latin-1")) or first == b"ACK":
        return None
    echoed = []
    for line in head[1:]:
        name, sep, _ = line.partition(b":")
        if sep and name.strip().lower() in _ECHOED:
            echoed.append(line)
    if not any(line.split(b":", 1)[0].strip().lower() in (b"via", b"v") for line in echoed):
        return None
    phrase = "Bad Request - " + "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in reason)[:100]
    lines = [f"SIP/2.0 400 {phrase}".encode(), *echoed, b"Content-Length: 0", b"", b""]
    return b"\r\n".join(lines)
