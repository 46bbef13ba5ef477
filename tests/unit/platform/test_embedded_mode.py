"""The embedded default: SQLite files and the in-process transport, same guarantees in one process."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from ledger.app import make_service, state
from started_app import started

from kit.app import create_app
from kit.auth import mint_token
from kit.settings import Settings
from messaging.inprocess import InProcessBroker


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        data_dir=tmp_path, retry_delays="0.05,0.1", relay_poll_interval=0.05, environment="test"
    )
    app = create_app(make_service("ledger"), settings=settings, broker=InProcessBroker())
    token = mint_token(settings, subject="agent-1", roles=["admin"])
    async with started(app, token=token) as c:
        yield c


async def _counts(client: httpx.AsyncClient, effects: int) -> dict[str, int]:
    for _ in range(100):
        counts = (await client.get("/ledger/v1/counts")).json()
        if counts["effects"] >= effects:
            return counts  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"effects never reached {effects}: {counts}")


async def test_a_created_entry_is_applied_once_through_the_in_process_transport(
    client: httpx.AsyncClient,
) -> None:
    for i in range(5):
        assert (await client.post("/ledger/v1/entries", json={"amount": i})).status_code == 201
    assert await _counts(client, 5) == {"entries": 5, "effects": 5, "distinct_effects": 5}


async def test_a_replayed_idempotency_key_returns_the_first_response_and_creates_nothing(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post("/ledger/v1/entries", json={"amount": 7}, headers={"Idempotency-Key": "k-1"})
    again = await client.post("/ledger/v1/entries", json={"amount": 7}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await client.post("/ledger/v1/entries", json={"amount": 8}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert other.json()["type"] == "urn:aftersales:problem:idempotency-key-reused"
    assert (await _counts(client, 1))["entries"] == 1


async def test_invalid_input_gets_a_problem_with_field_errors_and_the_correlation_id(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/ledger/v1/entries", json={"amount": "lots"}, headers={"X-Correlation-ID": "corr-42"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["correlation_id"] == "corr-42"
    assert body["errors"][0]["field"] == "amount"
    assert response.headers["x-correlation-id"] == "corr-42"


async def test_an_oversized_body_is_refused_with_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/ledger/v1/entries",
        content=b"{" + b" " * 2_000_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["type"] == "urn:aftersales:problem:payload-too-large"


async def test_a_poison_event_is_dead_lettered_in_embedded_mode_too(client: httpx.AsyncClient) -> None:
    state["poison_fixed"] = False
    await client.post("/ledger/v1/entries", json={"amount": 1, "poison": True})
    for _ in range(100):
        dead = (await client.get("/ledger/v1/admin/dead-letters")).json()
        if dead:
            break
        await asyncio.sleep(0.05)
    assert len(dead) == 1 and dead[0]["attempts"] == 3
    state["poison_fixed"] = True
    try:
        replayed = (await client.post("/ledger/v1/admin/dead-letters/replay", json={})).json()["replayed"]
        assert replayed == [dead[0]["event_id"]]
        assert (await _counts(client, 1))["effects"] == 1
    finally:
        state["poison_fixed"] = False


async def test_health_and_readiness_answer(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await client.get("/ledger/readyz")
    assert ready.status_code == 200, ready.json()
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "broker": "ok"}
