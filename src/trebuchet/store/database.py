"""Connections: SQLite inline on the event loop behind one writer lock, or an asyncpg pool for PostgreSQL.

SQLite (the embedded default) runs its statements inline on the event loop with the plain sqlite3
driver. In WAL mode readers never wait for the writer, an indexed read or a small commit takes tens of
microseconds, and handing each statement to a driver thread and back (aiosqlite) cost several times the
work itself (measured in bench/api.py). SQLite allows one writer at a time, so writes queue on an
asyncio lock for the single write connection, and a write lock held by another process (the CLI, a
second server) is waited for with asynchronous back-off rather than by blocking the loop.

PostgreSQL takes concurrent writers and is used through SQLAlchemy's asyncio engine on asyncpg.
Repositories see the same small interface either way: `await conn.execute(statement)`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant will do: it only has to be the same for every node migrating one PostgreSQL database.
_MIGRATION_LOCK = 0x7472_6562
# How long a write waits for another process's SQLite write lock before giving up.
WRITE_LOCK_TIMEOUT = 30.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver: SQLAlchemy says when transactions begin (see _begin_immediate), and a
    # reader holds no transaction open between statements (which would pin the WAL).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=0")  # never block the loop: Database.write() retries instead
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_immediate(conn: sa.Connection) -> None:
    # A write transaction takes SQLite's write lock when it starts, not at its first INSERT/UPDATE, so a
    # read-then-write (claiming outbox rows, changing a call's state) cannot interleave with another
    # process doing the same, and the only place a write can meet a busy lock is here.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class InlineConnection:
    """The part of AsyncConnection repositories use, over a synchronous SQLite connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    async def execute(self, statement: sa.Executable, parameters: Any = None) -> sa.CursorResult[Any]:
        return self._conn.execute(statement, parameters)

    async def run_sync(self, fn: Callable[[sa.Connection], Any]) -> Any:
        return fn(self._conn)


class Database:
    """Storage access: `write()` for a transaction that changes things, `read()` otherwise."""

    def __init__(self, url: str, *, pool_size: int = 16) -> None:
        self.url = sa.make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            database = self.url.database
            if database and database != ":memory:":
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self._sqlite = sa.create_engine(
                self.url.set(drivername="sqlite"), pool_size=5, max_overflow=0, pool_reset_on_return=None
            )
            sa.event.listen(self._sqlite, "connect", _sqlite_pragmas)
            self._write_lock = asyncio.Lock()
        else:
            self._async = create_async_engine(self.url, pool_size=pool_size, max_overflow=0, pool_timeout=60)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that commits on success and rolls back on any exception."""
        if not self.is_sqlite:
            async with self._async.begin() as conn:
                yield conn
            return
        async with self._write_lock:
            with self._sqlite.connect() as conn:
                await self._begin(conn)
                try:
                    yield InlineConnection(conn)  # type: ignore[misc]
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()

    async def _begin(self, conn: sa.Connection) -> None:
        """BEGIN IMMEDIATE, waiting (without blocking the loop) while another process holds the lock."""
        deadline = time.monotonic() + WRITE_LOCK_TIMEOUT
        pause = 0.002
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                conn.rollback()
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.1)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading (no transaction on SQLite: each statement sees the latest commit)."""
        if not self.is_sqlite:
            async with self._async.connect() as conn:
                yield conn
            return
        with self._sqlite.connect() as conn:
            yield InlineConnection(conn)  # type: ignore[misc]

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision; safe to run from several nodes at once."""
        async with self.write() as conn:
            if not self.is_sqlite:
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            await conn.run_sync(_upgrade)

    async def dispose(self) -> None:
        if self.is_sqlite:
            self._sqlite.dispose()
        else:
            await self._async.dispose()


def _upgrade(sync_conn: sa.Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = sync_conn
    command.upgrade(config, "head")
