"""Outages: an API stays in service through a broker outage, and answers 503 while its database is down."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from ledger.app import make_service
from started_app import started

from kit.app import create_app
from kit.auth import mint_token
from kit.settings import Settings
from messaging.inprocess import InProcessBroker

Serve = Callable[[set[str]], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def broker() -> InProcessBroker:
    return InProcessBroker()


@pytest.fixture
def serve(tmp_path: Path, broker: InProcessBroker) -> Serve:
    @asynccontextmanager
    async def running(roles: set[str]) -> AsyncIterator[httpx.AsyncClient]:
        settings = Settings(data_dir=tmp_path, relay_poll_interval=0.05, environment="test")
        app = create_app(make_service("ledger"), settings=settings, broker=broker, roles=roles)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                yield c

    return running


async def test_an_api_is_degraded_but_ready_while_the_broker_is_down(
    serve: Serve, broker: InProcessBroker
) -> None:
    async with serve({"api", "consumer", "relay"}) as client:
        broker.available = False
        ready = await client.get("/ledger/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "degraded",
            "checks": {"database": "ok", "migrations": "ok", "broker": "unavailable"},
        }
        broker.available = True
        assert (await client.get("/ledger/readyz")).json()["status"] == "ready"


async def test_a_worker_is_not_ready_while_the_broker_is_down(serve: Serve, broker: InProcessBroker) -> None:
    async with serve({"consumer", "relay"}) as client:
        broker.available = False
        ready = await client.get("/ledger/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "not ready"


async def test_a_request_while_the_database_is_down_gets_503_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url="postgresql+asyncpg://nobody@127.0.0.1:9/ledger",  # nothing listens on port 9
        environment="test",
    )
    app = create_app(
        make_service("ledger"),
        settings=settings,
        broker=InProcessBroker(),
        roles={"api"},
        migrate_on_start=False,
    )
    token = mint_token(settings, subject="agent-1", roles=["agent"])
    async with started(app, token=token, base_url="http://t") as client:
        response = await client.post("/ledger/v1/entries", json={"amount": 1})
        ready = await client.get("/ledger/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.json()["type"] == "urn:aftersales:problem:unavailable"
    assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("unavailable")
