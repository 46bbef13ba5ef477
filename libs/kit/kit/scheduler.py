"""Durable timers: rows with a due time in the service's database, fired by its scheduler.

A timer fires in its own transaction together with the effects of its handler, so a crash either
fires it completely or not at all; several scheduler replicas share the work through
``FOR UPDATE SKIP LOCKED``. Time comes from the injectable clock, so tests move it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from kit.db import Database, UnitOfWork
from kit.metrics import TIMERS_FIRED

log = logging.getLogger(__name__)

MAX_TIMER_ATTEMPTS = 10


@dataclass(frozen=True)
class Timer:
    id: str
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int


TimerHandler = Callable[[UnitOfWork, Timer], Awaitable[None]]


async def schedule(
    uow: UnitOfWork,
    *,
    kind: str,
    key: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
    replace: bool = True,
) -> str:
    """Set the ``kind`` timer of ``key`` to ``due_at`` (replacing a pending one of the same kind and key).

    ``replace=False`` skips the look for a pending timer, for a key created in this very transaction.
    """
    if replace:
        await cancel(uow, kind=kind, key=key)
    timer_id = str(uuid.uuid4())
    uow.insert(
        uow.tables.timers,
        {
            "id": timer_id,
            "kind": kind,
            "key": key,
            "due_at": due_at,
            "payload": payload or {},
            "created_at": uow.now(),
            "attempts": 0,
        },
    )
    return timer_id


async def cancel(uow: UnitOfWork, *, kind: str, key: str) -> None:
    timers = uow.tables.timers
    await uow.conn.execute(
        update(timers)
        .where(
            timers.c.kind == kind,
            timers.c.key == key,
            timers.c.fired_at.is_(None),
            timers.c.cancelled_at.is_(None),
        )
        .values(cancelled_at=uow.now())
    )


async def pending(uow: UnitOfWork, *, key: str | None = None) -> list[Timer]:
    timers = uow.tables.timers
    query = select(timers).where(timers.c.fired_at.is_(None), timers.c.cancelled_at.is_(None))
    if key is not None:
        query = query.where(timers.c.key == key)
    rows = (await uow.conn.execute(query.order_by(timers.c.due_at))).all()
    return [_timer(r) for r in rows]


def _timer(row: Any) -> Timer:
    return Timer(row.id, row.kind, row.key, row.due_at, dict(row.payload or {}), row.attempts)


class Scheduler:
    def __init__(
        self,
        db: Database,
        handlers: dict[str, TimerHandler],
        *,
        service: str,
        interval: float = 1.0,
        batch: int = 100,
    ) -> None:
        self._db = db
        self._handlers = handlers
        self._service = service
        self._interval = interval
        self._batch = batch
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await self.run_due()
            except (OperationalError, DBAPIError, OSError) as exc:
                log.warning("scheduler paused: %s", exc.__class__.__name__)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            self._wake.clear()

    async def run_due(self) -> int:
        """Fire every timer due by the clock's now; the number fired."""
        fired = 0
        while True:
            batch = await self._fire_batch()
            fired += batch
            if batch == 0:
                return fired

    async def _fire_batch(self) -> int:
        timers = self._db.tables.timers
        now = self._db.clock.now()
        fired = 0
        for _ in range(self._batch):
            async with self._db.transaction() as uow:
                query = (
                    select(timers)
                    .where(
                        and_(
                            timers.c.fired_at.is_(None),
                            timers.c.cancelled_at.is_(None),
                            timers.c.due_at <= now,
                        )
                    )
                    .order_by(timers.c.due_at)
                    .limit(1)
                )
                if uow.conn.dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                row = (await uow.conn.execute(query)).first()
                if row is None:
                    return fired
                timer = _timer(row)
                handler = self._handlers.get(timer.kind)
                try:
                    async with uow.savepoint():  # a failing handler's rows, events and callbacks go
                        if handler is not None:
                            await handler(uow, timer)
                    outcome = "fired" if handler is not None else "no_handler"
                    await uow.conn.execute(update(timers).where(timers.c.id == timer.id).values(fired_at=now))
                except Exception as exc:
                    if isinstance(exc, OperationalError | DBAPIError) and getattr(
                        exc, "connection_invalidated", False
                    ):
                        raise
                    outcome = "failed"
                    attempts = timer.attempts + 1
                    log.exception("timer handler failed", extra={"kind": timer.kind, "key": timer.key})
                    values: dict[str, Any] = {"attempts": attempts, "last_error": repr(exc)[:2000]}
                    if attempts >= MAX_TIMER_ATTEMPTS:
                        values["cancelled_at"] = now
                    else:
                        values["due_at"] = now + timedelta(seconds=min(2**attempts, 300))
                    await uow.conn.execute(update(timers).where(timers.c.id == timer.id).values(**values))
                uow.after_commit(TIMERS_FIRED.labels(self._service, timer.kind, outcome).inc)
            fired += 1
        return fired
