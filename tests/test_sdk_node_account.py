"""node-bandwidth 4.0.0's Application and PhoneNumber APIs, unchanged, against the real server (§11.1).

Kept apart from test_sdk_node.py (calls) so each file has one owner while the engine's tests change.
"""

from __future__ import annotations

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
