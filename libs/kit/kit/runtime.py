"""Everything one running service holds: database, transport, relay, consumer, scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Coroutine
from typing import Any

from kit import migrations
from kit.auth import TokenVerifier
from kit.clock import Clock, SystemClock
from kit.db import Database, UnitOfWork
from kit.scheduler import Scheduler
from kit.service import ServiceDefinition
from kit.settings import Settings
from messaging.consumer import ConsumerRunner, bindings_for
from messaging.deadletters import DeadLetters
from messaging.inprocess import InProcessBroker, InProcessTransport
from messaging.metrics import QUEUE_DEPTH
from messaging.rabbitmq import RabbitMQTransport
from messaging.relay import OutboxRelay
from messaging.topology import ServiceTopology
from messaging.transport import Transport, TransportUnavailable

log = logging.getLogger(__name__)

#: Seconds ``Runtime.stop`` waits for its background tasks after cancelling them, per attempt.
STOP_TIMEOUT = 10.0

_default_broker: InProcessBroker | None = None


def default_broker() -> InProcessBroker:
    """The process-wide in-process broker that embedded services share."""
    global _default_broker
    if _default_broker is None:
        _default_broker = InProcessBroker()
    return _default_broker


class Runtime:
    def __init__(
        self,
        definition: ServiceDefinition,
        settings: Settings,
        *,
        clock: Clock | None = None,
        transport: Transport | None = None,
        broker: InProcessBroker | None = None,
    ) -> None:
        self.definition = definition
        self.settings = settings
        self.name = definition.name
        self.clock: Clock = clock or SystemClock()
        self.db = Database(
            settings.service_database_url(definition.name),
            service=definition.name,
            tables=definition.tables,
            clock=self.clock,
            pool_size=settings.db_pool_size,
            pool_wait=settings.db_pool_wait,
        )
        if transport is None:
            if settings.amqp_url:
                transport = RabbitMQTransport(
                    settings.amqp_url, connection_name=f"{definition.name}@{socket.gethostname()}"
                )
            else:
                transport = InProcessTransport(broker or default_broker())
        self.transport = transport
        self.topology = ServiceTopology(
            definition.name,
            bindings_for(definition.handlers, definition.extra_bindings),
            settings.retry_delay_list,
        )
        self.relay = OutboxRelay(
            service=definition.name,
            engine=self.db.engine,
            outbox=definition.tables.outbox,
            transport=transport,
            batch_size=settings.relay_batch_size,
            poll_interval=settings.relay_poll_interval,
            publish_timeout=settings.publish_timeout,
        )
        self.db.on_commit(self.relay.wake)
        self.consumer: ConsumerRunner[UnitOfWork] = ConsumerRunner(
            service=definition.name,
            topology=self.topology,
            transport=transport,
            handlers=definition.handlers,
            begin=self.db.transaction,
            inbox_table=definition.tables.inbox,
            prefetch=settings.consumer_prefetch,
            concurrency=settings.consumer_concurrency,
            batch_size=settings.consumer_batch_size,
            send_timeout=settings.publish_timeout,
        )
        self.scheduler = Scheduler(
            self.db,
            definition.timers,
            service=definition.name,
            interval=settings.scheduler_interval,
            batch=settings.scheduler_batch,
        )
        self.dead_letters = DeadLetters(transport, self.topology, send_timeout=settings.publish_timeout)
        self.verifier = TokenVerifier(settings)
        self.roles: set[str] = set()
        self.consuming = False
        # Nothing is published before the topology exists: RabbitMQ drops events no queue is bound for.
        self.topology_declared = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._head = migrations.head_revision(definition.migrations)

    async def migrate(self) -> None:
        await migrations.upgrade(self.definition.migrations, self.db.url)

    async def start(self, roles: set[str] | None = None) -> None:
        self.roles = roles if roles is not None else self.settings.role_set
        self._spawn(self._supervise_broker(), "broker")
        if "relay" in self.roles:
            self._spawn(self._relay_after_topology(), "relay")
        if "scheduler" in self.roles:
            self._spawn(self.scheduler.run(), "scheduler")
            for task in self.definition.background:
                self._spawn(task(self), f"background:{getattr(task, '__name__', 'task')}")

    async def _relay_after_topology(self) -> None:
        await self.topology_declared.wait()
        await self.relay.run()

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=f"{self.name}:{name}"))

    async def _supervise_broker(self) -> None:
        """Connect (and keep trying), declare the topology, start consuming, report queue depth."""
        delay = 0.5
        while True:
            try:
                if not self.transport.connected:
                    await self.transport.connect()
                if not self.consuming:
                    await self.transport.declare(self.topology)
                    self.topology_declared.set()
                    if "consumer" in self.roles and self.definition.handlers.types():
                        await self.consumer.start()
                    self.consuming = True
                    self.relay.wake()
                depth = await self.transport.queue_depth(self.topology.queue)
                if depth is not None:
                    QUEUE_DEPTH.labels(self.name, self.topology.queue).set(depth)
                delay = 0.5
                await asyncio.sleep(5)
            except TransportUnavailable as exc:
                log.warning("broker unavailable: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for attempt in range(3):  # a task caught mid-call may swallow one cancellation; ask again
            for task in tasks:
                task.cancel()
            _, still = await asyncio.wait(tasks, timeout=STOP_TIMEOUT) if tasks else (set(), set())
            if not still:
                break
            log.warning(
                "%d background task(s) still running %.0f s after cancel (attempt %d): %s",
                len(still),
                STOP_TIMEOUT,
                attempt + 1,
                ", ".join(t.get_name() for t in still),
            )
            tasks = list(still)
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self.consumer.stop()
        with contextlib.suppress(Exception):
            await self.transport.close()
        await self.db.dispose()

    async def readiness(self) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        try:
            await asyncio.wait_for(self.db.ping(), timeout=3)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {exc.__class__.__name__}"
        if checks["database"] == "ok":
            try:
                current = await asyncio.wait_for(migrations.current_revision(self.db.engine), timeout=3)
                checks["migrations"] = (
                    "ok" if current == self._head else f"at {current}, head is {self._head}"
                )
            except Exception as exc:
                checks["migrations"] = f"unknown: {exc.__class__.__name__}"
        else:
            checks["migrations"] = "unknown: database unavailable"
        checks["broker"] = "ok" if self.transport.connected else "unavailable"
        return checks

    def readiness_status(self, checks: dict[str, Any]) -> str:
        """``ready``, ``degraded`` (serving, a dependency it can do without is down) or ``not ready``.

        Everything needs the database at its head revision. Only consuming needs the broker: an API
        keeps taking requests while it is down (their events wait in the outbox), so a process that
        serves the API stays in its Service and reports the broker as degraded.
        """
        needed = {k: v for k, v in checks.items() if not (k == "broker" and "api" in self.roles)}
        if any(v != "ok" for v in needed.values()):
            return "not ready"
        return "ready" if all(v == "ok" for v in checks.values()) else "degraded"
