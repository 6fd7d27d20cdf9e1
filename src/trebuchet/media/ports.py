"""RTP ports from a configured range (TREBUCHET_RTP_PORTS): even ports for RTP, the odd one above for RTCP.

Handing ports out round-robin, rather than lowest-first, keeps a just-freed port (whose late packets may
still be in flight) out of use for as long as the range allows.
"""

from __future__ import annotations

import socket


class PortRange:
    def __init__(self, low: int, high: int) -> None:
        if not 0 < low <= high <= 65535 or high - low < 1:
            raise ValueError(f"bad RTP port range {low}-{high}")
        self.low = low + (low % 2)  # first even port
        self.high = high
        self._in_use: set[int] = set()
        self._next = self.low

    @classmethod
    def parse(cls, text: str) -> PortRange:
        low, sep, high = text.partition("-")
        if not sep or not low.strip().isdigit() or not high.strip().isdigit():
            raise ValueError(f"an RTP port range looks like 20000-20999, not {text!r}")
        return cls(int(low), int(high))

    @property
    def capacity(self) -> int:
        return (self.high - self.low + 1) // 2

    def take(self) -> int:
        """The next free even port (its RTCP port is one above); OverflowError when all are taken."""
        for _ in range(self.capacity):
            port = self._next
            self._next = port + 2 if port + 3 <= self.high else self.low
            if port not in self._in_use and port + 1 <= self.high:
                self._in_use.add(port)
                return port
        raise OverflowError(f"all {self.capacity} RTP ports of {self.low}-{self.high} are in use")

    def give_back(self, port: int) -> None:
        self._in_use.discard(port)


def free_port_pair(host: str = "127.0.0.1") -> int:
    """An even UDP port that is free now, with the odd one above it free too (for RTP and RTCP).

    For tools and tests outside a configured range; a server takes ports from its PortRange.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(200):
        with socket.socket(family, socket.SOCK_DGRAM) as rtp:
            rtp.bind((host, 0))
            port = rtp.getsockname()[1]
            if port % 2 or port == 65535:
                continue
            with socket.socket(family, socket.SOCK_DGRAM) as rtcp:
                try:
                    rtcp.bind((host, port + 1))
                except OSError:
                    continue
            return port
    raise OSError("no free pair of UDP ports for RTP and RTCP")
