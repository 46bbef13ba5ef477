"""A process never opens more than ``DB_POOL_SIZE`` connections: work beyond it waits for one and still
succeeds, and a request that cannot get one within ``DB_POOL_WAIT`` gets a 503 it can retry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from infra import PG_ADMIN_DSN, create_database, drop_database, pg_url
from ledger.app import make_service
from started_app import started

from kit.app import create_app
from kit.auth import mint_token
from kit.settings import Settings
from messaging.inprocess import InProcessBroker

pytestmark = pytest.mark.integration


@asynccontextmanager
async def ledger_api(tmp_path: Path, **settings: object) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    name = await create_database()
    config = Settings(data_dir=tmp_path, database_url=pg_url(name), environment="test", **settings)
    app = create_app(
        make_service("ledger"),
        settings=config,
        broker=InProcessBroker(),
        roles={"api"},
        migrate_on_start=True,
    )
    token = mint_token(config, subject="agent-1", roles=["agent"])
    try:
        async with started(app, token=token, base_url="http://t") as client:
            yield client, name
    finally:
        await drop_database(name)


async def _connections_to(database: str) -> int:
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        return int(await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", database))
    finally:
        await admin.close()


async def test_requests_beyond_the_pool_wait_for_a_connection_and_all_succeed(tmp_path: Path) -> None:
    async with ledger_api(tmp_path, db_pool_size=2) as (client, database):
        seen: list[int] = []

        async def watch() -> None:
            while True:
                seen.append(await _connections_to(database))
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        responses = await asyncio.gather(
            *(client.post("/ledger/v1/entries", json={"amount": n}) for n in range(1, 41))
        )
        watcher.cancel()
        counts = (await client.get("/ledger/v1/counts")).json()
    assert [r.status_code for r in responses] == [201] * 40
    assert counts["entries"] == 40
    assert seen and max(seen) <= 2  # the pool's two, never an overflow connection


async def test_a_request_that_gets_no_connection_in_time_is_answered_503_with_retry_after(
    tmp_path: Path,
) -> None:
    async with ledger_api(tmp_path, db_pool_size=1, db_pool_wait=0.2) as (client, _):
        runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
        async with runtime.db.engine.connect():  # the only connection, held elsewhere
            response = await client.post("/ledger/v1/entries", json={"amount": 1})
        after = await client.post("/ledger/v1/entries", json={"amount": 2})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:aftersales:problem:busy"
    assert after.status_code == 201  # once the connection is back, service as usual
