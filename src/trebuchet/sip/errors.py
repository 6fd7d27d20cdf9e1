"""The single exception type of the SIP message layer.

Callers (transports, transaction layer) need exactly one thing to catch to decide between
"answer 400 / drop the datagram" and "handle the message", so every malformation surfaces as
:class:`ParseError` and nothing else escapes :func:`trebuchet.sip.parse`.
"""

from __future__ import annotations


class ParseError(Exception):
    """A message, header value or URI does not follow the RFC 3261 grammar.

    ``reason`` is a short human-readable explanation, suitable for a log line or the reason
    phrase of a 400 response.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
