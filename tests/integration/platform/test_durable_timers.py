"""Durable timers live in the database and fire by the injectable clock, across a restart."""

from datetime import timedelta

import pytest
from infra import create_database, drop_database, pg_url
from ledger.app import entries, make_service, record_entry, tables
from sqlalchemy import func, select

from kit import migrations
from kit.clock import ManualClock
from kit.db import Database, UnitOfWork
from kit.scheduler import Scheduler, Timer, pending, schedule

pytestmark = pytest.mark.integration


async def test_a_timer_set_before_a_restart_fires_after_it_exactly_once() -> None:
    name = await create_database()
    url = pg_url(name)
    definition = make_service("ledger")
    await migrations.upgrade(definition.migrations, url)
    clock = ManualClock()
    fired: list[str] = []

    async def escalate(uow: UnitOfWork, timer: Timer) -> None:
        fired.append(timer.key)

    try:
        before = Database(url, service="ledger", tables=tables, clock=clock)
        async with before.transaction() as uow:
            await schedule(uow, kind="escalate", key="WO-1", due_at=clock.now() + timedelta(minutes=30))
            await schedule(uow, kind="escalate", key="WO-2", due_at=clock.now() + timedelta(hours=3))
        assert await Scheduler(before, {"escalate": escalate}, service="ledger").run_due() == 0
        await before.dispose()  # the process goes away

        after = Database(url, service="ledger", tables=tables, clock=clock)
        scheduler = Scheduler(after, {"escalate": escalate}, service="ledger")
        clock.advance(timedelta(minutes=31))
        assert await scheduler.run_due() == 1
        assert await scheduler.run_due() == 0
        assert fired == ["WO-1"]
        async with after.transaction() as uow:
            assert [t.key for t in await pending(uow)] == ["WO-2"]
        await after.dispose()
    finally:
        await drop_database(name)


async def test_rescheduling_replaces_the_pending_timer() -> None:
    name = await create_database()
    url = pg_url(name)
    await migrations.upgrade(make_service("ledger").migrations, url)
    clock = ManualClock()
    db = Database(url, service="ledger", tables=tables, clock=clock)
    try:
        async with db.transaction() as uow:
            await schedule(uow, kind="late", key="A-1", due_at=clock.now() + timedelta(minutes=5))
            await schedule(uow, kind="late", key="A-1", due_at=clock.now() + timedelta(minutes=50))
        async with db.transaction() as uow:
            timers = await pending(uow, key="A-1")
        assert [t.due_at - clock.now() for t in timers] == [timedelta(minutes=50)]
    finally:
        await db.dispose()
        await drop_database(name)


async def test_a_failing_timer_handler_leaves_no_trace_and_succeeds_on_its_retry() -> None:
    """What a handler did before it failed (rows, events, after-commit callbacks) is undone with it; the
    timer is tried again later, and then its work counts once."""
    name = await create_database()
    url = pg_url(name)
    await migrations.upgrade(make_service("ledger").migrations, url)
    clock = ManualClock()
    db = Database(url, service="ledger", tables=tables, clock=clock)
    attempts: list[int] = []
    committed: list[str] = []

    async def book(uow: UnitOfWork, timer: Timer) -> None:
        attempts.append(timer.attempts)
        await record_entry(uow, amount=7)
        uow.after_commit(lambda: committed.append(timer.key))
        if len(attempts) == 1:
            raise RuntimeError("the first attempt fails after it wrote")

    async def outbox_and_entries() -> tuple[int, int]:
        async with db.transaction() as uow:
            events = (await uow.conn.execute(select(func.count()).select_from(tables.outbox))).scalar_one()
            rows = (await uow.conn.execute(select(func.count()).select_from(entries))).scalar_one()
        return events, rows

    try:
        async with db.transaction() as uow:
            await schedule(uow, kind="book", key="B-1", due_at=clock.now())
        scheduler = Scheduler(db, {"book": book}, service="ledger")
        assert await scheduler.run_due() == 1
        assert await outbox_and_entries() == (0, 0)
        assert committed == []

        clock.advance(timedelta(minutes=1))  # past the retry back-off
        assert await scheduler.run_due() == 1
        assert attempts == [0, 1]
        assert await outbox_and_entries() == (1, 1)
        assert committed == ["B-1"]
    finally:
        await db.dispose()
        await drop_database(name)
