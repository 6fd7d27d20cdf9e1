"""`trebuchet demo`: one whole call on this machine, to see the platform work in a few seconds.

It starts a throwaway `trebuchet serve` (temporary data dir, free loopback ports) and a `trebuchet phone`
that answers with a tone, places a call to the phone through the REST API exactly as `trebuchet call`
does, hangs up after a few seconds and shows both sides: what the phone saw over SIP and what the
server posted to the callback URL. Every child goes away afterwards, on Ctrl-C and on failure too.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

from .call import CallError, CallRequest, EventView, Item, load_credentials, run_call

HEALTHY_WITHIN = 20.0
PHONE_READY_WITHIN = 10.0
PHONE_ENDS_WITHIN = 3.0
STOP_WITHIN = 10.0


class DemoError(Exception):
    """A step of the set-up failed; the message says which."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _child_env() -> dict[str, str]:
    """The children get their settings from flags only: a TREBUCHET_* variable meant for the user's own
    server (a PostgreSQL URL, a public URL, wider SIP destinations) must not leak into the demo's."""
    return {name: value for name, value in os.environ.items() if not name.startswith("TREBUCHET_")}


def _pump(stream: IO[str] | None, sink: Callable[[str], None]) -> None:
    """Read a child's output on a thread until it closes, so a full pipe never stalls the child."""
    if stream is None:
        return

    def read() -> None:
        for line in stream:
            sink(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()


class Children:
    """The demo's child processes, each in its own session so the terminal's Ctrl-C reaches only us and
    we stop them in order (the server first, so its BYE or CANCEL still finds the phone)."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "trebuchet", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_child_env(),
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_WITHIN)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_WITHIN)
        self.procs.clear()


def _start_server(children: Children, data_dir: Path, log: collections.deque[str]) -> str:
    port = _free_port()
    proc = children.start(
        "serve",
        "--http",
        f"127.0.0.1:{port}",
        "--sip",
        f"127.0.0.1:{_free_port()}",
        "--data-dir",
        str(data_dir),
        "--database-url",
        f"sqlite+aiosqlite:///{data_dir / 'trebuchet.db'}",
    )
    _pump(proc.stdout, log.append)
    _pump(proc.stderr, log.append)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + HEALTHY_WITHIN
    with httpx.Client(timeout=1.0) as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise DemoError(f"the server exited with status {proc.returncode}")
            try:
                if http.get(f"{base_url}/healthz").status_code == 200:
                    return base_url
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise DemoError(f"the server was not healthy within {HEALTHY_WITHIN:g} s")


def _start_phone(children: Children, tone: float, inbox: queue.Queue[Item]) -> int:
    """Start the callee; its first line says where it listens, every later one goes to the inbox."""
    proc = children.start("phone", "--sip", "127.0.0.1:0", "--tone", f"{tone:g}")
    first: queue.Queue[dict[str, Any]] = queue.Queue()
    errors: collections.deque[str] = collections.deque(maxlen=20)

    def line(text: str) -> None:
        try:
            event = json.loads(text)
        except ValueError:
            event = {"event": "output", "line": text}
        if not isinstance(event, dict):
            event = {"event": "output", "line": text}
        if event.get("event") == "listening" and first.empty():
            first.put(event)
        else:
            inbox.put(Item("phone", event))

    _pump(proc.stdout, line)
    _pump(proc.stderr, errors.append)
    deadline = time.monotonic() + PHONE_READY_WITHIN
    while time.monotonic() < deadline:
        try:
            listening = first.get(timeout=0.2)
        except queue.Empty:
            if proc.poll() is not None:
                why = " ".join(errors)
                raise DemoError(f"the phone exited with status {proc.returncode}: {why}") from None
            continue
        return int(str(listening["sip"]).rsplit(":", 1)[1])
    raise DemoError(f"the phone did not start within {PHONE_READY_WITHIN:g} s")


def _wait_for_phone_end(view: EventView, inbox: queue.Queue[Item]) -> None:
    """The callback `hangup` can beat the phone's own `ended` line; wait briefly so both are shown."""
    done = {"ended", "cancelled", "rejected"}
    if any(item.source == "phone" and item.event.get("event") in done for item in view.shown):
        return
    deadline = time.monotonic() + PHONE_ENDS_WITHIN
    while (left := deadline - time.monotonic()) > 0:
        try:
            item = inbox.get(timeout=left)
        except queue.Empty:
            return
        view.add(item)
        if item.source == "phone" and item.event.get("event") in done:
            return


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM takes the same tidy way out as Ctrl-C, so `kill` leaves no children behind either."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_demo(seconds: float = 3.0, tone: float = 440.0, view: EventView | None = None) -> int:
    """0 when the call ran and hung up; 1 when a step failed (with why); 130 after Ctrl-C."""
    view = view or EventView(show_source=True)
    children = Children()
    inbox: queue.Queue[Item] = queue.Queue()
    server_log: collections.deque[str] = collections.deque(maxlen=40)
    data_dir = Path(tempfile.mkdtemp(prefix="trebuchet-demo-"))
    with _sigterm_as_interrupt():
        try:
            view.note("starting a server with a temporary data dir …")
            api_url = _start_server(children, data_dir, server_log)
            creds = load_credentials(data_dir / "credentials.json", None, None, None)
            port = _start_phone(children, tone, inbox)
            view.note(f"server {api_url} (user {creds.user_id}); phone listening on 127.0.0.1:{port}")
            request = CallRequest(
                to=f"sip:demo@127.0.0.1:{port}", tag="demo", headers={"X-Trebuchet-Demo": "hello"}
            )
            code = run_call(
                api_url, creds, request, view, hangup_after=seconds, max_wait=seconds + 60, inbox=inbox
            )
            if code == 0:
                _wait_for_phone_end(view, inbox)
                view.note("done: the phone answered (playing a tone); the call was hung up through the API")
            return code
        except (DemoError, CallError) as error:
            view.fail(str(error))
            if server_log:
                view.errors.print("[dim]last server output:[/dim]")
                for line in server_log:
                    view.errors.print(line, markup=False)
            return 1
        except KeyboardInterrupt:
            view.note("interrupted")
            return 130
        finally:
            try:
                children.stop_all()
            finally:
                shutil.rmtree(data_dir, ignore_errors=True)
