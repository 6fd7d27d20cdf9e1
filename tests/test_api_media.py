"""The Media API through the real server process (spec §7), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from trebuchet.api.routes import media as media_routes
from trebuchet.domain.errors import ApiError
from trebuchet.domain.media import MAX_MEDIA_BYTES, media_name_problem, parse_declared_size
from trebuchet.domain.user import User
from trebuchet.store.media import media_path

from .support import Credentials, ServerProcess, assert_error
from .test_api_calls import parse_links

ALL_BYTES = bytes(range(256)) * 64 + os.urandom(4096)


def media_url(creds: Credentials, name: str | None = None) -> str:
    base = f"/v1/users/{creds.user_id}/media"
    return base if name is None else f"{base}/{quote(name, safe='')}"


def upload(
    api: httpx.Client, creds: Credentials, name: str, content: bytes, **headers: str
) -> httpx.Response:
    return api.put(media_url(creds, name), content=content, headers=headers)


def files_on_disk(server: ServerProcess, creds: Credentials) -> list[str]:
    """Every file the server keeps for the user, plus any upload still being written."""
    root = server.data_dir / "media"
    found = []
    for folder in (root / creds.user_id, root / ".partial"):
        if folder.is_dir():
            found += [f"{folder.name}/{entry.name}" for entry in folder.iterdir()]
    return sorted(found)


@pytest.fixture
def owner(server: ServerProcess) -> Credentials:
    """A user of its own, so lists and the files on disk hold only what the test put there."""
    return server.create_user()


@pytest.fixture
def owner_api(server: ServerProcess, owner: Credentials) -> Iterator[httpx.Client]:
    with server.client(owner) as client:
        yield client


# -- upload, download, HEAD ----------------------------------------------------------------------------------


def test_round_trip_keeps_every_byte_and_the_content_type(api, user):
    response = upload(api, user, "every-byte.bin", ALL_BYTES, **{"Content-Type": "audio/x-wav"})
    assert response.status_code == 200 and response.content == b""
    got = api.get(media_url(user, "every-byte.bin"))
    assert got.status_code == 200
    assert got.content == ALL_BYTES
    assert got.headers["content-type"] == "audio/x-wav"
    assert got.headers["content-length"] == str(len(ALL_BYTES))


def test_types_are_served_exactly_as_given_and_default_to_octet_stream(api, user):
    upload(api, user, "note.txt", b"hello", **{"Content-Type": "text/plain"})
    assert api.get(media_url(user, "note.txt")).headers["content-type"] == "text/plain"  # no charset added
    assert upload(api, user, "untyped", b"\x00\x01").status_code == 200
    assert api.get(media_url(user, "untyped")).headers["content-type"] == "application/octet-stream"


def test_an_empty_file_is_a_file(api, user):
    assert upload(api, user, "empty", b"").status_code == 200
    got = api.get(media_url(user, "empty"))
    assert got.status_code == 200 and got.content == b"" and got.headers["content-length"] == "0"


def test_head_gives_the_headers_without_the_bytes(api, user):
    upload(api, user, "head.wav", b"RIFF" + bytes(996), **{"Content-Type": "audio/wav"})
    head = api.head(media_url(user, "head.wav"))
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == "audio/wav" and head.headers["content-length"] == "1000"
    missing = api.head(media_url(user, "no-such-file"))
    assert missing.status_code == 404 and missing.content == b""


def test_cache_control_is_kept_and_sent_with_downloads(api, user):
    upload(api, user, "cached", b"x", **{"Cache-Control": "max-age=3600"})
    assert api.get(media_url(user, "cached")).headers["cache-control"] == "max-age=3600"
    assert api.head(media_url(user, "cached")).headers["cache-control"] == "max-age=3600"


def test_names_with_spaces_unicode_and_recording_style(server, owner_api, owner):
    names = ["hello world é.txt", "c-abc123-1.wav", "a+b=c&d?e#f%g", "." + "n" * 254]
    for index, name in enumerate(names):
        assert upload(owner_api, owner, name, bytes([index]) * 10).status_code == 200, name
        assert owner_api.get(media_url(owner, name)).content == bytes([index]) * 10
        # Where the engine finds it (recordings are saved as {callId}-1.wav the same way).
        assert media_path(server.data_dir, owner.user_id, name).read_bytes() == bytes([index]) * 10
    listed = owner_api.get(media_url(owner)).json()
    assert [entry["mediaName"] for entry in listed] == names


# -- replace and delete --------------------------------------------------------------------------------------


def test_put_replaces_a_file_of_the_same_name(server, owner_api, owner):
    upload(owner_api, owner, "greeting", b"first version", **{"Content-Type": "text/plain"})
    upload(owner_api, owner, "greeting", b"second", **{"Content-Type": "audio/mpeg"})
    got = owner_api.get(media_url(owner, "greeting"))
    assert got.content == b"second" and got.headers["content-type"] == "audio/mpeg"
    listed = owner_api.get(media_url(owner)).json()
    assert [(e["mediaName"], e["contentLength"]) for e in listed] == [("greeting", 6)]
    assert files_on_disk(server, owner) == [f"{owner.user_id}/greeting"]


def test_delete_removes_the_file_and_the_name_is_free_again(server, owner_api, owner):
    upload(owner_api, owner, "gone.bin", b"bytes")
    deleted = owner_api.delete(media_url(owner, "gone.bin"))
    assert deleted.status_code == 200 and deleted.content == b""
    assert_error(owner_api.get(media_url(owner, "gone.bin")), 404, "media-not-found")
    body = assert_error(owner_api.delete(media_url(owner, "gone.bin")), 404, "media-not-found")
    assert body["message"] == "The media resource named gone.bin could not be found"
    assert body["category"] == "not-found"
    assert owner_api.get(media_url(owner)).json() == []
    assert files_on_disk(server, owner) == []
    assert upload(owner_api, owner, "gone.bin", b"again").status_code == 200
    assert owner_api.get(media_url(owner, "gone.bin")).content == b"again"


def test_racing_replaces_leave_the_file_and_its_row_agreeing(owner_api, owner):
    """Each upload renames its file into place inside the transaction that writes its row."""

    def put(index: int) -> None:
        body = bytes([index]) * (1000 + index)
        response = upload(owner_api, owner, "contended", body, **{"Content-Type": f"application/x-{index}"})
        assert response.status_code == 200

    threads = [threading.Thread(target=put, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = owner_api.get(media_url(owner, "contended"))
    winner = int(got.headers["content-type"].rsplit("-", 1)[1])
    assert got.content == bytes([winner]) * (1000 + winner)
    [entry] = owner_api.get(media_url(owner)).json()
    assert entry["contentLength"] == 1000 + winner


# -- list ----------------------------------------------------------------------------------------------------


def test_list_pages_with_link_and_shows_download_urls(server, owner_api, owner):
    for name in ("one", "two", "three"):
        upload(owner_api, owner, name, name.encode() * 3)
    first = owner_api.get(media_url(owner), params={"size": 2})
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/json")
    base = f"{server.base_url}{media_url(owner)}"
    assert first.json() == [
        {"mediaName": "one", "contentLength": 9, "content": f"{base}/one"},
        {"mediaName": "two", "contentLength": 9, "content": f"{base}/two"},
    ]
    links = parse_links(first.headers["link"])
    assert links == {"first": f"{base}?page=0&size=2", "next": f"{base}?page=1&size=2"}
    second = owner_api.get(links["next"])
    assert [entry["mediaName"] for entry in second.json()] == ["three"]
    assert set(parse_links(second.headers["link"])) == {"first", "previous"}
    assert owner_api.get(second.json()[0]["content"]).content == b"threethreethree"
    everything = owner_api.get(media_url(owner))  # no size: one page holds up to 1000
    assert [entry["mediaName"] for entry in everything.json()] == ["one", "two", "three"]
    assert parse_links(everything.headers["link"]) == {"first": f"{base}?page=0&size=1000"}
    assert_error(owner_api.get(media_url(owner), params={"size": 1001}), 400, "validation-error", "size")


# -- limits --------------------------------------------------------------------------------------------------


def test_the_size_limit_is_65_mib():
    assert parse_declared_size(str(MAX_MEDIA_BYTES)) == MAX_MEDIA_BYTES
    with pytest.raises(ApiError) as over:
        parse_declared_size(str(MAX_MEDIA_BYTES + 1))
    assert over.value.status == 403 and over.value.code == "media-size-overflow"


def test_65_mib_and_a_byte_is_refused_and_nothing_is_left(server, owner_api, owner):
    """Streamed from a generator: the test never holds the file, and neither does the server."""
    upload(owner_api, owner, "big.bin", b"the old file stays")
    chunk = b"\xa5" * (1 << 20)

    def too_big() -> Iterator[bytes]:
        for _ in range(MAX_MEDIA_BYTES // len(chunk)):
            yield chunk
        yield b"!"

    response = owner_api.put(
        media_url(owner, "big.bin"),
        content=too_big(),
        headers={"Content-Length": str(MAX_MEDIA_BYTES + 1), "Content-Type": "video/mp4"},
        timeout=120,
    )
    body = assert_error(response, 403, "media-size-overflow")
    assert body["message"] == (
        f"The media size {MAX_MEDIA_BYTES + 1} bytes is larger than the maximum {MAX_MEDIA_BYTES} bytes"
    )
    assert body["category"] == "forbidden"
    assert owner_api.get(media_url(owner, "big.bin")).content == b"the old file stays"
    assert files_on_disk(server, owner) == [f"{owner.user_id}/big.bin"]


def _drive_upload(data_dir: Path, declared: int, messages: Iterator[dict]) -> ApiError:
    """Call the upload handler directly (no server) with the given ASGI receive messages."""

    async def receive() -> dict:
        return next(messages)

    app = SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(data_dir=data_dir)))
    scope = {
        "type": "http",
        "method": "PUT",
        "path": "/v1/users/u-test/media/upload.bin",
        "headers": [(b"content-length", str(declared).encode())],
        "app": app,
    }
    user = User("u-test", "t-test", "salt", "hash", datetime.now(UTC))
    with pytest.raises(ApiError) as refused:
        asyncio.run(media_routes.upload_media(Request(scope, receive), "upload.bin", user))
    return refused.value


def test_the_stream_is_counted_too_and_reading_stops_at_the_limit(tmp_path, monkeypatch):
    """A body longer than its header said (which HTTP parsers already refuse) still stops at the limit:
    driven directly, with a 1000-byte limit and a client that would send 5000."""
    monkeypatch.setattr(media_routes, "MAX_MEDIA_BYTES", 1000)
    sent = []

    def messages() -> Iterator[dict]:
        while True:
            sent.append(100)
            yield {"type": "http.request", "body": b"z" * 100, "more_body": sum(sent) < 5000}

    refused = _drive_upload(tmp_path, 500, messages())
    assert refused.status == 403 and refused.code == "media-size-overflow"
    assert sum(sent) == 1100  # not one chunk more than it took to know
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []


def test_an_upload_cut_short_leaves_nothing(tmp_path):
    messages = iter(
        [
            {"type": "http.request", "body": b"half", "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    refused = _drive_upload(tmp_path, 8, messages)
    assert (refused.status, refused.code, refused.field) == (400, "validation-error", "Content-Length")
    assert refused.message == "The upload ended after 4 of 8 bytes"
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []


def test_an_oversized_upload_is_refused_before_its_body_is_sent(server, owner):
    """The server answers from the headers alone: a client waiting to send gets the 403 at once."""
    credentials = base64.b64encode(f"{owner.token}:{owner.secret}".encode()).decode()
    answer = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        request = (
            f"PUT {media_url(owner, 'huge.bin')} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Basic {credentials}\r\n"
            f"Content-Length: {MAX_MEDIA_BYTES * 10}\r\n\r\n"
        )
        sock.sendall(request.encode())
        while b"media-size-overflow" not in answer:
            received = sock.recv(65536)  # times out (failing the test) if the server waits for the body
            assert received, answer
            answer += received
    assert answer.startswith(b"HTTP/1.1 403 "), answer


def test_content_length_is_required(server, owner_api, owner):
    def chunks() -> Iterator[bytes]:
        yield b"no length"

    response = owner_api.put(media_url(owner, "chunked"), content=chunks())  # Transfer-Encoding: chunked
    body = assert_error(response, 400, "validation-error", "Content-Length")
    assert body["message"] == "The media size must be specified by the Content-Length header"
    assert files_on_disk(server, owner) == []


@pytest.mark.parametrize(
    "raw_name",
    [
        "a%2Fb",  # decodes to a/b
        "%2E%2E",
        "a..b",
        "%2E",
        "x%00y",
        "tab%09name",
        "line%0Abreak",
        "back%5Cslash",
        "n" * 256,
        "%C3%A9" * 128,  # é: 128 characters, 256 bytes
        "",
    ],
)
def test_bad_names_are_refused_naming_the_field(api, user, raw_name):
    url = f"{media_url(user)}/{raw_name}"
    assert_error(api.put(url, content=b"x"), 400, "validation-error", "mediaName")
    assert_error(api.get(url), 400, "validation-error", "mediaName")
    assert_error(api.delete(url), 400, "validation-error", "mediaName")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
@example(name="\ufffd")  # what undecodable %FF becomes
@example(name=" ")
def test_any_name_round_trips_exactly_or_is_refused_cleanly(api, user, name):
    """Names become file names: whatever a client sends is stored as itself or refused, never a 5xx."""
    url = f"{media_url(user)}/{quote(name, safe='')}"
    put = api.put(url, content=name.encode())
    if media_name_problem(name) is None:
        assert put.status_code == 200, put.text
        assert api.get(url).content == name.encode()
        assert api.delete(url).status_code == 200
    else:  # httpx drops a "." or ".." path segment before sending: PUT then lands on /media (405) or nothing
        assert put.status_code in (400, 404, 405) and put.json()["message"], put.text


def test_a_bad_content_type_is_refused(api, user):
    response = upload(api, user, "typed", b"x", **{"Content-Type": "t" * 256})
    assert_error(response, 400, "validation-error", "Content-Type")


# -- who may see what ----------------------------------------------------------------------------------------


def test_another_users_media_is_not_found(server, api, user, other_user):
    with server.client(other_user) as theirs:
        assert upload(theirs, other_user, "private.txt", b"theirs").status_code == 200
        mine = media_url(user, "private.txt")
        assert_error(api.get(mine), 404, "media-not-found")
        assert api.head(mine).status_code == 404
        assert_error(api.delete(mine), 404, "media-not-found")
        assert "private.txt" not in [entry["mediaName"] for entry in api.get(media_url(user)).json()]
        assert_error(api.get(media_url(other_user, "private.txt")), 401, "user-access-denied")
        assert theirs.get(media_url(other_user, "private.txt")).content == b"theirs"


def test_credentials_are_required(server, user):
    upload_path = media_url(user, "anon.bin")
    with server.client(None) as anonymous:
        for response in (
            anonymous.get(media_url(user)),
            anonymous.put(upload_path, content=b"x"),
            anonymous.get(upload_path),
            anonymous.delete(upload_path),
        ):
            assert response.status_code == 401
            assert response.json()["code"] == "authentication-failed"
        assert anonymous.head(upload_path).status_code == 401
    wrong = httpx.put(f"{server.base_url}{upload_path}", content=b"x", auth=(user.token, "wrong"))
    assert wrong.status_code == 401
    assert not Path(media_path(server.data_dir, user.user_id, "anon.bin")).exists()
