"""The RTP port range: even ports, round-robin, exhaustion and return."""

from __future__ import annotations

import pytest

from trebuchet.media.ports import PortRange


def test_even_ports_round_robin_and_exhaustion():
    ports = PortRange.parse("20001-20008")  # even RTP ports 20002, 20004, 20006 (20008 has no RTCP port)
    assert ports.capacity == 3
    taken = [ports.take() for _ in range(3)]
    assert taken == [20002, 20004, 20006]
    with pytest.raises(OverflowError):
        ports.take()
    ports.give_back(20004)
    assert ports.take() == 20004


def test_a_freed_port_rests_while_others_are_free():
    ports = PortRange(20000, 20009)
    first = ports.take()
    ports.give_back(first)
    assert ports.take() != first


@pytest.mark.parametrize("text", ["20000", "a-b", "20010-20000", "0-10"])
def test_bad_ranges(text):
    with pytest.raises(ValueError):
        PortRange.parse(text)
