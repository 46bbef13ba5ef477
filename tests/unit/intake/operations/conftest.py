"""Intake's use cases on a real (SQLite) database: the embedded mode's storage, created from the metadata."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from intake.domain.common import Actor
from intake.tables import metadata, platform
from kit.clock import ManualClock
from kit.db import Database

T0 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # a Monday morning


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def db(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Database]:
    database = Database(
        f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}", service="intake", tables=platform, clock=clock
    )
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
def agent() -> Actor:
    return Actor.user("anna", "agent", name="Anna Agent")


@pytest.fixture
def supervisor() -> Actor:
    return Actor.user("sue", "agent", "supervisor")
