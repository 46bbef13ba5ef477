"""Intake's migrations build exactly the schema its tables declare (PostgreSQL, as deployed)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from infra import create_database, drop_database, pg_url
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from intake.app import service
from kit import migrations

pytestmark = pytest.mark.integration


async def test_migrations_at_head_match_the_tables() -> None:
    db_name = await create_database()
    try:
        url = pg_url(db_name)
        await migrations.upgrade(service.migrations, url)
        engine = create_async_engine(url)

        def differences(conn: Connection) -> list[object]:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, service.metadata))

        async with engine.connect() as conn:
            assert await conn.run_sync(differences) == []
            assert await migrations.current_revision(engine) == migrations.head_revision(service.migrations)
        await engine.dispose()
    finally:
        await drop_database(db_name)
