"""AudioService: play files and speak sentences into live calls (spec §2.7), with `playback`/`speak` events.

The audio is made ready before the call's lock is taken: a file is fetched (once, then served from a
small cache) and decoded to 8 kHz, a sentence is spoken by espeak-ng. Files in the user's own media store
are read from disk, not over HTTP. What cannot be had is the spec's error, and the call goes on. The
call's controller plays it on the frame clock and says when it is done (`finished`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import httpx
import numpy as np

from ..domain.audio import AudioRequest
from ..domain.clock import utcnow
from ..domain.errors import ApiError
from ..domain.events import audio_event
from ..domain.media import MAX_MEDIA_BYTES
from ..domain.user import User
from ..media.audio_files import AudioFormatError, FilePlayer, decode_audio
from ..speech import SpeechError, SpeechUnavailable, speak
from ..store import calls as call_store
from ..store.call_events import record_call_event
from ..store.media import media_path
from .control import MediaUnavailable

if TYPE_CHECKING:
    from ..domain.call import Call
    from .calls import CallService

log = logging.getLogger("trebuchet.engine")

CACHE_SECONDS = 600.0  # a fetched file is fetched again after this long
CACHE_SAMPLES = 8000 * 60 * 60  # about 58 MB of decoded audio at most
FETCH_TIMEOUT = 10.0


def not_playing(call_id: str) -> ApiError:
    return ApiError(
        403, "call-audio-invalid-state", f"The audio of call {call_id} has already finished or does not exist"
    )


class AudioCache:
    """Decoded files by URL, least recently used first out, each for CACHE_SECONDS."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[float, np.ndarray]] = OrderedDict()
        self._samples = 0

    def get(self, url: str) -> np.ndarray | None:
        item = self._items.get(url)
        if item is None or time.monotonic() - item[0] > CACHE_SECONDS:
            return None
        self._items.move_to_end(url)
        return item[1]

    def put(self, url: str, samples: np.ndarray) -> None:
        if url in self._items:
            self._samples -= len(self._items.pop(url)[1])
        self._items[url] = (time.monotonic(), samples)
        self._samples += len(samples)
        while self._samples > CACHE_SAMPLES and len(self._items) > 1:
            _, (_, dropped) = self._items.popitem(last=False)
            self._samples -= len(dropped)


class AudioService:
    def __init__(self, calls: CallService, data_dir: Path) -> None:
        self.calls = calls
        self.data_dir = Path(data_dir)
        self.cache = AudioCache()
        self._http: httpx.AsyncClient | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def play(
        self,
        user: User,
        call_id: str,
        request: AudioRequest,
        base_url: str,
        samples: np.ndarray | None = None,
    ) -> None:
        """Play `request` into the call; `samples`: the request's audio, already `load`ed (one load for
        the two calls of a bridge, or a whisper measured before the transfer)."""
        call = await self.calls.get(user, call_id)
        if call.state != "active":
            raise ApiError(
                403, "call-audio-invalid-state", f"Audio needs an active call; call {call.id} is {call.state}"
            )
        if request.stop:
            async with self.calls._locks.hold(call_id):
                if not self.calls.signalling.stop_audio(call, request.kind):
                    raise not_playing(call.id)
            return
        if samples is None:
            samples = await self.load(user, request, base_url)
        async with self.calls._locks.hold(call_id):
            call = await self.calls.get(user, call_id)
            if call.state != "active":
                raise ApiError(
                    403, "call-audio-invalid-state", f"Call {call.id} ended before its audio could play"
                )
            player = FilePlayer(samples, loop=request.loop, volume=request.volume)
            try:
                self.calls.signalling.play_audio(call, request.kind, player, request.tag)
            except MediaUnavailable as why:
                raise ApiError(
                    503, "audio-update-failure", f"Audio cannot play on call {call.id}: {why}"
                ) from None
            await self.started(call, request.kind, request.tag)

    async def started(self, call: Call, kind: str, tag: str | None) -> None:
        """The `started` event (the caller holds the call's lock)."""
        await self._event(call, kind, True, tag)

    async def finished(self, call_id: str, kind: str, tag: str | None) -> None:
        """The controller's report that a playback ended (done, stopped, replaced or hung up)."""
        async with self.calls._locks.hold(call_id):
            async with self.calls.db.read() as conn:
                call = await call_store.get_call(conn, call_id)
            if call is not None:
                await self._event(call, kind, False, tag)

    async def _event(self, call: Call, kind: str, started: bool, tag: str | None) -> None:
        now = utcnow()
        payload = audio_event(call, self.calls.user_base(call.user_id), now, kind, started, tag)
        async with self.calls.db.write() as conn:
            await record_call_event(conn, call, kind, now, payload, data="start" if started else "done")
        self.calls.on_events()

    # -- making the audio ready ---------------------------------------------------------------------------

    async def load(self, user: User, request: AudioRequest, base_url: str) -> np.ndarray:
        """The request's audio as 8 kHz samples, or the spec's error for what cannot be had."""
        if request.kind == "speak":
            try:
                return await speak(
                    request.sentence or "", voice=request.voice, gender=request.gender, locale=request.locale
                )
            except SpeechError as bad:
                raise ApiError(400, "validation-error", bad.message, field=bad.field) from None
            except SpeechUnavailable as why:
                raise ApiError(503, "speak-error", f"The sentence could not be spoken: {why}") from None
        url = request.file_url or ""
        own = self._own_media(user, url, base_url)
        if own is not None:
            data = await asyncio.to_thread(_read_file, own)
            return self._decode(data, url)
        cached = self.cache.get(url)
        if cached is not None:
            return cached
        samples = self._decode(await self._fetch(url), url)
        self.cache.put(url, samples)
        return samples

    def _own_media(self, user: User, url: str, base_url: str) -> Path | None:
        """A URL of this user's media on this server is read from disk (no credentials needed)."""
        prefix = f"{base_url.rstrip('/')}/v1/users/{user.id}/media/"
        if not url.startswith(prefix):
            return None
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        try:
            path = media_path(self.data_dir, user.id, name)
        except ValueError:
            raise ApiError(403, "media-invalid-url", f"The fileUrl {url} names no media file") from None
        if not path.is_file():
            raise ApiError(404, "media-not-found", f"The media {name} could not be found")
        return path

    async def _fetch(self, url: str) -> bytes:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=True)
        try:
            async with self._http.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ApiError(503, "media-unavailable", f"{url} answered {response.status_code}")
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_MEDIA_BYTES:
                        raise ApiError(
                            403, "media-size-overflow", f"{url} is larger than {MAX_MEDIA_BYTES} bytes"
                        )
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as error:
            raise ApiError(503, "media-unavailable", f"{url} could not be fetched: {error}") from None

    @staticmethod
    def _decode(data: bytes, url: str) -> np.ndarray:
        try:
            return decode_audio(data)
        except AudioFormatError as why:
            raise ApiError(403, "media-not-supported", f"{url}: {why}") from None


def _read_file(path: Path) -> bytes:
    if path.stat().st_size > MAX_MEDIA_BYTES:
        raise ApiError(403, "media-size-overflow", f"{path.name} is larger than {MAX_MEDIA_BYTES} bytes")
    return path.read_bytes()
