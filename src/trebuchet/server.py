"""Running the server: migrate, make sure a user exists, print how to reach it, then serve HTTP on uvloop."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path

import uvicorn

from .api.app import create_app
from .config import Settings
from .store import users
from .store.database import Database

CREDENTIALS_FILE = "credentials.json"
log = logging.getLogger("trebuchet")


async def ensure_first_user(settings: Settings) -> dict[str, str] | None:
    """Create a user on first start and keep its credentials in DATA_DIR/credentials.json (mode 0600).

    Later starts print the same credentials from that file. None if users exist but the file is gone
    (the secret is stored only as a hash and cannot be shown again).
    """
    path = Path(settings.data_dir) / CREDENTIALS_FILE
    db = Database(settings.resolved_database_url)
    try:
        await db.migrate()
        async with db.write() as conn:
            if path.exists():
                saved = json.loads(path.read_text())
                if await users.user_by_id(conn, saved.get("userId", "")) is not None:
                    return saved
            if await users.list_users(conn):
                return None
            created = await users.create_user(conn)
        saved = {"userId": created.user.id, "token": created.user.token, "secret": created.secret}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(saved, handle, indent=2)
        return saved
    finally:
        await db.dispose()


def banner(settings: Settings, creds: dict[str, str] | None) -> str:
    host, port = settings.http_host_port
    base = settings.public_url or (f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}")
    lines = [f"Trebuchet listening on {base}  (database: {_safe_url(settings.resolved_database_url)})"]
    if creds:
        lines += [
            f"  userId: {creds['userId']}",
            f"  token:  {creds['token']}",
            f"  secret: {creds['secret']}",
            f"  try:    curl -u {creds['token']}:{creds['secret']} {base}/v1/users/{creds['userId']}/calls",
        ]
    else:
        lines.append("  users exist but no saved credentials: make one with `trebuchet users create`")
    return "\n".join(lines)


def _safe_url(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


async def serve(settings: Settings) -> None:
    creds = await ensure_first_user(settings)
    print(banner(settings, creds), flush=True)
    host, port = settings.http_host_port
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        loop="none",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="info",
        timeout_graceful_shutdown=5,
    )
    await uvicorn.Server(config).serve()


def run(settings: Settings) -> None:
    import sys

    sys.setswitchinterval(float(os.environ.get("TREBUCHET_SWITCH", "0.005")))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per callback drowns the log
    try:
        import uvloop

        uvloop.run(serve(settings))
    except ImportError:  # pragma: no cover - uvloop is a dependency; stay usable without it
        asyncio.run(serve(settings))
