"""The database of one service and its unit of work (one transaction, events into the outbox)."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
from sqlalchemy import Table, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from contracts.envelope import CloudEvent, EventPayload, new_event
from kit import bulk
from kit.clock import Clock, SystemClock
from kit.tables import PlatformTables
from messaging import context, outbox

log = logging.getLogger(__name__)


def _to_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


#: JSON columns are written and read with orjson: the standard library's encoder was ~3% of the CPU
#: of opening a ticket (documents, audit detail, outbox rows), orjson's a tenth of that.
_JSON_CODEC: dict[str, Any] = {"json_serializer": _to_json, "json_deserializer": orjson.loads}


def make_engine(url: str, *, pool_size: int = 20, pool_wait: float = 10.0) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and write-ahead ``BEGIN IMMEDIATE``.

    On PostgreSQL the pool is fixed: ``pool_size`` connections, no overflow. Work beyond it waits up to
    ``pool_wait`` seconds for a connection (then ``sqlalchemy.exc.TimeoutError``, answered 503). Overflow
    connections are closed as soon as they are handed back, so under steady load above the pool size
    they were opened and closed continuously (a fifth of the throughput and a long latency tail in the
    ticket benchmark), and they make the database's connection count hard to budget. No unit of work
    holds two connections at once, so a fixed pool cannot deadlock on itself.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **_JSON_CODEC)

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
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=pool_wait,
        pool_recycle=1800,
        **_JSON_CODEC,
    )

    # Pessimistic disconnect handling, but only for connections that sat idle: a ping costs three
    # round trips (BEGIN, ping, ROLLBACK), which a connection back from work a moment ago does not
    # need. If the database went away meanwhile, the first error invalidates the whole pool.
    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE:
            return
        try:
            dbapi_conn.ping()
        except Exception as exc:
            raise DisconnectionError("connection lost while idle") from exc  # the pool reconnects

    return engine


#: Seconds a pooled connection may sit idle before it is pinged on checkout.
PING_AFTER_IDLE = 1.0


_UOW = "kit.unit_of_work"


def _write_deferred_rows(conn: Connection, *_: Any) -> None:
    """Before any statement on a unit of work's connection: write the rows it deferred."""
    uow = conn.info.get(_UOW)
    if uow is not None and uow._inserts:
        uow._write_deferred(conn)


# Statements that need the transaction: anything but a plain read. A SELECT that locks rows, takes an
# advisory lock or notifies must run inside it; sequence functions need not (they never roll back).
_READ = re.compile(r"\s*(SELECT|VALUES|TABLE)\b", re.IGNORECASE)
_NEEDS_TRANSACTION = re.compile(
    r"\bFOR\s+(UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b|ADVISORY|PG_NOTIFY|SET_CONFIG|INTO\b",
    re.IGNORECASE,
)
_read_only: dict[str, bool] = {}


def reads_only(statement: str) -> bool:
    """Whether ``statement`` is a plain read, which sees the same outside a transaction as inside one at
    READ COMMITTED (every statement takes its own snapshot there)."""
    known = _read_only.get(statement)
    if known is None:
        known = bool(_READ.match(statement)) and not _NEEDS_TRANSACTION.search(statement)
        if len(_read_only) < 4096:  # statements come from code, so the set is bounded; stay safe anyway
            _read_only[statement] = known
    return known


