"""A per-session receive buffer: RTP packets in any order in, packets in sequence order (or gaps) out.

Sans-IO. The network side calls `push` as datagrams arrive; the session pops packets in order as its
frame clock needs audio (a peer's packets may hold 10, 20 or 30 ms). Playout starts once `depth` packets
are waiting, which absorbs that much reordering and jitter. A packet that arrives after its turn is
dropped as late; a missing one is reported as a gap so the session plays silence for it; a large jump in
sequence (a sender restart) or a new SSRC starts the buffer over.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rtp import RtpPacket, seq_delta

RESYNC_JUMP = 100  # sequence numbers ahead of the expected one that mean "start over", not "reorder"


@dataclass
class BufferStats:
    received: int = 0
    duplicates: int = 0
    late: int = 0
    lost: int = 0
    resyncs: int = 0


class ReceiveBuffer:
    def __init__(self, depth: int = 2, capacity: int = 64) -> None:
        self.depth = depth
        self.capacity = capacity
        self.stats = BufferStats()
        self._waiting: dict[int, RtpPacket] = {}
        self._next: int | None = None  # the sequence number whose turn is next
        self._ssrc: int | None = None
        self._playing = False
        self.gap = False  # whether the last pop() found a packet missing (rather than nothing to play)

    def push(self, packet: RtpPacket) -> None:
        self.stats.received += 1
        if self._ssrc != packet.ssrc or self._next is None:
            self._restart(packet)
        else:
            ahead = seq_delta(packet.sequence, self._next)
            if ahead < 0 and not self._playing and ahead > -RESYNC_JUMP:
                self._next = packet.sequence  # an earlier packet overtaken before playout began
            elif ahead < 0:
                self.stats.late += 1
                return
            if ahead >= RESYNC_JUMP:
                self.stats.resyncs += 1
                self._restart(packet)
        if packet.sequence in self._waiting:
            self.stats.duplicates += 1
            return
        self._waiting[packet.sequence] = packet
        if len(self._waiting) > self.capacity:  # far behind: skip ahead to the oldest we hold
            self._skip_to_oldest()

    def pop(self) -> RtpPacket | None:
        """The next packet in order; None before playout starts, on a gap (`gap` is then True), or when
        nothing is waiting."""
        self.gap = False
        if self._next is None:
            return None
        if not self._playing:
            if len(self._waiting) < self.depth:
                return None
            self._playing = True
        if not self._waiting:  # underrun: the sender paused; wait without counting losses
            self._playing = False
            return None
        packet = self._waiting.pop(self._next, None)
        if packet is None:
            self.stats.lost += 1
            self.gap = True
        self._next = (self._next + 1) & 0xFFFF
        return packet

    def _restart(self, packet: RtpPacket) -> None:
        self._waiting.clear()
        self._ssrc = packet.ssrc
        self._next = packet.sequence
        self._playing = False

    def _skip_to_oldest(self) -> None:
        assert self._next is not None
        oldest = min(self._waiting, key=lambda seq: seq_delta(seq, self._next or 0))
        self.stats.lost += seq_delta(oldest, self._next)
        self._next = oldest
