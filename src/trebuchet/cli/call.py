"""`trebuchet call`: place one call through the REST API and watch its callback events arrive.

It is what a Catapult application does, in one command: a callback receiver on loopback, a
`POST /calls` naming it as `callbackUrl`, then each event as it lands. `trebuchet demo` reuses all of
it, so the two show the same exchange the same way.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

DEFAULT_API = "http://127.0.0.1:8080"
DEFAULT_FROM = "+19195551212"
DEFAULT_MAX_WAIT = 600.0  # seconds; nothing waits for ever
HANGUP_GRACE = 10.0  # how long a hangup we asked for may take to come back as an event
MAX_BODY = 1 << 20


class CallError(Exception):
    """Anything that stops the command with a message and exit status 1."""


class ApiError(CallError):
    """The API said no; its Catapult error body's `code` and `message` are what the user needs."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"API error {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Credentials:
    user_id: str
    token: str
    secret: str


def load_credentials(
    path: Path | None, user_id: str | None, token: str | None, secret: str | None
) -> Credentials:
    """Flags (or TREBUCHET_* variables) first; whatever they leave out comes from the saved file."""
    saved: dict[str, Any] = {}
    if not (user_id and token and secret):
        file = path or Path(os.environ.get("TREBUCHET_DATA_DIR") or "data") / "credentials.json"
        try:
            saved = json.loads(file.read_text())
        except FileNotFoundError:
            raise CallError(
                f"no credentials: {file} does not exist; give --credentials FILE or --user/--token/--secret"
            ) from None
        except (OSError, ValueError) as error:
            raise CallError(f"cannot read credentials from {file}: {error}") from None
        if not isinstance(saved, dict):
            raise CallError(f"{file} is not a JSON object with userId, token and secret")
    found = Credentials(
        user_id or str(saved.get("userId") or ""),
        token or str(saved.get("token") or ""),
        secret or str(saved.get("secret") or ""),
    )
    values = {"userId": found.user_id, "token": found.token, "secret": found.secret}
    if missing := [name for name, value in values.items() if not value]:
        raise CallError(f"credentials lack {', '.join(missing)}")
    return found


@dataclass
class CallRequest:
    to: str
    from_: str = DEFAULT_FROM
    tag: str | None = None
    call_timeout: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, callback_url: str) -> dict[str, Any]:
        body: dict[str, Any] = {"from": self.from_, "to": self.to, "callbackUrl": callback_url}
        if self.tag is not None:
            body["tag"] = self.tag
        if self.call_timeout is not None:
            body["callTimeout"] = self.call_timeout
        if self.headers:
            body["sipHeaders"] = self.headers
        return body


def parse_headers(items: list[str]) -> dict[str, str]:
    """`X-Name=value` pairs; whether the names are acceptable is the API's call (it says why)."""
    headers: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CallError(f"--header needs X-Name=value, got {item!r}")
        headers[name.strip()] = value
    return headers


@dataclass
class Item:
    """One thing to show: a callback event, a phone event (demo), or a note of what we did."""

    source: str  # "callback", "phone", "api"
    event: dict[str, Any]
    at: float = field(default_factory=time.time)


