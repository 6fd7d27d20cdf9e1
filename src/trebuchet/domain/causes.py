"""Hangup causes: the one table that maps how a call ended to the `cause` of its `hangup` event.

SIP final responses map the way carriers do (Q.850 causes via RFC 3398), named as FreeSWITCH names them,
which is what Catapult's `hangup` events carry.
"""

from __future__ import annotations

NORMAL_CLEARING = "NORMAL_CLEARING"
ORIGINATOR_CANCEL = "ORIGINATOR_CANCEL"
USER_BUSY = "USER_BUSY"
CALL_REJECTED = "CALL_REJECTED"
UNALLOCATED_NUMBER = "UNALLOCATED_NUMBER"
NO_ANSWER = "NO_ANSWER"
NORMAL_TEMPORARY_FAILURE = "NORMAL_TEMPORARY_FAILURE"
NO_ROUTE_DESTINATION = "NO_ROUTE_DESTINATION"
INVALID_NUMBER_FORMAT = "INVALID_NUMBER_FORMAT"
INCOMPATIBLE_DESTINATION = "INCOMPATIBLE_DESTINATION"  # no codec in common (SIP 488)
RECOVERY_ON_TIMER_EXPIRE = "RECOVERY_ON_TIMER_EXPIRE"  # the far end went silent (no ACK, no answer)
MEDIA_TIMEOUT = "MEDIA_TIMEOUT"  # the far end stopped sending RTP and never hung up
SYSTEM_SHUTDOWN = "SYSTEM_SHUTDOWN"
CRASH_RECOVERY = "CRASH"

_BY_STATUS = {
    404: UNALLOCATED_NUMBER,
    484: UNALLOCATED_NUMBER,
    604: UNALLOCATED_NUMBER,
    486: USER_BUSY,
    600: USER_BUSY,
    603: CALL_REJECTED,
    480: NO_ANSWER,
    408: NO_ANSWER,
    487: ORIGINATOR_CANCEL,
    488: INCOMPATIBLE_DESTINATION,
    500: NORMAL_TEMPORARY_FAILURE,
    503: NORMAL_TEMPORARY_FAILURE,
}


def cause_for_sip_status(status: int) -> str:
    """The hangup cause for a non-2xx final response to our INVITE."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 500 <= status < 600:
        return NORMAL_TEMPORARY_FAILURE
    return CALL_REJECTED
