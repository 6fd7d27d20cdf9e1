"""Shared fixtures: each API test runs once against SQLite and once against the local PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .support import (
    CallbackServer,
    Credentials,
    ServerProcess,
    create_postgres_database,
    drop_postgres_database,
)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database URL for the server under test, created empty and dropped afterwards."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "trebuchet.db"
        yield f"sqlite+aiosqlite:///{path}"
        return
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture(scope="session")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(data_dir=tmp_path_factory.mktemp("data"), database_url=backend).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def user(server: ServerProcess) -> Credentials:
    return server.first_user()


@pytest.fixture(scope="session")
def other_user(server: ServerProcess) -> Credentials:
    return server.create_user()


@pytest.fixture
def api(server: ServerProcess, user: Credentials) -> Iterator[httpx.Client]:
    with server.client(user) as client:
        yield client


@pytest.fixture(scope="session")
def callbacks() -> Iterator[CallbackServer]:
    receiver = CallbackServer()
    try:
        yield receiver
    finally:
        receiver.close()


@pytest.fixture
def fresh_server(tmp_path: Path, backend: str) -> Iterator[ServerProcess]:
    """A server of its own (for restarts and settings), on a fresh database of the session's backend kind."""
    if backend.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path / 'own.db'}"
    else:
        url = create_postgres_database()
    process = ServerProcess(data_dir=tmp_path / "data", database_url=url)
    try:
        yield process
    finally:
        process.stop()
        if not backend.startswith("sqlite"):
            drop_postgres_database(url)
