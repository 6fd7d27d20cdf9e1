"""The SIP message layer (RFC 3261 §7, §20, §25), sans-IO.

Turns datagram/stream payload bytes into :class:`Request`/:class:`Response` objects and back,
without touching sockets, so the transport, transaction and dialog layers can be tested and
reused independently. Standard library only.

>>> msg = parse(b"OPTIONS sip:bob@example.com SIP/2.0\\r\\nCall-ID: a\\r\\n\\r\\n")
>>> msg.method, msg.uri.user, msg.call_id
('OPTIONS', 'bob', 'a')
"""

from __future__ import annotations

from .errors import ParseError
from .headers import COMPACT_FORMS, Headers, canonical_name
from .message import Message, Request, Response
from .parser import parse
from .uri import AbsoluteUri, SipUri, Uri, parse_uri
from .values import CSeq, NameAddr, Via, parse_cseq, parse_name_addr, parse_via

__all__ = [
    "COMPACT_FORMS",
    "AbsoluteUri",
    "CSeq",
    "Headers",
    "Message",
    "NameAddr",
    "ParseError",
    "Request",
    "Response",
    "SipUri",
    "Uri",
    "Via",
    "canonical_name",
    "parse",
    "parse_cseq",
    "parse_name_addr",
    "parse_uri",
    "parse_via",
]
