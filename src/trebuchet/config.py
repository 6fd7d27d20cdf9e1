"""Settings: embedded defaults, overridden by TREBUCHET_* environment variables, overridden by CLI flags."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field, fields
from pathlib import Path


def _env(name: str, default: str | None) -> str | None:
    return os.environ.get(f"TREBUCHET_{name}", default)


def split_addr(addr: str, default_port: int) -> tuple[str, int]:
    """'127.0.0.1:8080' → ('127.0.0.1', 8080); '[::1]:80' → ('::1', 80); a bare host takes default_port."""
    text = addr.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":")
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""
    if port and not port.isdigit():
        raise ValueError(f"bad port in address {addr!r}")
    return host or "127.0.0.1", int(port) if port else default_port


@dataclass
class Settings:
    http_addr: str = "127.0.0.1:8080"
    sip_addr: str = "127.0.0.1:5060"
    data_dir: Path = field(default_factory=lambda: Path("./data"))
    database_url: str | None = None  # None: SQLite file in data_dir
    public_url: str | None = None  # None: built from the request (Location) or http_addr (events)
    rtp_ports: str = "20000-20999"
    trunk_uri: str | None = None  # where E.164 destinations go, e.g. sip:127.0.0.1:5080;transport=tcp
    trunk_user: str | None = None  # digest credentials for the trunk's 401/407 challenge
    trunk_password: str | None = None
    sip_destinations: str = "127.0.0.0/8,::1/128"  # networks outbound SIP may go to
    media_timeout: float = 60.0  # seconds without RTP before an answered call is ended (0: never)
    node_id: str | None = None  # this process among several sharing a database; default host/sip_addr
    enforce_caller_id: bool = False  # `from` must be one of the user's numbers (401 number-access-denied)
    call_rate_limit: float = 50.0  # calls per second per account and per number (0: unlimited)
    api_rate_limit: int = 500  # requests per second per user and endpoint (0: unlimited)
    callback_concurrency: int = 64

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults ← environment ← the given overrides (None overrides are ignored)."""
        settings = cls()
        for spec in fields(cls):
            raw = _env(spec.name.upper(), None)
            if raw is not None and raw != "":
                setattr(settings, spec.name, _convert(spec.name, raw))
        for name, value in overrides.items():
            if value is not None:
                setattr(settings, name, _convert(name, value) if isinstance(value, str) else value)
        settings.data_dir = Path(settings.data_dir)
        return settings

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'trebuchet.db').resolve()}"

    @property
    def node(self) -> str:
        """Stable across restarts of the same server, distinct between servers sharing one database."""
        return self.node_id or f"{socket.gethostname()}/{self.sip_addr}"

    @property
    def http_host_port(self) -> tuple[str, int]:
        return split_addr(self.http_addr, 8080)

    @property
    def event_base_url(self) -> str:
        """Where resources live, for URLs in events that no request is there to tell us."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host, port = self.http_host_port
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _convert(name: str, raw: str) -> object:
    if name == "data_dir":
        return Path(raw)
    if name == "enforce_caller_id":
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if name in ("call_rate_limit", "media_timeout"):
        return float(raw)
    if name in ("api_rate_limit", "callback_concurrency"):
        return int(raw)
    return raw
