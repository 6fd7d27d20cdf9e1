"""`/v1/users/{userId}/media`: upload, download, HEAD, delete and list a user's files (spec §7).

Uploads stream to disk as they arrive (at most 65 MiB; a declared size over it is refused before any byte is
read) and downloads stream from disk, so neither holds a file in memory. `{mediaName}` takes the rest of the
path, newlines too, so a name that decodes to one with `/` in it reaches the name check (400) instead of
missing the route.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import ClientDisconnect

from ...domain.clock import utcnow
from ...domain.errors import ApiError
from ...domain.media import (
    MAX_MEDIA_BYTES,
    MediaFile,
    check_media_name,
    media_not_found,
    media_resource,
    media_size_overflow,
    parse_cache_control,
    parse_content_type,
    parse_declared_size,
)
from ...domain.user import User
from ...store import media as media_store
from ..auth import current_user
from ..common import json_response, user_base
from ..paging import MAX_SIZE, link_header, parse_page
from ..schemas import ERROR_RESPONSES, MediaResource


class _AnyConvertor(Convertor[str]):
    """Like `path`, but newlines too: every name, however bad, reaches the name check (400)."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("any", _AnyConvertor())
router = APIRouter(prefix="/v1/users/{userId}", tags=["media"])

# Catapult documents no paging for this list and node-bandwidth's Media.list() cannot ask for a second
# page, so without `size` a page is as large as any page may be.
LIST_DEFAULT_SIZE = MAX_SIZE

_BINARY = {"schema": {"type": "string", "format": "binary"}}
_STRING = {"type": "string"}
_FILE_HEADERS = {
    "Content-Type": {"description": "The type given when the file was uploaded", "schema": _STRING},
    "Content-Length": {"description": "The file's size in bytes", "schema": {"type": "integer"}},
    "Cache-Control": {"description": "As given when the file was uploaded, if it was", "schema": _STRING},
}
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes. Content-Length is required; Content-Type (default "
        "application/octet-stream) and Cache-Control are kept and sent back with every download.",
        "content": {"*/*": _BINARY},
    }
}
_MEDIA_ERRORS = {
    **ERROR_RESPONSES,
    403: {**ERROR_RESPONSES[403], "description": "media-size-overflow: larger than 65 MiB"},
    404: {**ERROR_RESPONSES[404], "description": "media-not-found: no file of that name for this user"},
}


def _data_dir(request: Request) -> Path:
    return Path(request.app.state.settings.data_dir)


def _file_headers(item: MediaFile, size: int) -> dict[str, str]:
    headers = {"Content-Type": item.content_type, "Content-Length": str(size)}
    if item.cache_control:
        headers["Cache-Control"] = item.cache_control
    return headers


@router.put(
    "/media/{mediaName:any}",
    summary="Upload a file (a file of the same name is replaced)",
    response_class=Response,
    responses={200: {"description": "Stored"}, **_MEDIA_ERRORS},
    openapi_extra=_UPLOAD_BODY,
)
async def upload_media(request: Request, mediaName: str, user: User = Depends(current_user)) -> Response:
    name = check_media_name(mediaName)
    content_type = parse_content_type(request.headers.get("content-type"))
    cache_control = parse_cache_control(request.headers.get("cache-control"))
    declared = parse_declared_size(request.headers.get("content-length"))
    partial = await media_store.PartialFile(_data_dir(request), user.id, name).open()
    try:
        try:
            async for chunk in request.stream():
                if partial.size + len(chunk) > MAX_MEDIA_BYTES:  # never trust the header alone
                    raise media_size_overflow(partial.size + len(chunk))
                await partial.write(chunk)
        except ClientDisconnect:
            raise ApiError(
                400,
                "validation-error",
                f"The upload ended after {partial.size} of {declared} bytes",
                field="Content-Length",
            ) from None
        size = await partial.finish()
        now = utcnow()
        item = MediaFile(user.id, name, content_type, size, now, now, cache_control)
        async with request.app.state.db.write() as conn:
            await media_store.save_media(conn, item)
            partial.publish()  # in the transaction: racing uploads land on disk in the table's order
    finally:
        partial.discard()
    return Response(status_code=200)


@router.get(
    "/media/{mediaName:any}",
    summary="Download a file",
    response_class=Response,
    responses={
        200: {"description": "The file's bytes", "headers": _FILE_HEADERS, "content": {"*/*": _BINARY}},
        **_MEDIA_ERRORS,
    },
)
async def download_media(request: Request, mediaName: str, user: User = Depends(current_user)) -> Response:
    name = check_media_name(mediaName)
    async with request.app.state.db.read() as conn:
        item = await media_store.get_media(conn, user.id, name)
    opened = await media_store.open_media_file(_data_dir(request), user.id, name) if item else None
    if item is None or opened is None:
        raise media_not_found(name)
    handle, size = opened
    return StreamingResponse(
        media_store.read_chunks(handle, size),
        headers=_file_headers(item, size),
        background=BackgroundTask(handle.close),  # also when the body is never read
    )


@router.head(
    "/media/{mediaName:any}",
    summary="A file's Content-Type and Content-Length, without the bytes",
    response_class=Response,
    responses={200: {"description": "The file exists", "headers": _FILE_HEADERS}, **_MEDIA_ERRORS},
)
async def media_info(request: Request, mediaName: str, user: User = Depends(current_user)) -> Response:
    name = check_media_name(mediaName)
    async with request.app.state.db.read() as conn:
        item = await media_store.get_media(conn, user.id, name)
    size = media_store.media_file_size(_data_dir(request), user.id, name) if item else None
    if item is None or size is None:
        raise media_not_found(name)
    return Response(status_code=200, headers=_file_headers(item, size))


@router.delete(
    "/media/{mediaName:any}",
    summary="Delete a file (the name can be used again at once)",
    response_class=Response,
    responses={200: {"description": "Deleted"}, **_MEDIA_ERRORS},
)
async def delete_media(request: Request, mediaName: str, user: User = Depends(current_user)) -> Response:
    name = check_media_name(mediaName)
    async with request.app.state.db.write() as conn:
        deleted = await media_store.delete_media(conn, user.id, name)
        if deleted:
            media_store.remove_media_file(_data_dir(request), user.id, name)
    if not deleted:
        raise media_not_found(name)
    return Response(status_code=200)


@router.get(
    "/media",
    summary="List files: mediaName, contentLength and content (the download URL)",
    response_model=list[MediaResource],
    responses=ERROR_RESPONSES,
)
async def list_media(
    request: Request,
    user: User = Depends(current_user),
    page: str | None = Query(None, description="0-based page number (default 0)"),
    size: str | None = Query(None, description=f"Page size (default and at most {MAX_SIZE})"),
) -> Response:
    page_spec = parse_page(page, size if size not in (None, "") else str(LIST_DEFAULT_SIZE), "media")
    async with request.app.state.db.read() as conn:
        rows = await media_store.list_media(conn, user.id, offset=page_spec.offset, limit=page_spec.size + 1)
    has_more = len(rows) > page_spec.size
    base = user_base(request, user.id)
    link = link_header(f"{base}/media", page_spec, {}, has_more)
    listed = [media_resource(item, base) for item in rows[: page_spec.size]]
    return json_response(listed, headers={"Link": link})
