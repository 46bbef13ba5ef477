"""The platform's promise on real PostgreSQL and RabbitMQ: no event lost, none applied twice."""

import asyncio
import itertools

import pytest
from infra import wait_until
from ledger.app import poison_attempts, record_entry, state
from ledger_harness import Ledger

pytestmark = pytest.mark.integration

ALL = {"api", "consumer", "relay", "scheduler"}


async def test_event_published_once_per_committed_change_and_never_for_a_rolled_back_one(
    ledger: Ledger,
) -> None:
    async with ledger.running(ALL) as client:
        committed = await ledger.commit_entries(20)
        assert ledger.db is not None
        for _ in range(10):
            with pytest.raises(RuntimeError):
                async with ledger.db.transaction() as uow:
                    await record_entry(uow, amount=999)
                    raise RuntimeError("business rule failed after the event was staged")
        await ledger.wait_effects(20)
        await asyncio.sleep(1.0)  # anything extra would arrive now
        n_entries, n_effects, distinct = await ledger.counts()
        assert (n_entries, n_effects, distinct) == (20, 20, 20)
        assert await ledger.unpublished() == 0
        assert len(committed) == 20
        status = (await client.get(f"/{ledger.name}/v1/admin/outbox")).json()
        assert status["pending"] == 0


@pytest.mark.fault
async def test_broker_stopped_while_1000_changes_commit_every_event_arrives_once(ledger: Ledger) -> None:
    from infra import start_rabbitmq, stop_rabbitmq

    async with ledger.running(ALL) as client:
        stop_rabbitmq()
        try:
            # The API keeps taking requests (the outbox absorbs the outage): degraded, not unready.
            ready = await client.get(f"/{ledger.name}/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "degraded"
            assert ready.json()["checks"]["broker"] == "unavailable"
            for i in range(1000):
                response = await client.post(f"/{ledger.name}/v1/entries", json={"amount": i})
                assert response.status_code == 201, response.text
            assert await ledger.unpublished() == 1000
        finally:
            start_rabbitmq()
        await ledger.wait_effects(1000, timeout=180)
        await asyncio.sleep(1.0)
        assert await ledger.counts() == (1000, 1000, 1000)
        assert await ledger.unpublished() == 0
        await wait_until(
            lambda: _ready(client, ledger.name), timeout=30, what="readiness after the broker returned"
        )


async def _ready(client, name: str) -> bool:  # type: ignore[no-untyped-def]
    return (await client.get(f"/{name}/readyz")).json()["status"] == "ready"


@pytest.mark.fault
async def test_consumer_killed_after_commit_before_ack_redelivery_is_skipped_by_the_inbox(
    ledger: Ledger,
) -> None:
    async with ledger.running({"api", "relay"}):
        faulty = ledger.spawn("consumer,api", fault="exit-before-ack:50", delay=0.002)
        await ledger.commit_entries(300)
        assert await faulty.wait_exit(timeout=60) == 137
        applied_before_restart = (await ledger.counts())[1]
        assert 50 <= applied_before_restart < 300
        healthy = ledger.spawn("consumer,api")
        await ledger.wait_http(healthy)
        await ledger.wait_effects(300, timeout=120)
        await asyncio.sleep(1.0)
        assert await ledger.counts() == (300, 300, 300)
        metrics = await _metrics(healthy.url)
        assert _sample(metrics, "aftersales_events_consumed_total", ledger.name, "duplicate") >= 1


@pytest.mark.fault
async def test_relay_killed_between_publish_and_mark_duplicate_publish_is_absorbed(ledger: Ledger) -> None:
    async with ledger.running({"api", "consumer"}) as client:
        await ledger.commit_entries(200)
        dying = ledger.spawn("relay", fault="exit-after-publish")
        assert await dying.wait_exit(timeout=60) == 137
        assert await ledger.unpublished() == 200  # published, but never marked sent
        await ledger.wait_effects(200, timeout=60)
        relay = ledger.spawn("relay,api")
        await ledger.wait_http(relay)

        async def all_marked() -> bool:
            return await ledger.unpublished() == 0

        await wait_until(all_marked, timeout=60, what="the restarted relay to mark every row")
        await asyncio.sleep(1.0)
        assert await ledger.counts() == (200, 200, 200)
        metrics = (await client.get(f"/{ledger.name}/metrics")).text
        assert _sample(metrics, "aftersales_events_consumed_total", ledger.name, "duplicate") == 200


async def test_poison_event_is_dead_lettered_after_backoff_others_flow_and_replay_applies_it(
    ledger: Ledger,
) -> None:
    poison_attempts.clear()
    state["poison_fixed"] = False
    try:
        async with ledger.running(ALL, retry_delays="0.3,0.6") as client:
            (poison_id,) = await ledger.commit_entries(1, poison=True)
            await ledger.commit_entries(50)
            await ledger.wait_effects(50)
            dead: list[dict[str, object]] = []

            async def dead_lettered() -> bool:
                nonlocal dead
                dead = (await client.get(f"/{ledger.name}/v1/admin/dead-letters")).json()
                return len(dead) == 1

            await wait_until(dead_lettered, timeout=30, what="the poison event to be dead-lettered")
            assert len(poison_attempts) == 3
            gaps = [b - a for a, b in itertools.pairwise(poison_attempts)]
            assert gaps[0] >= 0.3 and gaps[1] >= 0.6, gaps
            letter = dead[0]
            assert letter["attempts"] == 3
            assert "cannot apply a poison entry" in str(letter["error"])
            event = letter["event"]
            assert isinstance(event, dict) and event["data"]["entry_id"] == poison_id
            shown = await client.get(f"/{ledger.name}/v1/admin/dead-letters/{letter['event_id']}")
            assert shown.status_code == 200 and shown.json()["event_id"] == letter["event_id"]
            assert (await ledger.counts())[1] == 50

            state["poison_fixed"] = True
            replay = await client.post(f"/{ledger.name}/v1/admin/dead-letters/replay", json={})
            assert replay.json()["replayed"] == [letter["event_id"]]
            await ledger.wait_effects(51)
            await asyncio.sleep(0.5)
            assert await ledger.counts() == (51, 51, 51)
            assert (await client.get(f"/{ledger.name}/v1/admin/dead-letters")).json() == []
    finally:
        state["poison_fixed"] = False


async def test_dead_letter_admin_requires_the_admin_role(ledger: Ledger) -> None:
    from kit.auth import mint_token

    async with ledger.running({"api"}) as client:
        agent = mint_token(ledger.settings(), subject="a1", roles=["agent"])
        response = await client.get(
            f"/{ledger.name}/v1/admin/dead-letters", headers={"Authorization": f"Bearer {agent}"}
        )
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        anonymous = await client.get(f"/{ledger.name}/v1/admin/dead-letters", headers={"Authorization": ""})
        assert anonymous.status_code == 401


@pytest.mark.fault
async def test_postgres_restarted_under_load_service_recovers_and_readyz_reports_the_outage(
    ledger: Ledger,
) -> None:
    import httpx
    from infra import start_postgres, stop_postgres

    service = ledger.spawn("api,consumer,relay,scheduler")
    await ledger.wait_http(service)
    accepted: list[str] = []
    stop = asyncio.Event()

    async def load() -> None:
        async with httpx.AsyncClient(base_url=service.url, timeout=5) as c:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = await c.post(f"/{ledger.name}/v1/entries", json={"amount": i})
                except httpx.HTTPError:
                    await asyncio.sleep(0.05)
                    continue
                if r.status_code == 201:
                    accepted.append(r.json()["entry_id"])
                else:
                    assert r.headers["content-type"] == "application/problem+json"
                    await asyncio.sleep(0.05)

    loader = asyncio.create_task(load())
    await asyncio.sleep(1.5)
    before = len(accepted)
    assert before > 0
    await ledger.db.dispose()  # type: ignore[union-attr]
    stop_postgres()
    try:
        async with httpx.AsyncClient(base_url=service.url, timeout=10) as c:
            seen_outage = False
            for _ in range(50):
                r = await c.get(f"/{ledger.name}/readyz")
                if r.status_code == 503 and r.json()["checks"]["database"] != "ok":
                    seen_outage = True
                    break
                await asyncio.sleep(0.2)
            assert seen_outage, "readiness did not report the database outage"
            await asyncio.sleep(2)
    finally:
        start_postgres()

    async def ready() -> bool:
        try:
            async with httpx.AsyncClient(base_url=service.url, timeout=5) as c:
                return (await c.get(f"/{ledger.name}/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    await wait_until(ready, timeout=60, what="readiness after PostgreSQL returned")
    await asyncio.sleep(2)
    stop.set()
    await loader
    assert len(accepted) > before, "no request succeeded after the restart"
    await ledger.wait_effects(len(accepted), timeout=120)
    await asyncio.sleep(1.0)
    n_entries, n_effects, distinct = await ledger.counts()
    assert n_entries == len(accepted) == n_effects == distinct
    assert service.proc.poll() is None, "the service process must survive the outage"


async def _metrics(url: str) -> str:
    import httpx

    async with httpx.AsyncClient() as c:
        return (await c.get(f"{url}/metrics")).text


def _sample(metrics: str, name: str, service: str, outcome: str) -> float:
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith(name + "{") and f'service="{service}"' in line and f'outcome="{outcome}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total
