"""Media files: a metadata row each (table `media`) and the bytes under `<data_dir>/media/<userId>/<name>`.

A file is only ever seen whole. An upload is written to `<data_dir>/media/.partial/` (same file system, never
listed) and renamed over its final path, atomically, inside the transaction that writes its row; so two
uploads racing on one name end with the same winner on disk as in the table. Reading opens the file once and
serves what that open file holds, so a replace during a download never mixes two files.

The engine opens a user's media by name with `media_path` (recordings are saved as `{callId}-1.wav` …
through `PartialFile` and `save_media` the same way uploads are).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain.media import MediaFile, media_name_problem
from .tables import media

PARTIAL_DIR = ".partial"
READ_CHUNK = 256 * 1024
WRITE_CHUNK = 1024 * 1024
# Partial files left by a crash are swept when an upload starts, at most once an hour, once a day old.
SWEEP_EVERY = 3600.0
PARTIAL_MAX_AGE = 86400.0

_COLUMNS = ("user_id", "name", "content_type", "length", "created_time", "updated_time", "cache_control")
_last_sweep: dict[Path, float] = {}


def media_root(data_dir: Path) -> Path:
    return Path(data_dir) / "media"


def media_path(data_dir: Path, user_id: str, name: str) -> Path:
    """Where the bytes of the user's media file `name` live (whether or not it exists yet).

    Raises ValueError for a name or user id that could point outside the user's directory."""
    for label, value in (("media name", name), ("user id", user_id)):
        problem = media_name_problem(value)
        if problem is not None:
            raise ValueError(f"bad {label} {value!r}: {problem}")
    if user_id.startswith("."):
        raise ValueError(f"bad user id {user_id!r}")
    return media_root(data_dir) / user_id / name


# -- metadata ----------------------------------------------------------------------------------------------


def _from_row(row: sa.Row) -> MediaFile:
    data = row._mapping
    return MediaFile(**{name: data[name] for name in _COLUMNS})


async def get_media(conn: AsyncConnection, user_id: str, name: str) -> MediaFile | None:
    """The user's media file called `name`, or None."""
    query = sa.select(media).where(media.c.user_id == user_id, media.c.name == name)
    row = (await conn.execute(query)).first()
    return _from_row(row) if row else None


async def list_media(conn: AsyncConnection, user_id: str, *, offset: int, limit: int) -> list[MediaFile]:
    """The user's media, first uploaded first (a replace keeps its place, so pages never shift)."""
    query = (
        sa.select(media).where(media.c.user_id == user_id).order_by(media.c.seq).offset(offset).limit(limit)
    )
    return [_from_row(row) for row in await conn.execute(query)]


async def save_media(conn: AsyncConnection, item: MediaFile) -> None:
    """Insert, or replace the row of the same name (keeping its created_time and its place in the list).

    One statement (INSERT … ON CONFLICT DO UPDATE), so concurrent first uploads of a name never collide."""
    dialect = await conn.run_sync(lambda sync_conn: sync_conn.dialect.name)
    insert = postgresql.insert(media) if dialect == "postgresql" else sqlite.insert(media)
    statement = insert.values(**{name: getattr(item, name) for name in _COLUMNS})
    statement = statement.on_conflict_do_update(
        index_elements=[media.c.user_id, media.c.name],
        set_={
            "content_type": statement.excluded.content_type,
            "cache_control": statement.excluded.cache_control,
            "length": statement.excluded.length,
            "updated_time": statement.excluded.updated_time,
        },
    )
    await conn.execute(statement)


async def delete_media(conn: AsyncConnection, user_id: str, name: str) -> bool:
    """Remove the row; False if there was none. The caller removes the file in the same transaction."""
    result = await conn.execute(media.delete().where(media.c.user_id == user_id, media.c.name == name))
    return result.rowcount > 0


# -- bytes -------------------------------------------------------------------------------------------------


class PartialFile:
    """A media file being written. Nothing is visible at `media_path` until `publish`; `discard` (or any
    failure before `publish`) leaves nothing behind."""

    def __init__(self, data_dir: Path, user_id: str, name: str) -> None:
        self.final = media_path(data_dir, user_id, name)
        partial = media_root(data_dir) / PARTIAL_DIR
        self.path = partial / f"{user_id}-{secrets.token_hex(8)}"
        self.size = 0
        self._handle: BinaryIO | None = None
        self._buffer = bytearray()
        self._published = False

    async def open(self) -> PartialFile:
        self._handle = await asyncio.to_thread(self._create)
        return self

    def _create(self) -> BinaryIO:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _sweep_now_and_then(self.path.parent)
        return open(self.path, "xb")

    async def write(self, chunk: bytes) -> None:
        """Append bytes (to memory first, then to the file a megabyte at a time, off the event loop)."""
        self._buffer += chunk
        self.size += len(chunk)
        if len(self._buffer) >= WRITE_CHUNK:
            await self._flush()

    async def _flush(self) -> None:
        data, self._buffer = bytes(self._buffer), bytearray()
        assert self._handle is not None
        await asyncio.to_thread(self._handle.write, data)

    async def finish(self) -> int:
        """Write out, sync to disk and close; the size written."""
        await self._flush()
        assert self._handle is not None
        handle, self._handle = self._handle, None
        await asyncio.to_thread(_sync_and_close, handle)
        return self.size

    def publish(self) -> None:
        """Rename into place, replacing any earlier file of the name (atomic on POSIX)."""
        self.final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, self.final)
        self._published = True

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if not self._published:
            self.path.unlink(missing_ok=True)


def _sync_and_close(handle: BinaryIO) -> None:
    try:
        handle.flush()
        os.fsync(handle.fileno())
    finally:
        handle.close()


def _sweep_now_and_then(partial_dir: Path) -> None:
    now = time.time()
    if now - _last_sweep.get(partial_dir, 0.0) < SWEEP_EVERY:
        return
    _last_sweep[partial_dir] = now
    for leftover in partial_dir.iterdir():
        try:
            if now - leftover.stat().st_mtime > PARTIAL_MAX_AGE:
                leftover.unlink()
        except OSError:  # another process swept it first
            pass


async def open_media_file(data_dir: Path, user_id: str, name: str) -> tuple[BinaryIO, int] | None:
    """The open file and its size, or None if it is not on disk."""

    def opened() -> tuple[BinaryIO, int] | None:
        try:
            handle = open(media_path(data_dir, user_id, name), "rb")  # noqa: SIM115 - the caller closes it
        except FileNotFoundError:
            return None
        return handle, os.fstat(handle.fileno()).st_size

    return await asyncio.to_thread(opened)


def media_file_size(data_dir: Path, user_id: str, name: str) -> int | None:
    """The size on disk, or None if the file is not there (a metadata read: cheap enough inline)."""
    try:
        return media_path(data_dir, user_id, name).stat().st_size
    except FileNotFoundError:
        return None


async def read_chunks(handle: BinaryIO, size: int) -> AsyncIterator[bytes]:
    """The first `size` bytes of an open file, a chunk at a time off the event loop; closes it."""
    try:
        remaining = size
        while remaining > 0:
            chunk = await asyncio.to_thread(handle.read, min(READ_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


def remove_media_file(data_dir: Path, user_id: str, name: str) -> None:
    """Unlink the bytes; a download already under way keeps reading the file it opened."""
    media_path(data_dir, user_id, name).unlink(missing_ok=True)
