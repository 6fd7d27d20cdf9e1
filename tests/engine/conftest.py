"""Fixtures of the end-to-end call tests: a server per test module (so other modules' ringing calls
never count as this module's leftovers), its first user, an API client that checks after every test
that nothing is left in the engine, and phones that are killed when the test ends."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ..support import Credentials, ServerProcess
from .support import Phone, assert_nothing_left, live_server, stop_live_server


@pytest.fixture(scope="module")
def live(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = live_server(backend, tmp_path_factory.mktemp("live"))
    try:
        yield server
    finally:
        stop_live_server(server)


@pytest.fixture(scope="module")
def creds(live: ServerProcess) -> Credentials:
    return live.first_user()


@pytest.fixture
def api(live: ServerProcess, creds: Credentials) -> Iterator[httpx.Client]:
    with live.client(creds) as client:
        yield client
        assert_nothing_left(client)


@pytest.fixture
def phones() -> Iterator[list[Phone]]:
    started: list[Phone] = []
    yield started
    for phone in started:
        phone.close()
