"""The review deadline on real PostgreSQL and RabbitMQ: a durable timer per claim in the reviewer
queue escalates it when no reviewer decided in time, also when the service restarted meanwhile."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from infra import wait_until
from warranty_harness import Warranty, running_warranty

from kit.clock import ManualClock

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
DEALER = "dealer-review"
REVIEW_PERIOD = timedelta(days=5)  # the default


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture(scope="module")
async def warranty(clock: ManualClock) -> AsyncIterator[Warranty]:
    async with running_warranty(clock) as harness:
        line = {"name": "Boilers", "standard_repairs": [{"fault_code": "B1", "standard_minutes": 60}]}
        assert (
            await harness.call("PUT", "/product-lines/BO", "warranty_reviewer", json=line)
        ).status_code == 200
        model = {"name": "Boiler 24 kW", "line_code": "BO", "grade": "24", "bill_of_materials": ["FAN-2"]}
        response = await harness.call("PUT", "/product-models/BO-24", "warranty_reviewer", json=model)
        assert response.status_code == 200
        policy = {"policy_id": "BO-STD", "version": 1, "effective_from": "2020-01-01", "line_code": "BO"}
        assert (await harness.call("POST", "/policies", "warranty_reviewer", json=policy)).status_code == 201
        yield harness


async def _claim_for_review(w: Warranty, clock: ManualClock) -> dict[str, Any]:
    """A claim the appraisal leaves to a reviewer: three times the standard labour time."""
    today = clock.now().date()
    serial = "BO-" + uuid.uuid4().hex[:10]
    unit = {
        "serial": serial,
        "model_code": "BO-24",
        "customer_id": "c-1",
        "sold_on": (today - timedelta(days=3)).isoformat(),
    }
    assert (await w.call("POST", "/units", "dealer", dealer_id=DEALER, json=unit)).status_code == 201
    claim = {
        "serial": serial,
        "fault_code": "B1",
        "cause": "product_defect",
        "failed_on": today.isoformat(),
        "repaired_on": today.isoformat(),
        "labour_minutes": 180,
        "labour_amount": {"amount": "135.00"},
        "customer_signature_ref": "sig-1",
        "submit": True,
    }
    response = await w.call("POST", "/claims", "dealer", dealer_id=DEALER, json=claim)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["state"] == "under_review"
    return body


async def _claim(w: Warranty, claim_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await w.call("GET", f"/claims/{claim_id}", "warranty_reviewer")).json()
    return body


async def test_a_claim_under_review_past_its_deadline_is_escalated(
    warranty: Warranty, clock: ManualClock
) -> None:
    claim = await _claim_for_review(warranty, clock)
    due = clock.now() + REVIEW_PERIOD
    assert datetime.fromisoformat(claim["review_due_at"]) == due
    queued = await warranty.event("warranty.claim.under_review.v1", claim_id=claim["claim_id"])
    assert datetime.fromisoformat(queued["review_due_at"]) == due

    clock.set(due - timedelta(minutes=1))
    await warranty.fire_due_timers()
    assert (await _claim(warranty, claim["claim_id"]))["escalated"] is False

    clock.set(due)
    await warranty.fire_due_timers()
    escalated = await _claim(warranty, claim["claim_id"])
    assert escalated["escalated"] is True
    assert escalated["state"] == "under_review"
    assert escalated["history"][-1]["action"] == "escalate"
    overdue = (await warranty.call("GET", "/claims?escalated=true", "warranty_reviewer")).json()["items"]
    in_time = (await warranty.call("GET", "/claims?escalated=false", "warranty_reviewer")).json()["items"]
    assert claim["claim_id"] in {c["claim_id"] for c in overdue}
    assert claim["claim_id"] not in {c["claim_id"] for c in in_time}


async def test_a_claim_decided_in_time_is_never_escalated(warranty: Warranty, clock: ManualClock) -> None:
    claim = await _claim_for_review(warranty, clock)
    clock.advance(timedelta(days=1))
    approved = await warranty.call("POST", f"/claims/{claim['claim_id']}/approve", "warranty_reviewer")
    assert approved.status_code == 200, approved.text
    clock.advance(REVIEW_PERIOD)
    await warranty.fire_due_timers()
    decided = await _claim(warranty, claim["claim_id"])
    assert (decided["state"], decided["escalated"]) == ("approved", False)
    assert "escalate" not in [t["action"] for t in decided["history"]]


async def test_the_deadline_holds_across_a_restart_of_the_service(
    warranty: Warranty, clock: ManualClock
) -> None:
    claim = await _claim_for_review(warranty, clock)
    await warranty.stop()
    clock.advance(REVIEW_PERIOD + timedelta(hours=1))  # the deadline passes while the service is down
    await warranty.start()

    async def escalated() -> bool:  # the restarted scheduler finds the timer by itself
        return bool((await _claim(warranty, claim["claim_id"]))["escalated"])

    await wait_until(escalated, timeout=15, what="escalation after restart")
