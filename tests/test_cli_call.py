"""`trebuchet call` and `trebuchet demo` as a person runs them: real server, real phones, the real CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from .support import ServerProcess, phone_port, start_phone, trebuchet_cli


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("call")
    proc = ServerProcess(
        data_dir=tmp / "data", database_url=f"sqlite+aiosqlite:///{tmp / 'db.sqlite'}", ringing_trunk=False
    ).start()
    try:
        yield proc
    finally:
        proc.stop()


@contextmanager
def phone(*args: str) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """A callee; after the block, the list holds every event it printed."""
    proc = start_phone(*args)
    seen: list[dict[str, Any]] = []
    try:
        yield phone_port(proc), seen
    finally:
        try:
            proc.wait(timeout=5)  # one call and it exits by itself
        except subprocess.TimeoutExpired:
            proc.kill()
        out, _ = proc.communicate(timeout=5)
        seen += [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def call_args(server: ServerProcess, *args: str) -> list[str]:
    saved = server.data_dir / "credentials.json"
    return ["call", *args, "--api", server.base_url, "--credentials", str(saved)]


def events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_call_hangs_up_after_answer_and_passes_sip_headers(server):
    with phone("--tone", "440") as (port, heard):
        to = f"sip:bob@127.0.0.1:{port}"
        args = ("--json", "--hangup-after", "1", "--header", "X-Customer=42", "--tag", "t-1")
        done = trebuchet_cli(*call_args(server, to, *args))
    assert done.returncode == 0, done.stderr
    answer, hangup = events(done.stdout)
    assert answer["eventType"] == "answer" and answer["callState"] == "active" and answer["tag"] == "t-1"
    assert answer["to"] == to and answer["from"] == "+19195551212"
    assert answer["callId"] in done.stderr  # the note naming the call goes to stderr in --json mode
    assert hangup["eventType"] == "hangup" and hangup["cause"] == "NORMAL_CLEARING"
    assert hangup["callId"] == answer["callId"] and hangup["tag"] == "t-1"
    incoming = next(e for e in heard if e["event"] == "incoming")
    assert incoming["headers"] == {"X-Customer": "42"} and incoming["to"] == to
    assert heard[-1] == {"event": "ended", "reason": "remote"}


def test_call_to_a_busy_phone_ends_with_user_busy(server):
    with phone("--reject", "486") as (port, heard):
        done = trebuchet_cli(*call_args(server, f"sip:bob@127.0.0.1:{port}", "--json"))
    assert done.returncode == 0, done.stderr
    [hangup] = events(done.stdout)
    assert hangup["eventType"] == "hangup" and hangup["cause"] == "USER_BUSY"
    assert {"event": "rejected", "status": 486} in heard


def test_api_errors_exit_1_with_their_code(server):
    creds = server.first_user()
    bad = ("--user", creds.user_id, "--token", creds.token, "--secret", "not-the-secret")
    done = trebuchet_cli(*call_args(server, "sip:bob@127.0.0.1:5999", *bad))
    assert done.returncode == 1
    assert "401 authentication-failed" in done.stderr and done.stdout == ""
    invalid = trebuchet_cli(*call_args(server, "sip:bob@127.0.0.1:5999", "--header", "Customer=42"))
    assert invalid.returncode == 1
    assert "400 validation-error" in invalid.stderr and "sipHeaders.Customer" in invalid.stderr


def test_ctrl_c_hangs_the_call_up(server):
    with phone("--tone", "440") as (port, heard):
        proc = subprocess.Popen(
            [sys.executable, "-m", "trebuchet", *call_args(server, f"sip:bob@127.0.0.1:{port}", "--json")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            assert json.loads(proc.stdout.readline())["eventType"] == "answer"
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 130, err
    assert [e["cause"] for e in events(out)] == ["NORMAL_CLEARING"]
    assert heard[-1] == {"event": "ended", "reason": "remote"}


def test_demo_runs_a_whole_call_and_leaves_nothing_behind(tmp_path):
    done = trebuchet_cli("demo", "--seconds", "1", env={"TMPDIR": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    answer = next(i for i, line in enumerate(lines) if "callback" in line and " answer " in line)
    hangup = next(i for i, line in enumerate(lines) if "callback" in line and " hangup " in line)
    assert answer < hangup and "NORMAL_CLEARING" in lines[hangup]
    assert any("phone" in line and "incoming" in line for line in lines)
    assert any("phone" in line and "ended" in line for line in lines)
    assert list(tmp_path.iterdir()) == []  # the temporary data dir is gone
