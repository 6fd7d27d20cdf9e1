"""python-bandwidth's account client (bandwidth_sdk 3.1.0), unchanged, on applications, numbers and media.

Kept apart from test_sdk_python.py (the voice client) so each file has one owner while the engine's tests
change; both run the SDK against the real server the same way.
"""

from __future__ import annotations

import pytest

from .test_api_phone_numbers import fresh_number

bandwidth = pytest.importorskip("bandwidth", reason="bandwidth_sdk is a dev dependency")
from bandwidth.account.api_exception_module import BandwidthAccountAPIException  # noqa: E402


@pytest.fixture
def account(server):
    creds = server.create_user()
    return bandwidth.client("account", creds.user_id, creds.token, creds.secret, api_endpoint=server.base_url)


def test_sdk_application_round_trip(account):
    app_id = account.create_application(
        name="sdk app",
        incoming_call_url="http://127.0.0.1:9/calls",
        incoming_call_url_callback_timeout="3000",
        callback_http_method="get",
        auto_answer=False,
    )  # every other property arrives as null
    assert app_id.startswith("a-")
    app = account.get_application(app_id)
    assert app["id"] == app_id and app["name"] == "sdk app"
    assert app["incoming_call_url"] == "http://127.0.0.1:9/calls"
    assert app["incoming_call_url_callback_timeout"] == 3000
    assert app["callback_http_method"] == "GET" and app["auto_answer"] is False
    account.update_application(app_id, name="renamed", auto_answer=True)
    app = account.get_application(app_id)
    assert (app["name"], app["auto_answer"], app["callback_http_method"]) == ("renamed", True, "GET")
    more = [
        account.create_application(name=f"more {i}", incoming_message_url="http://127.0.0.1:9/m")
        for i in range(2)
    ]
    assert [a["id"] for a in account.list_applications(size=2)] == [app_id, *more]  # two pages via Link
    account.delete_application(app_id)
    with pytest.raises(BandwidthAccountAPIException) as missing:
        account.get_application(app_id)
    assert missing.value.status_code == 404 and missing.value.code == "application-not-found"
    with pytest.raises(BandwidthAccountAPIException) as refused:
        account.create_application(name="no urls")
    assert refused.value.status_code == 400
    assert refused.value.message == "Your application must have a least one callback URL."


def test_sdk_phone_number_round_trip(account):
    app_id = account.create_application(name="numbers", incoming_call_url="http://127.0.0.1:9/calls")
    number = fresh_number()
    number_id = account.order_phone_number(number=number, name="desk", application_id=app_id)
    assert number_id.startswith("n-")
    got = account.get_phone_number(number_id)
    assert (got["id"], got["number"], got["name"]) == (number_id, number, "desk")
    assert got["application_id"] == app_id and got["application"].endswith(f"/applications/{app_id}")
    assert got["number_state"] == "enabled" and got["national_number"].startswith("(919) ")
    assert account.get_phone_number(number) == got  # the SDK puts the bare +1919… in the path
    account.update_phone_number(number_id, name="front desk")  # applicationId null: stays attached
    assert account.get_phone_number(number_id)["application_id"] == app_id
    second = account.order_phone_number(number=fresh_number(), application_id=app_id)
    listed = [n["id"] for n in account.list_phone_numbers(application_id=app_id, size=1)]
    assert listed == [number_id, second]
    assert [n["name"] for n in account.list_phone_numbers(name="front desk")] == ["front desk"]
    with pytest.raises(BandwidthAccountAPIException) as taken:
        account.order_phone_number(number=number)
    assert taken.value.status_code == 409 and taken.value.code == "duplicate-number"
    account.update_phone_number(number_id, application_id="")
    assert "application_id" not in account.get_phone_number(number_id)
    account.delete_phone_number(number_id)
    with pytest.raises(BandwidthAccountAPIException) as released:
        account.get_phone_number(number_id)
    assert released.value.status_code == 404 and released.value.code == "number-not-found"


def test_sdk_media_round_trip(account, tmp_path):
    data = bytes(range(256)) * 40
    _, response, _ = account.upload_media_file("sdk greeting.wav", content=data, content_type="audio/wav")
    assert response.status_code == 200
    source = tmp_path / "note.txt"
    source.write_bytes(b"from a file")
    account.upload_media_file("note.txt", file_path=str(source), content_type="text/plain")
    listed = list(account.list_media_files())
    assert [(m["media_name"], m["content_length"]) for m in listed] == [
        ("sdk greeting.wav", len(data)),
        ("note.txt", 11),
    ]
    assert listed[0]["content"].endswith("/media/sdk%20greeting.wav")
    raw, content_type = account.download_media_file("sdk greeting.wav")
    assert (raw.read(), content_type) == (data, "audio/wav")
    account.upload_media_file("note.txt", content="replaced", content_type="text/plain")
    raw, _ = account.download_media_file("note.txt")
    assert raw.read() == b"replaced"
    account.delete_media_file("sdk greeting.wav")
    assert [m["media_name"] for m in account.list_media_files()] == ["note.txt"]
    with pytest.raises(BandwidthAccountAPIException) as gone:
        account.delete_media_file("sdk greeting.wav")
    assert gone.value.status_code == 404 and gone.value.code == "media-not-found"
