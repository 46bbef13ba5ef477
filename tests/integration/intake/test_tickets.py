"""Tickets through the HTTP API on real PostgreSQL and RabbitMQ: opening, the state machine, numbers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from intake_harness import AGENT, OTHER_AGENT, SUPERVISOR, Intake, intake_service

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def intake() -> AsyncIterator[Intake]:
    async with intake_service() as harness:
        yield harness


REPAIR = {
    "channel": "phone",
    "type": "repair",
    "contact": {"name": "Hans Müller", "phone": "030 1234567"},
    "product": {"model_code": "WH-80", "serial_number": "SN-1001", "product_line": "water_heater"},
    "fault_description": "No hot water",
    "site_address": {
        "line1": "Hauptstr. 1",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
        "region_code": "berlin",
    },
    "needs_on_site": True,
    "preferred_windows": [{"start": "2026-03-10T08:00:00Z", "end": "2026-03-10T12:00:00Z"}],
}


async def test_a_ticket_opened_over_http_is_published_with_its_sla_targets(intake: Intake) -> None:
    agent = intake.auth(*AGENT)
    r = await intake.call("POST", "/tickets", agent, headers={"Idempotency-Key": "open-1"}, json=REPAIR)
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert r.headers["ETag"] == 'W/"1"'
    assert ticket["number"].startswith("T-2026-")
    assert ticket["owner_id"] == "anna"
    assert ticket["status"] == "acknowledged"  # taken on the phone
    again = await intake.call("POST", "/tickets", agent, headers={"Idempotency-Key": "open-1"}, json=REPAIR)
    assert again.json()["id"] == ticket["id"]
    assert again.headers["Idempotent-Replayed"] == "true"

    created = await intake.event("intake.ticket.created.v1", ticket_id=ticket["id"])
    assert created["ticket_number"] == ticket["number"]
    assert created["details"]["needs_on_site"] is True
    assert created["details"]["product"]["serial_number"] == "SN-1001"
    assert created["details"]["owner_id"] == "anna"
    assert {t["name"] for t in created["sla_targets"]} >= {"resolve", "technician_contact"}
    assert len(intake.events("intake.ticket.created.v1", ticket_id=ticket["id"])) == 1


async def test_the_state_machine_refuses_what_the_state_does_not_allow(intake: Intake) -> None:
    agent, other, supervisor = intake.auth(*AGENT), intake.auth(*OTHER_AGENT), intake.auth(*SUPERVISOR)
    r = await intake.call("POST", "/tickets", agent, json={**REPAIR, "channel": "email"})
    ticket_id = r.json()["id"]

    refused = await intake.call("POST", f"/tickets/{ticket_id}/close", agent, json={})
    assert refused.status_code == 409
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["type"].endswith("illegal-transition")
    assert "acknowledge" in problem["allowed_actions"] and "close" not in problem["allowed_actions"]

    r = await intake.call("POST", f"/tickets/{ticket_id}/acknowledge", agent, json={"method": "agent_reply"})
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == 'W/"2"', (
        await intake.call("GET", f"/tickets/{ticket_id}/timeline", agent)
    ).text
    stale = await intake.call(
        "POST", f"/tickets/{ticket_id}/start_work", agent, headers={"If-Match": 'W/"1"'}
    )
    assert stale.status_code == 412
    not_owner = await intake.call("POST", f"/tickets/{ticket_id}/start_work", other)
    assert not_owner.status_code == 403 and not_owner.json()["type"].endswith("not-ticket-owner")

    for path, body in [
        ("start_work", None),
        ("wait_for_parts", {"reason": "compressor on order"}),
        ("resume", None),
        ("resolve", {"resolution": "repaired", "summary": "compressor replaced"}),
    ]:
        r = await intake.call("POST", f"/tickets/{ticket_id}/{path}", agent, json=body)
        assert r.status_code == 200, (path, r.text)
    resolved = await intake.event("intake.ticket.resolved.v1", ticket_id=ticket_id)
    assert resolved["resolution"] == "repaired"

    r = await intake.call("POST", f"/tickets/{ticket_id}/reopen", other, json={"reason": "leaks again"})
    assert r.json()["status"] == "in_progress" and r.json()["owner_id"] == "anna"
    assert (await intake.event("intake.ticket.reopened.v1", ticket_id=ticket_id))["reopen_count"] == 1
    r = await intake.call(
        "POST",
        f"/tickets/{ticket_id}/reassign",
        supervisor,
        json={"to_owner_id": "ben", "reason": "anna is away"},
    )
    assert r.json()["owner_id"] == "ben" and "anna" in r.json()["watchers"]
    r = await intake.call("POST", f"/tickets/{ticket_id}/notes", other, json={"body": "called the dealer"})
    r = await intake.call(
        "POST", f"/tickets/{ticket_id}/replies", other, json={"body": "We are on it", "via": "email"}
    )
    notes = (await intake.call("GET", f"/tickets/{ticket_id}/notes", other)).json()
    assert [n["visibility"] for n in notes] == ["internal", "customer"]
    dealer_view = await intake.call(
        "GET", f"/tickets/{ticket_id}", intake.auth("d", "dealer", dealer_id="D-9")
    )
    assert dealer_view.status_code == 404

    timeline = (await intake.call("GET", f"/tickets/{ticket_id}/timeline", agent)).json()["items"]
    kinds = [e["kind"] for e in timeline]
    assert kinds[:3] == ["opened", "taken", "acknowledge"]
    assert {
        "wait_for_parts",
        "resume",
        "resolve",
        "reopen",
        "owner_changed",
        "note_added",
        "reply_sent",
    } <= set(kinds)
    assert [e for e in timeline if not e["actor"].startswith("user:")] == []


async def test_tickets_opened_at_the_same_time_get_distinct_numbers(intake: Intake) -> None:
    agent = intake.auth(*AGENT)
    body = {"channel": "api", "contact": {"name": "Parallel", "email": "parallel@example.com"}}
    responses = await asyncio.gather(*(intake.call("POST", "/tickets", agent, json=body) for _ in range(20)))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201]
    numbers = [r.json()["number"] for r in responses]
    assert len(set(numbers)) == 20


async def test_ticket_lists_filter_and_page(intake: Intake) -> None:
    agent = intake.auth(*AGENT)
    r = await intake.call(
        "POST", "/customers", agent, json={"name": "Page Customer", "emails": ["page@example.com"]}
    )
    customer_id = r.json()["id"]
    for channel in ("email", "fax", "email"):
        await intake.call("POST", "/tickets", agent, json={"channel": channel, "customer_id": customer_id})
    first = (
        await intake.call("GET", "/tickets", agent, params={"customer_id": customer_id, "limit": 2})
    ).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = await intake.call(
        "GET",
        "/tickets",
        agent,
        params={"customer_id": customer_id, "limit": 2, "cursor": first["next_cursor"]},
    )
    assert len(rest.json()["items"]) == 1 and rest.json()["next_cursor"] is None
    faxes = await intake.call("GET", "/tickets", agent, params={"customer_id": customer_id, "channel": "fax"})
    assert [t["channel"] for t in faxes.json()["items"]] == ["fax"]
    unowned = await intake.call(
        "GET", "/tickets", agent, params={"customer_id": customer_id, "unowned": "true"}
    )
    assert unowned.json()["items"] == []  # an agent who opens a ticket owns it


async def test_a_dealer_sees_only_its_own_tickets_and_no_internal_notes(intake: Intake) -> None:
    dealer, rival, agent = (
        intake.auth("d-user", "dealer", dealer_id="D-100"),
        intake.auth("r-user", "dealer", dealer_id="D-200"),
        intake.auth(*AGENT),
    )
    body = {"channel": "partner", "contact": {"name": "Dealer Customer", "phone": "+49 221 1234567"}}
    r = await intake.call("POST", "/tickets", dealer, json={**body, "dealer_id": "D-200"})
    assert r.status_code == 403 and r.json()["type"].endswith("other-dealer")
    r = await intake.call("POST", "/tickets", dealer, json=body)
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["dealer_id"] == "D-100" and ticket["owner_id"] is None  # waits for an agent to take it

    await intake.call("POST", f"/tickets/{ticket['id']}/take", agent)
    await intake.call(
        "POST", f"/tickets/{ticket['id']}/notes", agent, json={"body": "dealer is slow to answer"}
    )
    await intake.call(
        "POST", f"/tickets/{ticket['id']}/replies", agent, json={"body": "Technician comes Monday"}
    )

    mine = (await intake.call("GET", "/tickets", dealer)).json()["items"]
    assert [t["id"] for t in mine] == [ticket["id"]]
    assert (await intake.call("GET", "/tickets", rival)).json()["items"] == []
    assert (await intake.call("GET", f"/tickets/{ticket['id']}", rival)).status_code == 404
    notes = (await intake.call("GET", f"/tickets/{ticket['id']}/notes", dealer)).json()
    assert [n["visibility"] for n in notes] == ["customer"]
    assert (
        await intake.call("POST", f"/tickets/{ticket['id']}/resolve", dealer, json={"resolution": "answered"})
    ).status_code == 403