# -- the callback receiver ------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class CallbackReceiver:
    """A loopback HTTP server that turns each callback into an `Item` on the inbox.

    Its path carries a random token, so nothing but the server we told about it posts events to it.
    """

    def __init__(self, inbox: queue.Queue[Item], host: str = "127.0.0.1") -> None:
        self.path = f"/trebuchet-call/{secrets.token_hex(8)}"
        path = self.path

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if self.path.split("?", 1)[0] != path or not 0 <= length <= MAX_BODY:
                    self.close_connection = True
                    self._reply(404)
                    return
                try:
                    event = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._reply(400)
                    return
                if isinstance(event, dict):
                    inbox.put(Item("callback", event))
                self._reply(200)

        self.httpd = _Server((host, 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}{self.path}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.1,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- the API ------------------------------------------------------------------------------------------------


class CallsApi:
    """The two requests the command makes: create a call and hang it up."""

    def __init__(self, base_url: str, creds: Credentials, timeout: float = 10.0) -> None:
        self.creds = creds
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, auth=(creds.token, creds.secret), timeout=timeout)

    def _send(self, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            response = self.http.post(f"/v1/users/{self.creds.user_id}{path}", json=body)
        except httpx.HTTPError as error:
            raise CallError(f"cannot reach the API at {self.base_url}: {error}") from None
        if response.status_code >= 400:
            raise _api_error(response)
        return response

    def create(self, request: CallRequest, callback_url: str) -> str:
        response = self._send("/calls", request.body(callback_url))
        location = response.headers.get("location", "")
        call_id = location.rstrip("/").rsplit("/", 1)[-1]
        if not call_id:
            raise CallError(f"the API answered {response.status_code} without a Location header")
        return call_id

    def hangup(self, call_id: str) -> None:
        self._send(f"/calls/{call_id}", {"state": "completed"})

    def close(self) -> None:
        self.http.close()


def _api_error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return ApiError(response.status_code, str(body.get("code") or "-"), str(body.get("message") or ""))
    return ApiError(response.status_code, "-", response.text[:200] or response.reason_phrase)


# -- showing events -------------------------------------------------------------------------------------


def _clock(item: Item) -> str:
    """HH:MM:SS.mmm UTC: the event's own `time` when it has one (the server's clock), else arrival."""
    stamp = item.event.get("time")
    if isinstance(stamp, str) and "T" in stamp:
        return stamp.split("T", 1)[1].rstrip("Z")[:12]
    return datetime.fromtimestamp(item.at, UTC).strftime("%H:%M:%S.%f")[:12]


def _kind(item: Item) -> str:
    return str(item.event.get("eventType") or item.event.get("event") or "?")


def _detail(item: Item) -> str:
    event = item.event
    if item.source == "callback":
        for key in ("cause", "callState", "state", "status", "dtmfDigit", "digits"):
            if event.get(key) not in (None, ""):
                return str(event[key])
        return ""
    parts = []
    for key, value in event.items():
        if key in ("event", "eventType"):
            continue
        if isinstance(value, dict):
            parts += [f"{name}={inner}" for name, inner in value.items()]
        else:
            parts.append(f"{key}={value}")
    return " ".join(parts)


class EventView:
    """Events as they come: rows of one table printed one at a time (so a pipe sees them live too),
    or JSON lines with `--json`. Notes go to stderr in JSON mode, so stdout stays pure JSON."""

    def __init__(
        self, as_json: bool = False, show_source: bool = False, console: Console | None = None
    ) -> None:
        self.as_json = as_json
        self.show_source = show_source
        self.console = console or Console(highlight=False, width=None if sys.stdout.isatty() else 120)
        self.errors = Console(stderr=True, highlight=False)
        self._headed = False
        self.shown: list[Item] = []

    def note(self, text: str) -> None:
        if self.as_json:
            self.errors.print(escape(text), soft_wrap=True)
        else:
            self.console.print(f"[dim]{escape(text)}[/dim]", soft_wrap=True)

    def fail(self, text: str) -> None:
        self.errors.print(f"[bold red]error:[/bold red] {escape(text)}", soft_wrap=True)

    def add(self, item: Item) -> None:
        self.shown.append(item)
        if self.as_json:
            payload = {"source": item.source, **item.event} if self.show_source else item.event
            print(json.dumps(payload, separators=(",", ":")), flush=True)
            return
        table = Table(box=None, show_header=not self._headed, header_style="bold", pad_edge=False)
        table.add_column("time", width=12, no_wrap=True)
        if self.show_source:
            table.add_column("from", width=8, no_wrap=True)
        table.add_column("event", width=10, no_wrap=True)
        table.add_column("state/cause", width=44, overflow="fold")
        table.add_column("tag", overflow="fold")
        style = {"callback": "cyan", "phone": "green"}.get(item.source, "")
        kind = f"[{style}]{escape(_kind(item))}[/{style}]" if style else escape(_kind(item))
        row = [_clock(item), *([item.source] if self.show_source else []), kind]
        row += [escape(_detail(item)), escape(str(item.event.get("tag") or ""))]
        table.add_row(*row)
        self.console.print(table)
        self._headed = True


# -- following a call -----------------------------------------------------------------------------------


def follow_call(
    api: CallsApi,
    request: CallRequest,
    view: EventView,
    inbox: queue.Queue[Item],
    receiver: CallbackReceiver,
    *,
    hangup_after: float | None = None,
    max_wait: float = DEFAULT_MAX_WAIT,
) -> int:
    """Create the call and show its events until its `hangup`: 0 then, 1 on an error or when we gave
    up, 130 after Ctrl-C (which hangs the call up first). Anything else on the inbox (the demo's phone)
    is shown as it comes."""
    call_id: str | None = None
    try:
        call_id = api.create(request, receiver.url)
        view.note(f"call {call_id}: {request.from_} → {request.to}")
        return _watch(api, call_id, view, inbox, hangup_after, max_wait)
    except CallError as error:
        view.fail(str(error))
        return 1
    except KeyboardInterrupt:
        if call_id is None:
            view.note("interrupted before the call was created")
            return 130
        view.note("interrupted: hanging up")
        try:
            _hang_up(api, call_id, view)
            _drain_until_hangup(call_id, view, inbox, time.monotonic() + HANGUP_GRACE)
        except KeyboardInterrupt:
            pass
        return 130


def _hang_up(api: CallsApi, call_id: str, view: EventView) -> None:
    try:
        api.hangup(call_id)
    except CallError as error:  # e.g. it ended on its own meanwhile; its hangup event still comes
        view.note(f"hangup request failed: {error}")


def _ours(item: Item, call_id: str) -> bool:
    return item.source != "callback" or item.event.get("callId") in (None, call_id)


def _watch(
    api: CallsApi,
    call_id: str,
    view: EventView,
    inbox: queue.Queue[Item],
    hangup_after: float | None,
    max_wait: float,
) -> int:
    deadline = time.monotonic() + max_wait
    overdue = f"no hangup after {max_wait:g} s (--max-wait)"
    hangup_at: float | None = None
    asked = False
    while True:
        now = time.monotonic()
        if hangup_at is not None and now >= hangup_at and not asked:
            view.note(f"hanging up through the API after {hangup_after:g} s")
            _hang_up(api, call_id, view)
            asked = True
            if now + HANGUP_GRACE < deadline:
                deadline = now + HANGUP_GRACE
                overdue = f"no hangup event within {HANGUP_GRACE:g} s of hanging up"
        if now >= deadline:
            if not asked:
                view.note(f"{overdue}: hanging up")
                _hang_up(api, call_id, view)
                _drain_until_hangup(call_id, view, inbox, now + HANGUP_GRACE)
            view.fail(f"gave up on {call_id}: {overdue}")
            return 1
        wake = deadline if hangup_at is None or asked else min(deadline, hangup_at)
        try:
            item = inbox.get(timeout=max(0.01, min(wake - now, 0.5)))
        except queue.Empty:
            continue
        if not _ours(item, call_id):
            continue
        view.add(item)
        if item.source != "callback":
            continue
        kind = item.event.get("eventType")
        if kind == "answer" and hangup_after is not None and hangup_at is None:
            hangup_at = time.monotonic() + hangup_after
        elif kind == "timeout" and time.monotonic() + HANGUP_GRACE < deadline:
            deadline = time.monotonic() + HANGUP_GRACE
            overdue = f"no hangup event within {HANGUP_GRACE:g} s of the timeout event"
        elif kind == "hangup":
            return 0


def _drain_until_hangup(call_id: str, view: EventView, inbox: queue.Queue[Item], deadline: float) -> bool:
    while (left := deadline - time.monotonic()) > 0:
        try:
            item = inbox.get(timeout=left)
        except queue.Empty:
            break
        if _ours(item, call_id):
            view.add(item)
            if item.source == "callback" and item.event.get("eventType") == "hangup":
                return True
    return False


def run_call(
    api_url: str,
    creds: Credentials,
    request: CallRequest,
    view: EventView,
    *,
    hangup_after: float | None = None,
    max_wait: float = DEFAULT_MAX_WAIT,
    inbox: queue.Queue[Item] | None = None,
) -> int:
    """Receiver up, call placed and followed, receiver down: the whole of `trebuchet call`."""
    inbox = inbox if inbox is not None else queue.Queue()
    receiver = CallbackReceiver(inbox)
    api = CallsApi(api_url, creds)
    try:
        return follow_call(api, request, view, inbox, receiver, hangup_after=hangup_after, max_wait=max_wait)
    finally:
        api.close()
        receiver.close()
