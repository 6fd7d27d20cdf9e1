"""SIP message parsing speed: trebuchet.sip.parse against the stdlib e-mail header parser.

Parses four messages repeatedly: a typical INVITE with SDP (about 900 bytes, 10 headers, 2 Vias),
a 200 OK, a BYE and RFC 4475 ``longreq``. The baseline, measured in the same run on the same bytes,
is ``email.parser.BytesHeaderParser``. It only splits RFC 5322 headers and validates nothing, so
``vs email`` (our time divided by its time) below 1.0 means we are faster while doing more work.

    .venv/bin/python -m bench.sip_parse [--seconds 0.4] [--max-iterations 50000]

Each figure is the best of 3 timed rounds. A round stops after ``--seconds`` or
``--max-iterations`` parses, whichever comes first, so a run is bounded in time.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from email.parser import BytesHeaderParser
from pathlib import Path

from trebuchet.sip import parse

ROOT = Path(__file__).resolve().parent.parent
LONGREQ = ROOT / "tests" / "data" / "rfc4475" / "longreq.sip"

SDP = (
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.101\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.101\r\n"
    "t=0 0\r\n"
    "m=audio 49172 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=maxptime:150\r\n"
    "a=rtcp:49173 IN IP4 192.0.2.101\r\n"
    "a=ssrc:2231627014 cname:4TOk42mSjXCkVIa6\r\n"
    "a=sendrecv\r\n"
)

INVITE = (
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP proxy.atlanta.example.com:5060;branch=z9hG4bK2d4790.1;received=192.0.2.2\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport=5060\r\n"
    "Max-Forwards: 69\r\n"
    'From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com;transport=udp>\r\n"
    "Content-Type: application/sdp\r\n"
    f"Content-Length: {len(SDP)}\r\n"
    "\r\n" + SDP
).encode()

OK_200 = (
    b"SIP/2.0 200 OK\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;received=192.0.2.1\r\n"
    b'From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    b"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:bob@192.0.2.4>\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)

BYE = (
    b"BYE sip:alice@pc33.atlanta.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds10\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    b'To: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 231 BYE\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)


def best_time(func: Callable[[bytes], object], data: bytes, seconds: float, max_iterations: int) -> float:
    """Best-of-3 seconds per call, each round bounded by time and count."""
    best = float("inf")
    for _ in range(3):
        count = 0
        start = time.perf_counter()
        deadline = start + seconds
        now = start
        while count < max_iterations:
            for _ in range(100):
                func(data)
            count += 100
            now = time.perf_counter()
            if now >= deadline:
                break
        best = min(best, (now - start) / count)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.4, help="time limit per round (3 rounds)")
    parser.add_argument("--max-iterations", type=int, default=50_000, help="parse limit per round")
    args = parser.parse_args()

    messages = [("INVITE + SDP", INVITE), ("200 OK", OK_200), ("BYE", BYE)]
    if LONGREQ.exists():
        messages.append(("RFC 4475 longreq", LONGREQ.read_bytes()))
    email_parser = BytesHeaderParser()

    print(
        f"{'message':<18} {'bytes':>6} {'hdrs':>5} {'µs/msg':>8} {'msg/s':>9} {'email µs':>9} {'vs email':>9}"
    )
    for label, data in messages:
        msg = parse(data)  # also proves the sample is valid
        ours = best_time(parse, data, args.seconds, args.max_iterations)
        base = best_time(email_parser.parsebytes, data, args.seconds, args.max_iterations)
        print(
            f"{label:<18} {len(data):>6} {len(msg.headers):>5} {ours * 1e6:>8.1f} {1 / ours:>9,.0f}"
            f" {base * 1e6:>9.1f} {ours / base:>9.2f}"
        )


if __name__ == "__main__":
    main()
