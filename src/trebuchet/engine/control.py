"""The command interface between call state and whatever carries the call (the SIP engine, later).

`CallService` decides *whether* a command is legal (the state table) and records what happened. A
`Signalling` implementation does the network part: place the call, cancel or end it, answer or refuse an
inbound one. Each method returns an `Outcome` when the command took effect at once, or None when the
network will report back later through `CallService.apply`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..domain import causes
from ..domain.call import Call
from ..domain.call_state import Input
from ..domain.gather import GatherRules
from ..media.audio_files import FilePlayer
from ..media.mixer import MixSource


@dataclass(frozen=True)
class Outcome:
    """What happened to a call, as the state table's input plus the hangup cause when it ended."""

    input: Input
    cause: str | None = None
    dialog: dict[str, Any] | None = None  # on an answer: the SIP dialog, kept with the call


class Signalling(Protocol):
    @property
    def sip_host(self) -> str: ...  # where our SIP listens (the host of URIs that name us)

    async def dial(self, call: Call) -> Outcome | None: ...

    async def hangup(self, call: Call) -> Outcome | None: ...

    async def answer(self, call: Call) -> Outcome | None: ...

    async def reject(self, call: Call) -> Outcome | None: ...

    def send_dtmf(self, call: Call, digits: str) -> None: ...

    def start_gather(self, call: Call, gather_id: str, rules: GatherRules) -> None: ...

    def start_recording(
        self, call: Call, recording_id: str, path: Path, file_format: str, max_duration: float
    ) -> None: ...

    def stop_recording(self, call: Call) -> None: ...

    def play_audio(
        self, call: Call, kind: str, player: FilePlayer, tag: str | None, barge_in: bool = False
    ) -> None: ...

    def stop_audio(self, call: Call, kind: str) -> bool: ...

    def mix_call(self, mix_id: str, call_id: str, *, speaks: bool = True, hears: bool = True) -> None: ...

    def unmix_call(self, mix_id: str, call_id: str) -> None: ...

    def tune_mix(self, mix_id: str, call_id: str, *, talk: float, listen: float, gate: int) -> None: ...

    def play_to_mix(self, mix_id: str, player: FilePlayer, on_done: Callable[[], None]) -> MixSource: ...

    def stop_mix_audio(self, mix_id: str, source: MixSource) -> bool: ...

    def close_mix(self, mix_id: str) -> None: ...

    def stop_gather(self, call: Call, gather_id: str) -> bool: ...


class MediaUnavailable(Exception):
    """The call has no media path that can do this (not answered here, no telephone-event)."""


class NoSignalling:
    """Call control with no network behind it: for tests of CallService alone (the server uses SipEngine).

    Nothing pretends a call rang: a created call stays `started`, and hanging it up ends it at once with
    NORMAL_CLEARING. Answering, rejecting and transferring need a live call, which only SIP can give.
    """

    @property
    def sip_host(self) -> str:
        return "localhost"

    async def dial(self, call: Call) -> Outcome | None:
        return None

    async def hangup(self, call: Call) -> Outcome | None:
        return Outcome(Input.HANGUP, causes.NORMAL_CLEARING)

    async def answer(self, call: Call) -> Outcome | None:
        return Outcome(Input.ANSWERED)

    async def reject(self, call: Call) -> Outcome | None:
        return Outcome(Input.REJECT, causes.CALL_REJECTED)

    def send_dtmf(self, call: Call, digits: str) -> None:
        raise MediaUnavailable("no media without the SIP engine")

    def start_gather(self, call: Call, gather_id: str, rules: GatherRules) -> None:
        raise MediaUnavailable("no media without the SIP engine")

    def stop_gather(self, call: Call, gather_id: str) -> bool:
        return False

    def start_recording(
        self, call: Call, recording_id: str, path: Path, file_format: str, max_duration: float
    ) -> None:
        raise MediaUnavailable("no media without the SIP engine")

    def stop_recording(self, call: Call) -> None:
        return None

    def play_audio(
        self, call: Call, kind: str, player: FilePlayer, tag: str | None, barge_in: bool = False
    ) -> None:
        raise MediaUnavailable("no media without the SIP engine")

    def stop_audio(self, call: Call, kind: str) -> bool:
        return False

    def mix_call(self, mix_id: str, call_id: str, *, speaks: bool = True, hears: bool = True) -> None:
        raise MediaUnavailable("no media without the SIP engine")

    def unmix_call(self, mix_id: str, call_id: str) -> None:
        return None

    def tune_mix(self, mix_id: str, call_id: str, *, talk: float, listen: float, gate: int) -> None:
        raise MediaUnavailable("no media without the SIP engine")

    def play_to_mix(self, mix_id: str, player: FilePlayer, on_done: Callable[[], None]) -> MixSource:
        raise MediaUnavailable("no media without the SIP engine")

    def stop_mix_audio(self, mix_id: str, source: MixSource) -> bool:
        return False

    def close_mix(self, mix_id: str) -> None:
        return None
