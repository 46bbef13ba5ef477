"""Warranty on real PostgreSQL and RabbitMQ: ticket -> entitlement, work orders -> repeats and claims."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from warranty_harness import Warranty

from contracts.common import Actor, ProductRef
from contracts.dispatch import OldPartCollected, PartUsed, WorkOrderCompleted
from contracts.intake import TicketCreated, TicketDetails
from warranty.api.settlements import StatementOut

pytestmark = pytest.mark.integration

TODAY = datetime.now(UTC).date()
DEALER = "dealer-north"
OTHER_DEALER = "dealer-south"


def _id() -> str:
    return uuid.uuid4().hex[:16]


async def _catalogue(w: Warranty) -> None:
    line = {
        "name": "Air conditioners",
        "standard_repairs": [
            {
                "fault_code": "E01",
                "standard_minutes": 60,
                "typical_parts": [
                    {"part_number": "COMP-1", "unit_cost": {"amount": "120.00", "currency": "EUR"}}
                ],
            }
        ],
    }
    assert (await w.call("PUT", "/product-lines/AC", "warranty_reviewer", json=line)).status_code == 200
    model = {
        "code": "AC-100",
        "name": "Split 3.5 kW",
        "line_code": "AC",
        "grade": "A",
        "bill_of_materials": ["COMP-1", "FAN-1"],
    }
    assert (await w.call("PUT", "/product-models/AC-100", "warranty_reviewer", json=model)).status_code == 200
    policy = {"policy_id": "AC-STD", "version": 1, "effective_from": "2020-01-01", "line_code": "AC"}
    response = await w.call("POST", "/policies", "admin", json=policy)
    assert response.status_code in (201, 409), response.text


async def _register(w: Warranty, *, dealer: str = DEALER, sold_days_ago: int = 100) -> str:
    serial = "SN-" + _id()
    body = {
        "serial": serial,
        "model_code": "AC-100",
        "customer_id": "cust-" + _id(),
        "sold_on": (TODAY - timedelta(days=sold_days_ago)).isoformat(),
    }
    response = await w.call("POST", "/units", "dealer", dealer_id=dealer, json=body)
    assert response.status_code == 201, response.text
    return serial


def _ticket(serial: str | None) -> TicketCreated:
    return TicketCreated(
        ticket_id=_id(),
        ticket_number="T-" + _id()[:8],
        version=1,
        details=TicketDetails(
            channel="phone",
            type="repair",
            priority="normal",
            customer_id="cust-1",
            product=ProductRef(serial_number=serial),
            needs_on_site=True,
        ),
        opened_at=datetime.now(UTC),
        opened_by=Actor(kind="user", id="agent-1"),
    )


def _work_order(serial: str, on: date, *, performed_by: str = "company") -> WorkOrderCompleted:
    return WorkOrderCompleted(
        work_order_id=_id(),
        work_order_number="WO-" + _id()[:8],
        version=3,
        ticket_id=_id(),
        dealer_id=DEALER,
        technician_id="tech-1",
        type="repair",
        customer_id="cust-1",
        product=ProductRef(serial_number=serial, model_code="AC-100"),
        performed_by=performed_by,  # type: ignore[arg-type]
        billing="warranty",
        mode="on_site",
        fault_code="E01",
        cause="product_defect",
        labour_minutes=60,
        first_time_fix=True,
        parts_used=[PartUsed(part_number="COMP-1", quantity=1)],
        old_parts=[OldPartCollected(part_number="COMP-1", serial_number="OLD-" + _id())],
        completed_at=datetime.combine(on, time(12), tzinfo=UTC),
    )


async def test_a_ticket_for_a_registered_unit_yields_a_covered_entitlement(warranty: Warranty) -> None:
    await _catalogue(warranty)
    serial = await _register(warranty)
    ticket = _ticket(serial)
    await warranty.publish(ticket)
    decided = await warranty.event("warranty.entitlement.determined.v1", ticket_id=ticket.ticket_id)
    assert decided["coverage"] == "covered"
    assert decided["serial_number"] == serial
    assert decided["billing"] == "warranty"
    assert {r["remedy"] for r in decided["remedies"]} == {"free_repair"}  # day 100: past refund and exchange


async def test_a_ticket_for_an_unknown_serial_is_unregistered_with_what_would_establish_coverage(
    warranty: Warranty,
) -> None:
    ticket = _ticket("NEVER-SOLD-" + _id())
    await warranty.publish(ticket)
    decided = await warranty.event("warranty.entitlement.determined.v1", ticket_id=ticket.ticket_id)
    assert decided["coverage"] == "unregistered"
    assert any("proof of purchase" in m for m in decided["missing_evidence"])


async def test_third_repair_of_a_fault_in_30_days_earns_replacement(warranty: Warranty) -> None:
    await _catalogue(warranty)
    serial = await _register(warranty)
    for days_ago in (20, 10):
        await warranty.publish(_work_order(serial, TODAY - timedelta(days=days_ago)))
    third = _work_order(serial, TODAY)
    await warranty.publish(third)
    earned = await warranty.event("warranty.replacement.eligible.v1", serial_number=serial)
    assert earned["repairs_counted"] == 3
    assert earned["fault_code"] == "E01"
    assert third.work_order_id in earned["work_order_ids"]


async def test_two_repairs_in_30_days_do_not_earn_replacement(warranty: Warranty) -> None:
    await _catalogue(warranty)
    serial = await _register(warranty)
    first, second = (
        _work_order(serial, TODAY - timedelta(days=40)),
        _work_order(serial, TODAY - timedelta(days=5)),
    )
    third = _work_order(serial, TODAY)
    for order in (first, second, third):
        await warranty.publish(order)
    ticket = _ticket(serial)
    await warranty.publish(ticket)  # processed after the repairs: the queue keeps order for one consumer
    await warranty.event("warranty.entitlement.determined.v1", ticket_id=ticket.ticket_id)
    assert warranty.events("warranty.replacement.eligible.v1", serial_number=serial) == []


async def test_covered_work_by_a_service_point_opens_a_claim_for_its_dealer(warranty: Warranty) -> None:
    await _catalogue(warranty)
    serial = await _register(warranty)
    order = _work_order(serial, TODAY, performed_by="service_point")
    await warranty.publish(order)
    submitted = await warranty.event("warranty.claim.submitted.v1", work_order_id=order.work_order_id)
    assert submitted["origin"] == "work_order"
    assert submitted["dealer_id"] == DEALER
    listed = (await warranty.call("GET", "/claims", "dealer", dealer_id=DEALER)).json()["items"]
    assert order.work_order_id in {c["work_order_id"] for c in listed}
    other = (await warranty.call("GET", "/claims", "dealer", dealer_id=OTHER_DEALER)).json()["items"]
    assert order.work_order_id not in {c["work_order_id"] for c in other}


async def test_company_work_opens_no_claim(warranty: Warranty) -> None:
    await _catalogue(warranty)
    serial = await _register(warranty)
    order = _work_order(serial, TODAY, performed_by="company")
    await warranty.publish(order)
    ticket = _ticket(serial)
    await warranty.publish(ticket)
    await warranty.event("warranty.entitlement.determined.v1", ticket_id=ticket.ticket_id)
    assert warranty.events("warranty.claim.submitted.v1", work_order_id=order.work_order_id) == []


async def test_a_reviewed_claim_is_settled_and_exported_for_finance_in_csv_and_json(
    warranty: Warranty,
) -> None:
    await _catalogue(warranty)
    serial = await _register(warranty, sold_days_ago=60)  # registered on day 60: late, so a reviewer decides
    claim = {
        "serial": serial,
        "fault_code": "E01",
        "cause": "product_defect",
        "failed_on": TODAY.isoformat(),
        "repaired_on": TODAY.isoformat(),
        "labour_minutes": 60,
        "labour_amount": {"amount": "45.00"},
        "parts": [
            {"part_number": "COMP-1", "amount": {"amount": "120.00"}, "old_part_serial": "OLD-" + _id()}
        ],
        "customer_signature_ref": "sig-1",
        "submit": True,
    }
    submitted = await warranty.call("POST", "/claims", "dealer", dealer_id=DEALER, json=claim)
    claim_id = submitted.json()["claim_id"]
    assert submitted.json()["state"] == "under_review", submitted.text
    queue = (await warranty.call("GET", "/claims?state=under_review", "warranty_reviewer")).json()["items"]
    assert claim_id in {c["claim_id"] for c in queue}
    approved = await warranty.call("POST", f"/claims/{claim_id}/approve", "warranty_reviewer")
    assert approved.json()["state"] == "approved"
    period = {
        "dealer_id": DEALER,
        "period_start": TODAY.replace(day=1).isoformat(),
        "period_end": TODAY.isoformat(),
    }
    statement = await warranty.call("POST", "/settlements", "finance", json=period)
    assert statement.status_code == 201, statement.text
    statement_id = statement.json()["statement_id"]
    assert claim_id in {c["claim_id"] for c in statement.json()["claims"]}
    as_json = (await warranty.call("GET", f"/settlements/{statement_id}", "dealer", dealer_id=DEALER)).json()
    assert StatementOut.model_validate(as_json).status == "issued"  # the document the API describes
    csv_export = await warranty.call("GET", f"/settlements/{statement_id}/csv", "finance")
    assert csv_export.headers["content-type"].startswith("text/csv")
    assert claim_id in csv_export.text
    settled = (await warranty.call("GET", f"/claims/{claim_id}", "dealer", dealer_id=DEALER)).json()
    assert settled["state"] == "settled"
    event = await warranty.event("warranty.claim.settled.v1", claim_id=claim_id)
    assert event["settled"] == {"amount": "165.00", "currency": "EUR"}
    stats = await warranty.call(
        "GET", f"/statistics/faults.csv?month={TODAY.strftime('%Y-%m')}", "warranty_reviewer"
    )
    assert stats.status_code == 200
    assert stats.text.startswith("month")
