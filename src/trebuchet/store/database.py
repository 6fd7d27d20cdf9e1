"""Connections: one writer and a pool of readers on SQLite, one pool on PostgreSQL; migrations on start.

SQLite allows one writer at a time. Pooled writers queue on its file lock and time out under load, so
all writes go through a single connection (WAL mode lets readers go on meanwhile). PostgreSQL takes
concurrent writers, and there both roles share one pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant will do: it only has to be the same for every node migrating one PostgreSQL database.
_MIGRATION_LOCK = 0x7472_6562


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (see _begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_immediate(conn: sa.Connection) -> None:
    # A write transaction takes SQLite's write lock when it starts, not at its first INSERT/UPDATE, so a
    # read-then-write (claiming outbox rows, changing a call's state) cannot interleave with another
    # process doing the same.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Storage access: `write()` for a transaction that changes things, `read()` otherwise."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = sa.make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            database = self.url.database
            if database and database != ":memory:":
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.writer = create_async_engine(self.url, pool_size=1, max_overflow=0, pool_timeout=60)
            self.reader = create_async_engine(self.url, pool_size=4, max_overflow=4)
            for engine in (self.writer, self.reader):
                sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            sa.event.listen(self.writer.sync_engine, "begin", _begin_immediate)
        else:
            self.writer = create_async_engine(self.url, pool_size=pool_size, max_overflow=pool_size)
            self.reader = self.writer

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that commits on success and rolls back on any exception."""
        async with self.writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.reader.connect() as conn:
            yield conn

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision; safe to run from several nodes at once."""
        async with self.writer.begin() as conn:
            if not self.is_sqlite:
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            await conn.run_sync(_upgrade)

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        return (self.writer,) if self.reader is self.writer else (self.writer, self.reader)


def _upgrade(sync_conn: sa.Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = sync_conn
    command.upgrade(config, "head")
