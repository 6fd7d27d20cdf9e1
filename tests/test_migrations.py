"""The Alembic migrations build exactly the schema that `store/tables.py` declares, on both backends."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from trebuchet.store.database import Database
from trebuchet.store.tables import metadata

from .support import create_postgres_database, drop_postgres_database


def _differences(sync_conn: sa.Connection) -> list:
    context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    return compare_metadata(context, metadata)


async def _migrate_and_compare(url: str) -> list:
    db = Database(url)
    try:
        await db.migrate()
        await db.migrate()  # a second run (another node, a restart) changes nothing
        async with db.write() as conn:
            return await conn.run_sync(_differences)
    finally:
        await db.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrations_match_the_declared_tables(kind, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}" if kind == "sqlite" else create_postgres_database()
    try:
        differences = asyncio.run(_migrate_and_compare(url))
    finally:
        if kind == "postgresql":
            drop_postgres_database(url)
    assert differences == []
