"""The database of one service and its unit of work (one transaction, events into the outbox)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from contracts.envelope import CloudEvent, EventPayload, new_event
from kit.clock import Clock, SystemClock
from kit.tables import PlatformTables
from messaging import context, outbox

log = logging.getLogger(__name__)


def make_engine(url: str, *, pool_size: int = 20) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and write-ahead ``BEGIN IMMEDIATE``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Take the write lock up front: two deferred transactions upgrading at once deadlock.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_recycle=1800
    )


class Database:
    def __init__(
        self,
        url: str,
        *,
        service: str,
        tables: PlatformTables,
        clock: Clock | None = None,
        pool_size: int = 20,
    ) -> None:
        self.url = url
        self.service = service
        self.tables = tables
        self.clock: Clock = clock or SystemClock()
        self.engine = make_engine(url, pool_size=pool_size)
        self._after_commit: list[Callable[[], None]] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after every commit that staged events (the relay's wake-up)."""
        self._after_commit.append(callback)

    def transaction(self) -> UnitOfWork:
        return UnitOfWork(self)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


class UnitOfWork:
    """One transaction: the changes, their audit rows and their events commit together or not at all.

    ``async with db.transaction() as uow:`` commits on a clean exit and rolls back on an exception.
    """

    conn: AsyncConnection

    def __init__(self, db: Database) -> None:
        self.db = db
        self.clock = db.clock
        self.events: list[CloudEvent] = []
        self._audit: list[dict[str, Any]] = []

    @property
    def tables(self) -> PlatformTables:
        return self.db.tables

    def now(self) -> datetime:
        return self.clock.now()

    async def __aenter__(self) -> UnitOfWork:
        self.conn = await self.db.engine.connect()
        try:
            await self.conn.begin()
        except BaseException:
            await self.conn.close()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None:
                await self._flush()
                await self.conn.commit()
            else:
                await self.conn.rollback()
        finally:
            await self.conn.close()
        if exc_type is None and self.events:
            for callback in self.db._after_commit:
                callback()

    def emit(self, payload: EventPayload, *, time: datetime | None = None) -> CloudEvent:
        """Stage an event; it is written to the outbox in this transaction."""
        ctx = context.current()
        event_ = new_event(
            payload,
            service=self.db.service,
            time=time or self.now(),
            correlation_id=ctx.correlation_id,
            causation_id=ctx.causation_id,
            traceparent=ctx.traceparent,
        )
        self.events.append(event_)
        return event_

    def audit(self, *, actor: str, action: str, entity_type: str, entity_id: str, **detail: Any) -> None:
        """Record who did what to which entity, committed with the change."""
        self._audit.append(
            {
                "at": self.now(),
                "actor": actor,
                "action": action,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "correlation_id": context.correlation_id(),
                "detail": detail,
            }
        )

    async def _flush(self) -> None:
        if self._audit:
            await self.conn.execute(self.tables.audit.insert(), self._audit)
            self._audit = []
        await outbox.stage(self.conn, self.tables.outbox, self.events, service=self.db.service)
