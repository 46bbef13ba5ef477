"""Every stored instant reads back as the same instant, aware and in UTC, on PostgreSQL and on the
embedded SQLite alike — and compares correctly in SQL whatever offset it was written with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from infra import create_database, drop_database, pg_url
from sqlalchemy import Column, Integer, Table, select

from kit.db import Database
from kit.tables import UtcDateTime, define_platform_tables, new_metadata

pytestmark = pytest.mark.integration

metadata = new_metadata()
platform = define_platform_tables(metadata)
moments = Table(
    "moments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
)
BERLIN_SUMMER = timezone(timedelta(hours=2))


@pytest.fixture(params=["postgresql", "sqlite"])
async def db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    name = ""
    if request.param == "postgresql":
        name = await create_database()
        url = pg_url(name)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('utc') / 'utc.db'}"
    database = Database(url, service="utc-test", tables=platform)
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield database
    await database.dispose()
    if name:
        await drop_database(name)


async def test_an_instant_comes_back_aware_in_utc_and_orders_by_the_instant(db: Database) -> None:
    local = datetime(2026, 7, 1, 12, 0, tzinfo=BERLIN_SUMMER)  # 10:00 UTC
    earlier_utc = datetime(
        2026, 7, 1, 11, 0, tzinfo=UTC
    )  # smaller digits than 12:00+02:00, yet the later instant
    async with db.transaction() as uow:
        await uow.conn.execute(moments.insert(), [{"id": 1, "at": local}, {"id": 2, "at": earlier_utc}])
    async with db.engine.connect() as conn:
        rows = (await conn.execute(select(moments).order_by(moments.c.at))).all()
        after_half_past = (
            (
                await conn.execute(
                    select(moments.c.id).where(moments.c.at > datetime(2026, 7, 1, 10, 30, tzinfo=UTC))
                )
            )
            .scalars()
            .all()
        )
    assert [r.id for r in rows] == [1, 2]
    assert rows[0].at == local and rows[0].at.tzinfo == UTC
    assert rows[1].at == earlier_utc and rows[1].at.tzinfo == UTC
    assert after_half_past == [2]
