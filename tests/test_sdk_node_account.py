"""node-bandwidth 4.0.0's Application, PhoneNumber and Media APIs, unchanged, against the real server (§11.1).

Kept apart from test_sdk_node.py (calls) so each file has one owner while the engine's tests change.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess

from .test_api_phone_numbers import fresh_number
from .test_sdk_node import HERE, node_sdk

__all__ = ["node_sdk"]  # the fixture, shared with test_sdk_node.py


def test_node_sdk_applications_and_numbers(node_sdk, server):
    creds = server.create_user()
    number = fresh_number()
    env = {
        **os.environ,
        "BASE_URL": server.base_url,
        "USER_ID": creds.user_id,
        "API_TOKEN": creds.token,
        "API_SECRET": creds.secret,
        "NUMBER": number,
    }
    done = subprocess.run(
        ["node", "account.js"], cwd=HERE, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    app_id = seen["appId"]
    assert app_id.startswith("a-")
    assert seen["app"]["id"] == app_id and seen["app"]["callbackHttpMethod"] == "GET"
    assert seen["app"]["autoAnswer"] is False
    assert seen["appAfterUpdate"]["name"] == "node app renamed"
    assert seen["appAfterUpdate"]["incomingCallUrl"] == "http://127.0.0.1:9/calls"
    [[first], [second]] = seen["appPages"]
    assert first == app_id and second.startswith("a-") and seen["appHasThirdPage"] is False
    number_id = seen["numberId"]
    assert number_id.startswith("n-")
    assert seen["numberById"] == seen["numberByNumber"]
    assert seen["numberById"]["number"] == number and seen["numberById"]["applicationId"] == app_id
    assert seen["numberAfterUpdate"]["applicationId"] == second
    assert seen["numberAfterUpdate"]["fallbackNumber"] == "+19195550000"
    assert seen["numberList"] == [number_id]
    assert seen["duplicate"]["statusCode"] == 409 and number in seen["duplicate"]["message"]
    assert "applicationId" not in seen["numberAfterAppDelete"]
    assert seen["numberGone"]["statusCode"] == 404
    assert seen["appGone"]["statusCode"] == 404


def test_node_sdk_media(node_sdk, server):
    creds = server.create_user()
    env = {
        **os.environ,
        "BASE_URL": server.base_url,
        "USER_ID": creds.user_id,
        "API_TOKEN": creds.token,
        "API_SECRET": creds.secret,
    }
    done = subprocess.run(["node", "media.js"], cwd=HERE, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    every_byte = bytes(range(256)) * 16
    base = f"{server.base_url}/v1/users/{creds.user_id}/media"
    assert seen["list"] == [
        {
            "mediaName": "node greeting.wav",
            "contentLength": len(every_byte),
            "content": f"{base}/node%20greeting.wav",
        },
        {"mediaName": "note.txt", "contentLength": 11, "content": f"{base}/note.txt"},
        {"mediaName": "streamed", "contentLength": 14, "content": f"{base}/streamed"},
    ]
    assert seen["download"]["contentType"] == "audio/wav"
    assert base64.b64decode(seen["download"]["base64"]) == every_byte
    assert seen["note"] == {"contentType": "text/plain", "content": "from a file"}
    assert seen["streamed"] == {"contentType": "application/octet-stream", "content": "streamed bytes"}
    assert seen["afterDelete"] == ["node greeting.wav", "streamed"]
    assert seen["gone"]["statusCode"] == 404 and "note.txt" in seen["gone"]["message"]
    assert seen["deleteAgain"]["statusCode"] == 404
