"""Dispatch's copy of what each van holds, in the embedded database (SQLite): a late or repeated stock
event never undoes a newer one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dispatch import store
from dispatch.app import service
from kit import migrations
from kit.clock import ManualClock
from kit.db import Database

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'dispatch.db'}"
    await migrations.upgrade(service.migrations, url)
    database = Database(url, service="dispatch", tables=service.tables, clock=ManualClock(T0))
    try:
        yield database
    finally:
        await database.dispose()


async def keep(db: Database, *, van: str, part: str, available: int, version: int) -> bool:
    async with db.transaction() as uow:
        return await store.keep_van_stock(
            uow,
            location_id=van,
            part_number=part,
            on_hand=available + 1,
            reserved=1,
            available=available,
            version=version,
            changed_at=T0 + timedelta(minutes=version),
        )


async def held(db: Database, *vans: str) -> dict[str, dict[str, int]]:
    async with db.transaction() as uow:
        return await store.van_stock(uow, vans)


async def test_a_late_stock_level_does_not_overwrite_a_newer_one(db: Database) -> None:
    assert await keep(db, van="van-1", part="HE-200", available=3, version=5)
    assert not await keep(db, van="van-1", part="HE-200", available=0, version=4), "older: ignored"
    assert not await keep(db, van="van-1", part="HE-200", available=0, version=5), "repeated: ignored"

    assert await held(db, "van-1") == {"van-1": {"HE-200": 3}}

    assert await keep(db, van="van-1", part="HE-200", available=1, version=6)
    assert await held(db, "van-1") == {"van-1": {"HE-200": 1}}


async def test_stock_is_read_for_the_vans_asked_only_and_empty_parts_are_left_out(db: Database) -> None:
    await keep(db, van="van-1", part="HE-200", available=2, version=1)
    await keep(db, van="van-1", part="TH-10", available=0, version=1)
    await keep(db, van="van-2", part="TH-10", available=4, version=1)
    await keep(db, van="van-3", part="HE-200", available=9, version=1)

    assert await held(db, "van-1", "van-2", "van-9") == {"van-1": {"HE-200": 2}, "van-2": {"TH-10": 4}}
    assert await held(db) == {}
