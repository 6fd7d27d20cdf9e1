"""Media files (spec §7): a user's private store of named files, used by `fileUrl` and by recordings.

Names come from the URL path and become file names on disk, so the rules here are what keeps a name
inside its user's directory: no `/`, no `..`, no control characters, and at most 255 bytes of UTF-8
(the longest file name Linux file systems allow).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from .errors import ApiError, validation_error

RESOURCE = "media"
# Catapult's documented limit is "65 MB"; read as MiB, so whatever Catapult took, this server takes.
MAX_MEDIA_BYTES = 65 * 1024 * 1024
NAME_MAX_BYTES = 255
HEADER_MAX = 255  # Content-Type and Cache-Control as stored
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass
class MediaFile:
    """One stored file's metadata; the bytes live at store.media.media_path(...)."""

    user_id: str
    name: str
    content_type: str
    length: int
    created_time: datetime
    updated_time: datetime
    cache_control: str | None = None


def media_name_problem(name: str) -> str | None:
    """Why `name` cannot be a media name (a phrase to follow "mediaName"), or None when it can."""
    if not name:
        return "must not be empty"
    if "/" in name or "\\" in name:
        return "must not contain / or \\"
    if ".." in name or name == ".":
        return "must not be . or contain .."
    if not name.isprintable():  # control characters, and lone surrogates from undecodable bytes
        return "must not contain control characters"
    if len(name.encode("utf-8")) > NAME_MAX_BYTES:
        return f"exceeds the limit of {NAME_MAX_BYTES} bytes (UTF-8)"
    return None


def check_media_name(name: str) -> str:
    """The name, or 400 validation-error naming `mediaName`."""
    problem = media_name_problem(name)
    if problem is not None:
        raise validation_error("mediaName", problem, RESOURCE)
    return name


def _header_value(value: str | None, header: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) > HEADER_MAX or not text.isprintable() or not text.isascii():
        raise validation_error(header, f"must be at most {HEADER_MAX} printable ASCII characters", RESOURCE)
    return text or None


def parse_content_type(value: str | None) -> str:
    """The type to store and serve back; clients that send none get application/octet-stream."""
    return _header_value(value, "Content-Type") or DEFAULT_CONTENT_TYPE


def parse_cache_control(value: str | None) -> str | None:
    """Cache-Control sent with the upload is kept and sent with every download (spec §7: honoured)."""
    return _header_value(value, "Cache-Control")


def parse_declared_size(value: str | None) -> int:
    """The upload's Content-Length: required (spec §7), and at most MAX_MEDIA_BYTES."""
    if value is None or not value.strip().isdigit():
        raise ApiError(
            400,
            "validation-error",
            "The media size must be specified by the Content-Length header",
            field="Content-Length",
        )
    size = int(value)
    if size > MAX_MEDIA_BYTES:
        raise media_size_overflow(size)
    return size


def media_size_overflow(size: int) -> ApiError:
    return ApiError(
        403,
        "media-size-overflow",
        f"The media size {size} bytes is larger than the maximum {MAX_MEDIA_BYTES} bytes",
    )


def media_not_found(name: str) -> ApiError:
    return ApiError(404, "media-not-found", f"The media resource named {name} could not be found")


def media_uri(user_base: str, name: str) -> str:
    """The download URL: every character but unreserved ones percent-encoded, `/` included."""
    return f"{user_base}/media/{quote(name, safe='')}"


def media_resource(media: MediaFile, user_base: str) -> dict[str, Any]:
    """A list entry as Catapult shows it: `{mediaName, contentLength, content}`."""
    return {
        "mediaName": media.name,
        "contentLength": media.length,
        "content": media_uri(user_base, media.name),
    }
