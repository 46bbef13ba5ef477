"""Other services' events keep the ticket's timeline and status current, from local copies, tolerating
duplicates and events out of order; a negative survey answer opens a complaint linked to the original."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from infra import wait_until
from intake_harness import AGENT, T0, Intake, intake_service

from contracts.common import Actor, MoneyAmount, Reason
from contracts.dispatch import Appointment, WorkOrderAssigned, WorkOrderCompleted
from contracts.surveys import ResponseNegative, Scores
from contracts.warranty import ClaimApproved, EntitlementDetermined, RemedyOption

pytestmark = pytest.mark.integration

DISPATCH = Actor(kind="system", id="dispatch")


@pytest.fixture(scope="module")
async def intake() -> AsyncIterator[Intake]:
    async with intake_service() as harness:
        yield harness


async def _open(intake: Intake) -> dict[str, Any]:
    r = await intake.call(
        "POST",
        "/tickets",
        intake.auth(*AGENT),
        json={
            "channel": "phone",
            "contact": {"name": "Eva Event", "phone": "+49 40 1234567"},
            "product": {"model_code": "AC-12", "serial_number": "SN-EV-1"},
            "needs_on_site": True,
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _timeline_has(intake: Intake, ticket_id: str, *kinds: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []

    async def arrived() -> bool:
        nonlocal entries
        r = await intake.call("GET", f"/tickets/{ticket_id}/timeline", intake.auth(*AGENT))
        entries = r.json()["items"]
        return set(kinds) <= {e["kind"] for e in entries}

    await wait_until(arrived, timeout=15, what=f"{kinds} on the timeline")
    return entries


def _assigned(ticket_id: str, version: int) -> WorkOrderAssigned:
    return WorkOrderAssigned(
        work_order_id="wo-" + ticket_id[:8],
        work_order_number="WO-1",
        version=version,
        ticket_id=ticket_id,
        technician_id="tech-7",
        technician_name="Camille",
        appointment=Appointment(
            appointment_id="ap-1",
            window={"start": T0 + timedelta(days=1), "end": T0 + timedelta(days=1, hours=2)},  # type: ignore[arg-type]
        ),
        customer_id="c",
        type="repair",
        priority="normal",
        method="instant",
        assigned_at=T0 + timedelta(minutes=30),
        assigned_by=DISPATCH,
    )


def _completed(ticket_id: str, version: int) -> WorkOrderCompleted:
    return WorkOrderCompleted(
        work_order_id="wo-" + ticket_id[:8],
        work_order_number="WO-1",
        version=version,
        ticket_id=ticket_id,
        technician_id="tech-7",
        type="repair",
        customer_id="c",
        billing="warranty",
        mode="on_site",
        fault_code="E42",
        cause="product_defect",
        actions=["replaced the fan motor"],
        labour_minutes=50,
        first_time_fix=True,
        completed_at=T0 + timedelta(days=1, hours=1),
    )


async def test_work_and_warranty_facts_reach_the_timeline_in_any_order(intake: Intake) -> None:
    ticket = await _open(intake)
    ticket_id = ticket["id"]
    await intake.publish(
        EntitlementDetermined(
            entitlement_id="ent-" + ticket_id[:8],
            ticket_id=ticket_id,
            serial_number="SN-EV-1",
            as_of=date(2026, 3, 9),
            coverage="covered",
            billing="warranty",
            remedies=[RemedyOption(remedy="free_repair", available_until=date(2027, 1, 1))],
            expires_on=date(2027, 1, 1),
            basis="sale_date",
            parts_covered=True,
            labour_covered=True,
            travel_covered=True,
            reasons=[Reason(code="in_repair_period", message="Within 24 months of the sale")],
            determined_at=T0 + timedelta(minutes=1),
        )
    )
    # completed overtakes assigned; the completion is also delivered twice under different ids
    await intake.publish(_completed(ticket_id, version=5))
    await intake.publish(_completed(ticket_id, version=5))
    await intake.publish(_assigned(ticket_id, version=2))
    entries = await _timeline_has(
        intake, ticket_id, "entitlement_determined", "work_order_completed", "work_order_assigned"
    )
    assert [e["kind"] for e in entries].count("work_order_completed") == 1
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)

    resolved = await intake.event("intake.ticket.resolved.v1", ticket_id=ticket_id)
    assert resolved["resolution"] == "repaired" and resolved["work_order_id"] == "wo-" + ticket_id[:8]
    detail = (await intake.call("GET", f"/tickets/{ticket_id}", intake.auth(*AGENT))).json()
    assert detail["status"] == "resolved"  # the late "assigned" did not move it back
    assert detail["entitlement"]["coverage"] == "covered"
    assert detail["entitlement"]["reasons"][0]["message"] == "Within 24 months of the sale"
    assert [(w["state"], w["technician_name"]) for w in detail["work_orders"]] == [("completed", "Camille")]

    await intake.publish(
        ClaimApproved(
            claim_id="cl-" + ticket_id[:8],
            claim_number="CL-1",
            version=3,
            dealer_id="D-1",
            work_order_id="wo-" + ticket_id[:8],
            serial_number="SN-EV-1",
            partial=False,
            claimed=MoneyAmount(amount=Decimal("120.00"), currency="EUR"),
            approved=MoneyAmount(amount=Decimal("120.00"), currency="EUR"),
            automatic=True,
            decided_at=T0 + timedelta(days=3),
            decided_by=Actor(kind="system", id="warranty"),
        )
    )
    await _timeline_has(intake, ticket_id, "claim_approved")
    detail = (await intake.call("GET", f"/tickets/{ticket_id}", intake.auth(*AGENT))).json()
    assert [c["state"] for c in detail["claims"]] == ["approved"]


def _negative(response_id: str, ticket_id: str, comment: str) -> ResponseNegative:
    return ResponseNegative(
        response_id=response_id,
        invitation_id="inv-" + response_id,
        kind="callback",
        channel="phone",
        ticket_id=ticket_id,
        customer_id="whoever",
        scores=Scores(nps=2),
        comment=comment,
        recorded_by=Actor(kind="user", id="agent-9", role="agent"),
        received_at=T0 + timedelta(days=2),
        triggers=["nps 2 <= 6"],
    )


async def test_a_negative_survey_answer_opens_one_complaint_linked_to_the_original(intake: Intake) -> None:
    original = await _open(intake)
    await intake.publish(_negative("resp-1-" + original["id"][:8], original["id"], "Technician was rude"))
    await intake.publish(_negative("resp-1-" + original["id"][:8], original["id"], "Technician was rude"))
    complaint = await intake.event("intake.complaint.opened.v1", original_ticket_id=original["id"])
    assert complaint["origin"] == "survey" and complaint["customer_id"] == original["customer_id"]
    assert complaint["category"] == "service_quality"
    assert _at(complaint["answer_due_at"]) - _at(complaint["opened_at"]) == timedelta(hours=24)
    assert _at(complaint["supervisor_due_at"]) - _at(complaint["opened_at"]) == timedelta(hours=48)

    await intake.publish(_negative("resp-2-" + original["id"][:8], original["id"], "Still angry"))
    await _timeline_has(intake, complaint["ticket_id"], "survey_answer")
    assert len(intake.events("intake.complaint.opened.v1", original_ticket_id=original["id"])) == 1

    agent = intake.auth(*AGENT)
    about = await intake.call("GET", "/tickets", agent, params={"related_ticket_id": original["id"]})
    [listed] = about.json()["items"]
    assert listed["type"] == "complaint" and listed["owner_id"] is None
    assert {"ticket_id": original["id"], "kind": "complaint_about"} in listed["links"]
    assert "anna" in listed["watchers"]  # the original's owner follows the complaint
    back = (await intake.call("GET", f"/tickets/{original['id']}", agent)).json()
    assert {"ticket_id": listed["id"], "kind": "has_complaint"} in back["links"]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
