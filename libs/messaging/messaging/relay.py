"""The outbox relay: publishes committed outbox rows with publisher confirms, then marks them sent.

Woken right after a local commit and by PostgreSQL NOTIFY from other processes; a polling sweep
is the safety net (and picks up rows a crashed relay left behind). Several relays may run at once:
on PostgreSQL each batch is claimed with ``FOR UPDATE SKIP LOCKED``. A crash between the publish
and the mark re-publishes the same event ids, which consumers' inboxes absorb.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Table, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from messaging.metrics import EVENTS_PUBLISHED, OUTBOX_LAG, OUTBOX_PENDING
from messaging.outbox import notify_channel
from messaging.transport import OutboundMessage, Transport, TransportUnavailable

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        outbox: Table,
        transport: Transport,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        publish_timeout: float = 10.0,
        retention: timedelta = timedelta(days=7),
        after_publish: Callable[[list[str]], None] | None = None,
    ) -> None:
        self.service = service
        self._engine = engine
        self._outbox = outbox
        self._transport = transport
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._publish_timeout = publish_timeout
        self._retention = retention
        # Fault-injection point for tests that kill the relay between publish and mark.
        self.after_publish = after_publish
        self._wake = asyncio.Event()
        self._listener: Any = None
        self._last_purge = datetime.min.replace(tzinfo=UTC)
        self._gauges_at = 0.0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Publish until cancelled, surviving broker and database outages."""
        backoff = self._poll_interval
        listen_task = asyncio.create_task(self._listen(), name=f"relay-listen:{self.service}")
        try:
            while True:
                try:
                    await self.drain()
                    await self._maybe_purge()
                    backoff = self._poll_interval
                except (TransportUnavailable, OperationalError, DBAPIError, OSError) as exc:
                    log.warning("relay paused: %s", exc.__class__.__name__, extra={"service": self.service})
                    backoff = min(backoff * 2, 10.0)
                    await asyncio.sleep(backoff)
                    continue
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_interval):
                        await self._wake.wait()
                self._wake.clear()
        finally:
            listen_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listen_task

    async def drain(self) -> int:
        """Publish every pending row now; the number published."""
        total = 0
        while True:
            published = await self.publish_batch()
            total += published
            if published < self._batch_size:
                await self._maybe_update_gauges()
                return total

    async def publish_batch(self) -> int:
        outbox = self._outbox
        async with self._engine.connect() as conn, conn.begin():
            query = (
                select(outbox.c.seq, outbox.c.event_id, outbox.c.event_type, outbox.c.body)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.seq)
                .limit(self._batch_size)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = (await conn.execute(query)).all()
            if not rows:
                return 0
            messages = [
                OutboundMessage(message_id=r.event_id, routing_key=r.event_type, body=bytes(r.body))
                for r in rows
            ]
            if not self._transport.connected:
                raise TransportUnavailable("broker not connected")
            confirmed = await self._transport.publish(messages, timeout=self._publish_timeout)
            if self.after_publish is not None:
                self.after_publish(sorted(confirmed))
            done = [r.seq for r in rows if r.event_id in confirmed]
            failed = [r.seq for r in rows if r.event_id not in confirmed]
            now = datetime.now(UTC)
            if done:
                await conn.execute(
                    update(outbox).where(_seq_in(outbox, done, conn.dialect.name)).values(published_at=now)
                )
            if failed:
                await conn.execute(
                    update(outbox)
                    .where(_seq_in(outbox, failed, conn.dialect.name))
                    .values(attempts=outbox.c.attempts + 1)
                )
        published = Counter(r.event_type for r in rows if r.event_id in confirmed)
        for event_type, n in published.items():
            EVENTS_PUBLISHED.labels(self.service, event_type).inc(n)
        if failed:
            raise TransportUnavailable(f"{len(failed)} publishes not confirmed")
        return len(done)

    async def pending(self) -> tuple[int, float]:
        """Unpublished rows and the age in seconds of the oldest one."""
        outbox = self._outbox
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
                )
            ).one()
        count, oldest = row
        if oldest is None:
            return int(count), 0.0
        return int(count), max(0.0, (datetime.now(UTC) - oldest).total_seconds())

    async def _maybe_update_gauges(self) -> None:
        # A count over the outbox on every commit's wake-up would tax the hot path; once per interval is enough.
        now = time.monotonic()
        if now - self._gauges_at < self._poll_interval:
            return
        self._gauges_at = now
        count, lag = await self.pending()
        OUTBOX_PENDING.labels(self.service).set(count)
        OUTBOX_LAG.labels(self.service).set(lag)

    async def _maybe_purge(self) -> None:
        now = datetime.now(UTC)
        if now - self._last_purge < timedelta(minutes=10):
            return
        self._last_purge = now
        async with self._engine.begin() as conn:
            await conn.execute(
                self._outbox.delete().where(self._outbox.c.published_at < now - self._retention)
            )

    async def _listen(self) -> None:
        """Wake on NOTIFY from commits in other processes (PostgreSQL only); reconnect on loss."""
        if self._engine.dialect.name != "postgresql":
            return
        import asyncpg

        dsn = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        channel = notify_channel(self.service)
        while True:
            try:
                conn = await asyncpg.connect(dsn)
                try:
                    await conn.add_listener(channel, lambda *_: self.wake())
                    self.wake()  # catch up on anything committed while not listening
                    while not conn.is_closed():
                        await asyncio.sleep(self._poll_interval)
                        await conn.execute("SELECT 1")
                finally:
                    with contextlib.suppress(Exception):
                        await conn.close()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("relay listener reconnecting: %s", exc.__class__.__name__)
                await asyncio.sleep(self._poll_interval)


def _seq_in(outbox: Table, seqs: list[int], dialect: str) -> ColumnElement[bool]:
    """``seq`` in ``seqs``; on PostgreSQL as one array parameter, so every batch is the same statement."""
    if dialect == "postgresql":
        return outbox.c.seq == any_(bindparam("seqs", seqs, type_=ARRAY(BigInteger)))
    return outbox.c.seq.in_(seqs)
