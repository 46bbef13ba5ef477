"""Scheduled settlement on real PostgreSQL and RabbitMQ: every dealer's statement is issued once per
period by a chain of durable timers (also across a restart); statements above the approval limit
wait for a second finance user."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from infra import wait_until
from warranty_harness import Warranty, running_warranty

from kit import scheduler
from kit.clock import ManualClock
from warranty import settings
from warranty.operations import SETTLEMENT_RUN
from warranty.settings import WarrantySettings

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
MARCH = {"period_start": "2026-03-01", "period_end": "2026-03-31"}
APRIL = {"period_start": "2026-04-01", "period_end": "2026-04-30"}


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture(scope="module")
async def warranty(clock: ManualClock) -> AsyncIterator[Warranty]:
    async with running_warranty(clock) as harness:
        line = {"name": "Fans", "standard_repairs": [{"fault_code": "F1", "standard_minutes": 60}]}
        assert (
            await harness.call("PUT", "/product-lines/FA", "warranty_reviewer", json=line)
        ).status_code == 200
        model = {"name": "Fan coil", "line_code": "FA", "grade": "S", "bill_of_materials": ["FAN-2"]}
        assert (
            await harness.call("PUT", "/product-models/FA-1", "warranty_reviewer", json=model)
        ).status_code == 200
        policy = {"policy_id": "FA-STD", "version": 1, "effective_from": "2020-01-01", "line_code": "FA"}
        assert (await harness.call("POST", "/policies", "warranty_reviewer", json=policy)).status_code == 201
        yield harness


async def _approved_claim(w: Warranty, clock: ManualClock, dealer: str) -> str:
    """A clean claim of ``dealer`` (75.00 EUR), approved automatically today."""
    today = clock.now().date()
    serial = "FA-" + uuid.uuid4().hex[:10]
    unit = {
        "serial": serial,
        "model_code": "FA-1",
        "customer_id": "c-1",
        "sold_on": (today - timedelta(days=3)).isoformat(),
    }
    assert (await w.call("POST", "/units", "dealer", dealer_id=dealer, json=unit)).status_code == 201
    claim = {
        "serial": serial,
        "fault_code": "F1",
        "cause": "product_defect",
        "failed_on": today.isoformat(),
        "repaired_on": today.isoformat(),
        "labour_minutes": 60,
        "labour_amount": {"amount": "45.00"},
        "parts": [
            {"part_number": "FAN-2", "amount": {"amount": "30.00"}, "old_part_serial": "OLD-" + serial}
        ],
        "customer_signature_ref": "sig-1",
        "submit": True,
    }
    response = await w.call("POST", "/claims", "dealer", dealer_id=dealer, json=claim)
    assert response.json()["state"] == "approved", response.text
    return str(response.json()["claim_id"])


async def _statements(w: Warranty, **query: str) -> list[dict[str, Any]]:
    response = await w.call("GET", "/settlements", "finance", params=query)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _pending_runs(w: Warranty) -> list[scheduler.Timer]:
    async with w.running_app.state.runtime.db.transaction() as uow:
        return [t for t in await scheduler.pending(uow) if t.kind == SETTLEMENT_RUN]


async def test_every_dealers_statement_is_issued_on_the_1st_of_the_next_month(
    warranty: Warranty, clock: ManualClock
) -> None:
    (run,) = await _pending_runs(warranty)  # set by the scheduler at start-up
    assert run.due_at == datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
    east = await _approved_claim(warranty, clock, "dealer-east")
    west = await _approved_claim(warranty, clock, "dealer-west")

    clock.set(datetime(2026, 4, 1, 1, 59, tzinfo=UTC))
    await warranty.fire_due_timers()
    assert await _statements(warranty) == []

    clock.set(datetime(2026, 4, 1, 2, 0, tzinfo=UTC))
    await warranty.fire_due_timers()
    issued = await _statements(warranty)
    assert {(s["dealer_id"], s["period_start"], s["period_end"], s["status"]) for s in issued} == {
        ("dealer-east", "2026-03-01", "2026-03-31", "issued"),
        ("dealer-west", "2026-03-01", "2026-03-31", "issued"),
    }
    for dealer, claim_id in (("dealer-east", east), ("dealer-west", west)):
        statement = await warranty.event("warranty.settlement.issued.v1", dealer_id=dealer)
        assert statement["claim_ids"] == [claim_id]
        assert statement["net"] == {"amount": "75.00", "currency": "EUR"}
        assert statement["issued_by"]["kind"] == "system"
        settled = await warranty.event("warranty.claim.settled.v1", claim_id=claim_id)
        assert settled["statement_id"] == statement["statement_id"]
    (following,) = await _pending_runs(warranty)
    assert following.due_at == datetime(2026, 5, 1, 2, 0, tzinfo=UTC)


async def test_a_period_is_settled_once_however_often_its_run_fires(
    warranty: Warranty, clock: ManualClock
) -> None:
    async with warranty.running_app.state.runtime.db.transaction() as uow:
        await scheduler.schedule(uow, kind=SETTLEMENT_RUN, key="again", due_at=clock.now(), payload=MARCH)
    await warranty.fire_due_timers()
    march = [s for s in await _statements(warranty) if s["period_start"] == MARCH["period_start"]]
    assert len(march) == 2
    again = await warranty.call("POST", "/settlements", "finance", json={"dealer_id": "dealer-east", **MARCH})
    assert again.status_code == 409


async def test_the_schedule_survives_a_restart_and_catches_up(warranty: Warranty, clock: ManualClock) -> None:
    claim_id = await _approved_claim(warranty, clock, "dealer-east")  # approved on 1 April
    await warranty.stop()
    clock.set(datetime(2026, 5, 3, 9, 0, tzinfo=UTC))  # down over the 1st of May
    await warranty.start()

    async def april() -> dict[str, dict[str, Any]]:
        statements = await _statements(warranty)
        return {s["dealer_id"]: s for s in statements if s["period_start"] == APRIL["period_start"]}

    async def april_issued() -> bool:  # the restarted scheduler fires the overdue run by itself
        return set(await april()) == {"dealer-east", "dealer-west"}

    # west claimed nothing in April, but the old part of its March claim was due back by 9 April
    await wait_until(april_issued, timeout=15, what="April statements after restart")
    issued = await april()
    assert issued["dealer-east"]["claim_count"] == 1
    settled = await warranty.event("warranty.claim.settled.v1", claim_id=claim_id)
    assert settled["statement_id"] == issued["dealer-east"]["statement_id"]
    west_id = issued["dealer-west"]["statement_id"]
    west = (await warranty.call("GET", f"/settlements/{west_id}", "finance")).json()
    assert west["claims"] == []
    assert [(d["due_on"], d["amount"]["amount"]) for d in west["deductions"]] == [("2026-04-09", "30.00")]
    assert west["totals"] == [{"currency": "EUR", "approved": "0.00", "deducted": "30.00", "net": "-30.00"}]


@pytest.fixture
def approval_above_50() -> Iterator[None]:
    settings.use(WarrantySettings(settlement_approval_above=Decimal("50")))
    yield
    settings.use(None)


@pytest.mark.usefixtures("approval_above_50")
async def test_a_statement_above_the_limit_is_issued_only_when_another_finance_user_approves(
    warranty: Warranty, clock: ManualClock
) -> None:
    claim_id = await _approved_claim(warranty, clock, "dealer-north")
    today = clock.now().date().isoformat()
    period = {"dealer_id": "dealer-north", "period_start": today, "period_end": today}
    held = await warranty.call("POST", "/settlements", "finance", subject="fin-ann", json=period)
    assert held.status_code == 201, held.text
    statement_id = held.json()["statement_id"]
    assert held.json()["status"] == "awaiting_approval"
    waiting = await _statements(warranty, status="awaiting_approval")
    assert [s["statement_id"] for s in waiting] == [statement_id]
    claim = (await warranty.call("GET", f"/claims/{claim_id}", "finance")).json()
    assert claim["state"] == "approved"  # not paid yet

    # a held claim is not paid again by another statement meanwhile
    other = {"dealer_id": "dealer-north", "period_start": "2026-04-01", "period_end": today}
    meanwhile = await warranty.call("POST", "/settlements", "finance", subject="fin-bob", json=other)
    assert meanwhile.status_code == 201, meanwhile.text
    assert meanwhile.json()["claims"] == []

    own = await warranty.call("POST", f"/settlements/{statement_id}/approve", "finance", subject="fin-ann")
    assert own.status_code == 403
    approved = await warranty.call(
        "POST", f"/settlements/{statement_id}/approve", "finance", subject="fin-bob"
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "issued"
    issued = await warranty.event("warranty.settlement.issued.v1", statement_id=statement_id)
    assert issued["issued_by"]["id"] == "fin-bob"
    await warranty.event("warranty.claim.settled.v1", claim_id=claim_id, statement_id=statement_id)
    again = await warranty.call("POST", f"/settlements/{statement_id}/approve", "finance", subject="fin-bob")
    assert again.status_code == 409
