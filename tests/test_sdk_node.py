"""The official node-bandwidth 4.0.0 SDK, unchanged, against the real server (spec §11.1)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "sdk_node"


@pytest.fixture(scope="session")
def node_sdk() -> Path:
    """node-bandwidth installed from the lock file (bin/test installs node and npm when missing)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the SDK test; bin/test installs them")
    if not (HERE / "node_modules" / "node-bandwidth").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--omit=dev", "--loglevel=error"],
            cwd=HERE,
            check=True,
            timeout=300,
        )
    return HERE


def test_node_sdk_call_methods(node_sdk, server, user, callbacks):
    env = {
        **os.environ,
        "BASE_URL": server.base_url,
        "USER_ID": user.user_id,
        "API_TOKEN": user.token,
        "API_SECRET": user.secret,
        "CALLBACK_URL": callbacks.url("/ok/node-sdk"),
    }
    done = subprocess.run(
        ["node", "run.js"], cwd=node_sdk, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    call_id = seen["createdId"]
    assert call_id.startswith("c-")
    assert seen["got"]["id"] == call_id and seen["got"]["state"] == "started"
    assert seen["got"]["sipHeaders"] == {"X-Header-1": "value1"}
    assert seen["recordingAfterEnable"] is True
    assert seen["afterHangup"]["state"] == "completed"
    assert [e["name"] for e in seen["events"]] == ["create", "hangup"]
    assert seen["oneEvent"]["data"] == "ORIGINATOR_CANCEL"
    assert call_id in seen["listed"]
    assert seen["sipsError"]["statusCode"] == 403 and "SIPS is not supported" in seen["sipsError"]["message"]
    assert seen["answerError"]["statusCode"] == 403
    [hangup] = callbacks.wait_for(lambda r: r.path == "/ok/node-sdk" and r.json.get("callId") == call_id)
    assert hangup.json["eventType"] == "hangup" and hangup.json["tag"] == "from-node"
