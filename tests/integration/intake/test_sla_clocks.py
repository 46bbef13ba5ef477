"""SLA clocks on real PostgreSQL and RabbitMQ: warnings and breaches by moving the clock (also across a
restart), the pause while waiting on the customer, policy changes and the compliance report."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from intake_harness import AGENT, SUPERVISOR, T0, Intake, intake_service

pytestmark = pytest.mark.integration

EMAIL_TICKET = {"channel": "email", "contact": {"name": "Mail Sender", "email": "sender@example.com"}}


@pytest.fixture(scope="module")
async def intake() -> AsyncIterator[Intake]:
    async with intake_service() as harness:
        yield harness


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_warning_then_breach_escalates_even_across_a_restart() -> None:
    async with intake_service(start=False) as intake:
        async with intake.running():
            r = await intake.call("POST", "/tickets", intake.auth("mailbox", "agent"), json=EMAIL_TICKET)
            ticket_id = r.json()["id"]
            intake.clock.advance(timedelta(minutes=8, seconds=1))
            await intake.fire_timers()
            warning = await intake.event(
                "intake.ticket.sla_warning.v1", ticket_id=ticket_id, target="acknowledge"
            )
            assert warning["remaining_seconds"] == 119
            assert _at(warning["due_at"]) == T0 + timedelta(minutes=10)
        intake.clock.advance(timedelta(minutes=5))  # the service is down when the target passes
        async with intake.running():
            await intake.fire_timers()
            breach = await intake.event(
                "intake.ticket.sla_breached.v1", ticket_id=ticket_id, target="acknowledge"
            )
            assert breach["escalated_to"] == "supervisor"
            assert breach["overdue_seconds"] == 181
            assert (
                len(intake.events("intake.ticket.sla_breached.v1", ticket_id=ticket_id, target="acknowledge"))
                == 1
            )
            supervisor = intake.auth(*SUPERVISOR)
            timeline = (await intake.call("GET", f"/tickets/{ticket_id}/timeline", supervisor)).json()[
                "items"
            ]
            assert {"sla_at_risk", "sla_breached", "escalated"} <= {e["kind"] for e in timeline}
            board = await intake.call("GET", "/tickets", supervisor, params={"breached": "true"})
            assert [t["id"] for t in board.json()["items"]] == [ticket_id]
            await intake.fire_timers()  # nothing left to report twice
            assert (
                len(intake.events("intake.ticket.sla_breached.v1", ticket_id=ticket_id, target="acknowledge"))
                == 1
            )


async def test_clocks_pause_while_waiting_on_the_customer(intake: Intake) -> None:
    agent = intake.auth(*AGENT)
    r = await intake.call("POST", "/tickets", agent, json=EMAIL_TICKET)
    ticket_id = r.json()["id"]
    await intake.call("POST", f"/tickets/{ticket_id}/replies", agent, json={"body": "Which model is it?"})
    await intake.call("POST", f"/tickets/{ticket_id}/start_work", agent)
    waited_at = intake.clock.now()
    await intake.call(
        "POST", f"/tickets/{ticket_id}/wait_for_customer", agent, json={"reason": "model number"}
    )

    intake.clock.advance(timedelta(hours=50))  # longer than the 48 h resolve target
    await intake.fire_timers()
    clocks = {c["target"]: c for c in (await intake.call("GET", f"/tickets/{ticket_id}/sla", agent)).json()}
    assert clocks["resolve"]["state"] == "paused" and clocks["resolve"]["due_at"] is None
    assert clocks["first_response"]["outcome"] == "met"
    assert intake.events("intake.ticket.sla_breached.v1", ticket_id=ticket_id) == []

    r = await intake.call(
        "POST",
        f"/tickets/{ticket_id}/customer_messages",
        agent,
        json={"via": "email", "body": "It is a WH-80"},
    )
    assert r.json()["status"] == "in_progress"
    clocks = {c["target"]: c for c in (await intake.call("GET", f"/tickets/{ticket_id}/sla", agent)).json()}
    opened = _at(r.json()["opened_at"])
    counted = waited_at - opened
    assert _at(clocks["resolve"]["due_at"]) == intake.clock.now() + timedelta(hours=48) - counted


async def test_a_supervisor_changes_the_policy_and_new_tickets_follow_it(intake: Intake) -> None:
    supervisor, agent = intake.auth(*SUPERVISOR), intake.auth(*AGENT)
    current = await intake.call("GET", "/sla/policy", agent)
    assert current.headers["ETag"] == 'W/"0"'  # the built-in defaults
    policy = current.json()
    for field in ("version", "updated_at", "updated_by"):
        policy.pop(field)
    policy["rules"].append(
        {
            "name": "premium fax: acknowledged in 2 minutes",
            "channel": "fax",
            "tier": "A",
            "targets": {"acknowledge": {"minutes": 2, "basis": "calendar"}},
        }
    )
    refused = await intake.call("PUT", "/sla/policy", agent, json=policy)
    assert refused.status_code == 403
    r = await intake.call("PUT", "/sla/policy", supervisor, headers={"If-Match": 'W/"0"'}, json=policy)
    assert r.status_code == 200, r.text
    stale = await intake.call("PUT", "/sla/policy", supervisor, headers={"If-Match": 'W/"0"'}, json=policy)
    assert stale.status_code == 412

    customer = await intake.call(
        "POST",
        "/customers",
        agent,
        json={
            "name": "Premium GmbH",
            "kind": "company",
            "tier": "A",
            "phones": [{"number": "+49 89 1234567", "kind": "fax"}],
        },
    )
    r = await intake.call(
        "POST", "/tickets", agent, json={"channel": "fax", "customer_id": customer.json()["id"]}
    )
    created = await intake.event("intake.ticket.created.v1", ticket_id=r.json()["id"])
    targets = {t["name"]: _at(t["due_at"]) for t in created["sla_targets"]}
    assert targets["acknowledge"] == _at(r.json()["opened_at"]) + timedelta(minutes=2)


async def test_compliance_report_per_channel_and_agent_in_json_and_csv(intake: Intake) -> None:
    agent, supervisor = intake.auth("carl", "agent"), intake.auth(*SUPERVISOR)
    start = intake.clock.now()
    on_time = (await intake.call("POST", "/tickets", agent, json=EMAIL_TICKET)).json()["id"]
    await intake.call("POST", f"/tickets/{on_time}/replies", agent, json={"body": "On it"})
    late = (await intake.call("POST", "/tickets", agent, json=EMAIL_TICKET)).json()["id"]
    intake.clock.advance(timedelta(minutes=15))
    await intake.fire_timers()
    await intake.call("POST", f"/tickets/{late}/replies", agent, json={"body": "Sorry for the wait"})

    period = {"period_start": start.isoformat(), "period_end": (start + timedelta(minutes=1)).isoformat()}
    r = await intake.call(
        "GET", "/sla/compliance", supervisor, params={**period, "group_by": ["channel", "agent"]}
    )
    assert r.status_code == 200, r.text
    rows = {(row["group"]["agent"], row["target"]): row for row in r.json()["rows"]}
    first_response = rows[("carl", "first_response")]
    assert (first_response["met_on_time"], first_response["met_late"]) == (1, 1)
    assert first_response["compliance_percent"] == "50.0"

    r = await intake.call(
        "GET", "/sla/compliance", supervisor, params={**period, "group_by": ["agent"], "format": "csv"}
    )
    assert r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert {"agent": "carl", "target": "first_response", "compliance_percent": "50.0"}.items() <= next(
        row for row in table if row["target"] == "first_response" and row["agent"] == "carl"
    ).items()
    assert (await intake.call("GET", "/sla/compliance", agent, params=period)).status_code == 403
