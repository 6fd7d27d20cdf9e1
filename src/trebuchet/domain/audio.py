"""The audio object (spec §2.7): play a file or speak a sentence into a call (also a gather's prompt).

`fileUrl: ""` and `sentence: ""` stop what plays; otherwise exactly one of them says what to play.
Voice names are checked by the speech engine, which knows them; this module checks the shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import addresses
from .coerce import as_bool, as_int_in_range, as_str, present, require_object
from .errors import ApiError, validation_error

SENTENCE_MAX = 1000


@dataclass(frozen=True)
class AudioRequest:
    kind: str  # "playback" (fileUrl) or "speak" (sentence)
    stop: bool = False
    file_url: str | None = None
    sentence: str | None = None
    gender: str | None = None
    locale: str | None = None
    voice: str | None = None
    loop: bool = False
    volume: int = 0
    tag: str | None = None


def parse_audio(raw: Any, resource: str = "call") -> AudioRequest:
    body = require_object(raw)
    has_file, has_sentence = present(body, "fileUrl"), present(body, "sentence")
    if has_file == has_sentence:
        raise ApiError(
            400,
            "validation-error",
            "The audio needs exactly one of fileUrl (a WAV or MP3 file) and sentence (text to speak)",
            field="fileUrl" if has_file else "sentence",
        )
    loop = as_bool(body["loopEnabled"], "loopEnabled", resource) if present(body, "loopEnabled") else False
    volume = as_int_in_range(body["volume"], "volume", -4, 4, resource) if present(body, "volume") else 0
    tag = as_str(body["tag"], "tag", resource) if present(body, "tag") else None
    if has_file:
        url = as_str(body["fileUrl"], "fileUrl", resource, max_len=2048)
        if url and not addresses.is_http_url(url):
            raise ApiError(
                403, "media-invalid-url", f"The fileUrl {url} is not a valid http(s) URL", field="fileUrl"
            )
        return AudioRequest("playback", stop=not url, file_url=url or None, loop=loop, volume=volume, tag=tag)
    sentence = as_str(body["sentence"], "sentence", resource, max_len=SENTENCE_MAX + 1)
    if len(sentence) > SENTENCE_MAX:
        raise validation_error("sentence", f"exceeds the limit of {SENTENCE_MAX} characters", resource)
    fields = {
        name: as_str(body[name], name, resource) if present(body, name) else None
        for name in ("gender", "locale", "voice")
    }
    return AudioRequest(
        "speak",
        stop=not sentence.strip(),
        sentence=sentence or None,
        gender=fields["gender"],
        locale=fields["locale"],
        voice=fields["voice"],
        loop=loop,
        volume=volume,
        tag=tag,
    )
