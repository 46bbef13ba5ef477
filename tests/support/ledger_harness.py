"""Drive the ledger test service in-process and as separate processes against real infrastructure."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from infra import AMQP_URL, create_database, delete_queues, drop_database, free_port, pg_url, wait_until
from ledger.app import effects, entries, make_service, record_entry, tables
from sqlalchemy import func, select

from kit import migrations
from kit.app import create_app
from kit.auth import mint_token
from kit.db import Database
from kit.settings import Settings
from messaging.topology import ServiceTopology

SUPPORT = Path(__file__).parent


class LedgerProcess:
    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    async def wait_exit(self, timeout: float) -> int:
        for _ in range(int(timeout * 10)):
            if self.proc.poll() is not None:
                return self.proc.returncode
            await asyncio.sleep(0.1)
        raise AssertionError("process did not exit")


class Ledger:
    def __init__(self) -> None:
        self.name = "ledger_" + uuid.uuid4().hex[:8]
        self.db_name = ""
        self.db_url = ""
        self.definition = make_service(self.name)
        self.processes: list[LedgerProcess] = []
        self.db: Database | None = None

    async def setup(self) -> None:
        self.db_name = await create_database()
        self.db_url = pg_url(self.db_name)
        await migrations.upgrade(self.definition.migrations, self.db_url)
        self.db = Database(self.db_url, service=self.name, tables=tables, pool_size=5)

    async def teardown(self) -> None:
        for p in self.processes:
            p.kill()
        if self.db is not None:
            await self.db.dispose()
        await drop_database(self.db_name)
        topology = ServiceTopology(self.name, (), (0.2, 0.4))
        await delete_queues(
            self.name, [topology.queue, topology.dead_letter_queue, *[q for q, _ in topology.retry_queues()]]
        )

    def settings(self, retry_delays: str = "0.2,0.4") -> Settings:
        return Settings(
            database_url=self.db_url,
            amqp_url=AMQP_URL,
            retry_delays=retry_delays,
            relay_poll_interval=0.2,
            environment="test",
        )

    def app(self, roles: set[str], retry_delays: str = "0.2,0.4") -> FastAPI:
        return create_app(
            self.definition, settings=self.settings(retry_delays), roles=roles, migrate_on_start=False
        )

    @asynccontextmanager
    async def running(
        self, roles: set[str], retry_delays: str = "0.2,0.4"
    ) -> AsyncIterator[httpx.AsyncClient]:
        """The service in this process, its lifespan started, with an HTTP client (admin token)."""
        app = self.app(roles, retry_delays)
        token = mint_token(self.settings(), subject="test-admin", roles=["admin"])
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://ledger",
                headers={"Authorization": f"Bearer {token}"},
            ) as client:
                client.app = app  # type: ignore[attr-defined]
                await wait_until(lambda: _connected(app), timeout=30, what="broker connection")
                yield client

    def spawn(self, roles: str, fault: str = "", delay: float = 0.0) -> LedgerProcess:
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(SUPPORT), os.environ.get("PYTHONPATH", "")]),
            "LEDGER_NAME": self.name,
            "DATABASE_URL": self.db_url,
            "AMQP_URL": AMQP_URL,
            "ROLES": roles,
            "PORT": str(port),
            "LEDGER_FAULT": fault,
            "LEDGER_HANDLER_DELAY": str(delay),
        }
        proc = subprocess.Popen([sys.executable, "-m", "ledger.serve"], env=env)
        process = LedgerProcess(proc, port)
        self.processes.append(process)
        return process

    async def wait_http(self, process: LedgerProcess, timeout: float = 30) -> None:
        async def up() -> bool:
            try:
                async with httpx.AsyncClient() as c:
                    return (await c.get(f"{process.url}/healthz")).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_until(up, timeout=timeout, what="service process to answer")

    async def commit_entries(self, n: int, *, poison: bool = False) -> list[str]:
        assert self.db is not None
        ids = []
        for i in range(n):
            async with self.db.transaction() as uow:
                ids.append(await record_entry(uow, amount=i, poison=poison))
        return ids

    async def counts(self) -> tuple[int, int, int]:
        assert self.db is not None
        async with self.db.engine.connect() as conn:
            n_entries = (await conn.execute(select(func.count()).select_from(entries))).scalar_one()
            n_effects = (await conn.execute(select(func.count()).select_from(effects))).scalar_one()
            distinct = (
                await conn.execute(select(func.count(func.distinct(effects.c.event_id))))
            ).scalar_one()
        return n_entries, n_effects, distinct

    async def unpublished(self) -> int:
        assert self.db is not None
        outbox = tables.outbox
        async with self.db.engine.connect() as conn:
            return (
                await conn.execute(
                    select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
                )
            ).scalar_one()

    async def wait_effects(self, expected: int, timeout: float = 60) -> None:
        assert self.db is not None
        db = self.db

        async def done() -> bool:  # one cheap count: the benchmark polls this while it is timed
            async with db.engine.connect() as conn:
                return (
                    await conn.execute(select(func.count()).select_from(effects))
                ).scalar_one() >= expected

        await wait_until(done, timeout=timeout, interval=0.2, what=f"{expected} effects")


async def _connected(app: FastAPI) -> bool:
    runtime = app.state.runtime
    return bool(runtime.transport.connected and runtime.consuming)