def _begin_before_writing(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
    """Before a statement reaches PostgreSQL: if its unit of work has not begun its transaction yet and
    the statement is more than a plain read, begin it now (see ``UnitOfWork`` on the lazy BEGIN)."""
    uow = conn.info.get(_UOW)
    if uow is not None and uow._lazy is not None and not uow._one_statement and not reads_only(statement):
        uow._begin_now()


class Database:
    def __init__(
        self,
        url: str,
        *,
        service: str,
        tables: PlatformTables,
        clock: Clock | None = None,
        pool_size: int = 20,
        pool_wait: float = 10.0,
    ) -> None:
        self.url = url
        self.service = service
        self.tables = tables
        self.clock: Clock = clock or SystemClock()
        self.engine = make_engine(url, pool_size=pool_size, pool_wait=pool_wait)
        self._after_commit: list[Callable[[], None]] = []
        event.listen(self.engine.sync_engine, "before_execute", _write_deferred_rows)
        if self.engine.dialect.name == "postgresql":
            event.listen(self.engine.sync_engine, "before_cursor_execute", _begin_before_writing)

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

    On PostgreSQL the transaction begins lazily: plain reads before the first write run on their own
    (at READ COMMITTED each statement takes its own snapshot anyway, so they see exactly what they would
    see inside the transaction), and BEGIN goes out just before the first statement that writes, locks
    or notifies. A unit of work whose only write is the one statement of its flush (the deferred rows,
    the audit rows and the outbox rows together) sends neither BEGIN nor COMMIT: a single statement is
    atomic on its own. A request that opens a ticket saves two of its round trips that way, a read-only
    request both of its transaction's.
    """

    conn: AsyncConnection

    def __init__(self, db: Database) -> None:
        self.db = db
        self.clock = db.clock
        self.events: list[CloudEvent] = []
        self._audit: list[dict[str, Any]] = []
        self._inserts: list[tuple[Table, list[dict[str, Any]]]] = []
        self._writing = False
        self._lazy: Any = None  # the driver connection while BEGIN is still deferred
        self._one_statement = False
        self._committed: list[Callable[[], None]] = []

    @property
    def tables(self) -> PlatformTables:
        return self.db.tables

    def now(self) -> datetime:
        return self.clock.now()

    async def __aenter__(self) -> UnitOfWork:
        self.conn = await self.db.engine.connect()
        try:
            await self.conn.begin()
            if self.conn.dialect.name == "postgresql":
                driver = (await self.conn.get_raw_connection()).dbapi_connection
                if driver is not None and getattr(driver, "_transaction", True) is None:
                    driver.autocommit = True  # until the first write: see the class's docstring
                    self._lazy = driver
        except BaseException:
            await self.conn.close()
            raise
        # kept: once a cancelled commit invalidated the connection, ``.info`` can no longer be reached
        self._info = self.conn.sync_connection.info  # type: ignore[union-attr]
        self._info[_UOW] = self
        return self

    def _begin_now(self) -> None:
        """Leave the lazy start: the next statement on the connection begins the transaction."""
        driver, self._lazy = self._lazy, None
        driver.autocommit = False

    @property
    def in_transaction(self) -> bool:
        """Whether statements run inside a transaction by now (always, except before the first write on
        PostgreSQL)."""
        return self._lazy is None

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
            self._info.pop(_UOW, None)
            if self._lazy is not None:
                self._begin_now()  # the pooled connection goes back as it came: transactional
            await self.conn.close()
        if exc_type is None:
            for callback in self._committed:
                callback()
            if self.events:
                for callback in self.db._after_commit:
                    callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this unit of work has committed (never after a rollback): for what must
        only count what happened, such as metrics."""
        self._committed.append(callback)

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested transaction: if the block raises, its changes, audit rows and events are undone."""
        await self.flush()  # rows deferred before the savepoint belong to the outer transaction
        if self._lazy is not None:
            self._begin_now()
        events, audit, committed = len(self.events), len(self._audit), len(self._committed)
        try:
            async with self.conn.begin_nested():
                yield
        except BaseException:
            del self.events[events:]
            del self._audit[audit:]
            del self._committed[committed:]
            self._inserts.clear()
            raise

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

    def insert(self, table: Table, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
        """Insert rows when the transaction commits, together with the audit rows and the events: on
        PostgreSQL all of them in one round trip (see ``kit.bulk``).

        For rows this transaction does not read or change again; ``await uow.flush()`` writes what is
        pending now if it must.
        """
        batch = rows if isinstance(rows, list) else [rows]
        if self._inserts and self._inserts[-1][0] is table:
            self._inserts[-1][1].extend(batch)
        else:
            self._inserts.append((table, list(batch)))

    async def flush(self) -> None:
        """Write the rows ``insert`` deferred now (any other statement on ``conn`` does this first)."""
        if self._inserts:
            await self.conn.run_sync(self._write_deferred)

    def _write_deferred(self, conn: Connection) -> None:
        """Called before every statement on this transaction's connection, so that deferred rows are
        written before anything reads or changes them: deferring never changes what a statement sees."""
        if self._inserts and not self._writing:
            pending, self._inserts = self._inserts, []
            self._writing = True
            try:
                bulk.write(conn, pending)
            finally:
                self._writing = False

    async def _flush(self) -> None:
        parts = self._inserts
        if self._audit:
            parts.append((self.tables.audit, self._audit))
        if self.events:
            parts.append((self.tables.outbox, outbox.rows(self.events)))
        self._inserts, self._audit = [], []
        notify = (
            outbox.notify_channel(self.db.service)
            if self.events and self.conn.dialect.name == "postgresql"
            else None
        )
        self._writing = True  # the statement below must not try to flush itself
        # nothing written yet and everything fits one statement: it needs no BEGIN/COMMIT around it
        self._one_statement = self._lazy is not None and bulk.fits_one_statement(parts)
        try:
            await bulk.insert_all(self.conn, parts, notify=notify)
        finally:
            self._writing = False
            self._one_statement = False
