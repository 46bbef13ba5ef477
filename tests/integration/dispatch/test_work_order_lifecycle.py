"""A ticket becomes a work order, is assigned with reasons and completed; timers escalate across restarts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest
from dispatch_harness import (
    DISPATCHER,
    T0,
    TECH_ID,
    DispatchUnderTest,
    of_order,
    open_work_order,
    seed_network,
    ticket_created,
    work_order_of,
)

from kit.clock import ManualClock

pytestmark = pytest.mark.integration


async def test_ticket_becomes_work_order_completed_by_technician_with_full_report(
    dispatch: DispatchUnderTest,
) -> None:
    app = dispatch.app(ManualClock(T0), roles={"relay", "consumer"})
    async with dispatch.client(app) as client:
        assert (await client.get("/healthz")).json()["status"] == "ok"
        await seed_network(client, dispatch)
        ticket_id = str(uuid.uuid4())
        await dispatch.publish("intake.ticket.created.v1", ticket_created(ticket_id))

        order = await work_order_of(client, dispatch, ticket_id)
        assert order["state"] == "new"
        created = await dispatch.next_event(
            lambda e: e["type"] == "dispatch.work_order.created.v1" and e["data"]["ticket_id"] == ticket_id
        )
        assert created["data"]["type"] == "repair"
        wo = f"{dispatch.prefix}/work_orders/{order['id']}"

        r = await client.post(f"{wo}/auto_assign", headers=dispatch.auth(*DISPATCHER))
        assert r.status_code == 200, r.text
        assigned = r.json()
        assert assigned["technician_id"] == TECH_ID
        assert assigned["reasons"], "an assignment explains itself"
        assert assigned["work_order"]["assignment"]["reasons"] == assigned["reasons"]

        tech = dispatch.auth(TECH_ID, "technician")
        r = await client.get(f"{dispatch.prefix}/me/jobs", headers=tech, params={"date": "2026-03-10"})
        assert [j["id"] for j in r.json()] == [order["id"]]
        r = await client.get(f"{dispatch.prefix}/me/jobs", headers=tech, params={"date": "2026-03-11"})
        assert r.json() == []
        r = await client.post(f"{wo}/complete", headers=tech, json={})
        assert r.status_code in (409, 422)
        for step in ("accept", "start_travel", "arrive"):
            r = await client.post(f"{wo}/{step}", headers=tech, json={"client_update_id": f"{step}-1"})
            assert r.status_code == 200, r.text
        replay = await client.post(f"{wo}/arrive", headers=tech, json={"client_update_id": "arrive-1"})
        assert replay.status_code == 200
        assert replay.json()["state"] == "on_site"

        report = {
            "client_update_id": "complete-1",
            "fault_code": "E42",
            "cause": "product_defect",
            "actions": ["replaced heating element"],
            "labour_minutes": 55,
            "first_time_fix": True,
            "parts_used": [{"part_number": "HE-200", "quantity": 1, "serials": ["HE-0001"]}],
            "old_parts": [{"part_number": "HE-200", "serial": "HE-OLD-9"}],
            "signature_ref": "sig-77",
            "photo_refs": ["photo-1", "photo-2"],
        }
        r = await client.post(f"{wo}/complete", headers=tech, json=report)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "completed"

        completed = await dispatch.next_event(of_order("dispatch.work_order.completed.v1", order["id"]))
        data = completed["data"]
        assert data["fault_code"] == "E42"
        assert data["cause"] == "product_defect"
        assert data["actions"] == ["replaced heating element"]
        [used] = data["parts_used"]
        assert (used["part_number"], used["quantity"], used["serial_numbers"]) == ("HE-200", 1, ["HE-0001"])
        assert data["old_parts"][0]["serial_number"] == "HE-OLD-9"
        assert data["labour_minutes"] == 55
        assert data["customer_signature"]["attachment_id"] == "sig-77"
        assert [p["attachment_id"] for p in data["photos"]] == ["photo-1", "photo-2"]
        assert data["first_time_fix"] is True
        assert data["technician_id"] == TECH_ID

        r = await client.post(
            f"{wo}/cancel", headers=dispatch.auth(*DISPATCHER), json={"reason": "duplicate"}
        )
        assert r.status_code == 409
        assert r.json()["allowed_actions"] == []


async def test_unarranged_work_order_escalates_and_timers_survive_a_restart(
    dispatch: DispatchUnderTest,
) -> None:
    clock = ManualClock(T0)
    first = dispatch.app(clock, roles={"relay"})
    async with dispatch.client(first) as client:
        order = await open_work_order(client, dispatch, region_id="paris", customer_id="cust-2")
        arrange_by = order["deadlines"]["arrange_by"]
        supervisor_check_at = order["deadlines"]["supervisor_check_at"]
        assert arrange_by < supervisor_check_at

        clock.set(datetime.fromisoformat(arrange_by) + timedelta(minutes=1))
        assert await first.state.runtime.scheduler.run_due() >= 1
        escalated = await dispatch.next_event(
            of_order("dispatch.work_order.escalated.v1", order["id"], kind="not_arranged")
        )
        assert escalated["data"]["due_at"].startswith(arrange_by[:16])

    # a restart: a new app on the same database still holds the supervisor-check timer set before it
    clock.set(datetime.fromisoformat(supervisor_check_at) + timedelta(minutes=1))
    second = dispatch.app(clock, roles={"relay"})
    async with dispatch.client(second) as client:
        assert await second.state.runtime.scheduler.run_due() >= 1
        check = await dispatch.next_event(
            of_order("dispatch.work_order.escalated.v1", order["id"], kind="supervisor_check")
        )
        assert check["data"]["due_at"].startswith(supervisor_check_at[:16])
        r = await client.get(
            f"{dispatch.prefix}/work_orders/{order['id']}", headers=dispatch.auth(*DISPATCHER)
        )
        kinds = [e["kind"] for e in r.json()["escalations"]]
        assert kinds.count("not_arranged") == 1
        assert kinds.count("supervisor_check") == 1


async def test_entitlement_before_the_ticket_sets_billing_and_optimiser_assigns_the_backlog(
    dispatch: DispatchUnderTest,
) -> None:
    app = dispatch.app(ManualClock(T0), roles={"relay", "consumer"})
    async with dispatch.client(app) as client:
        await seed_network(client, dispatch)
        ticket_id = str(uuid.uuid4())
        await dispatch.publish(
            "warranty.entitlement.determined.v1",
            {
                "entitlement_id": "ent-1",
                "ticket_id": ticket_id,
                "as_of": "2026-03-10",
                "coverage": "covered",
                "billing": "contract",
                "contract_id": "contract-9",
                "basis": "service_contract",
                "parts_covered": True,
                "labour_covered": True,
                "travel_covered": True,
                "reasons": [{"code": "contract", "message": "covered by the service contract"}],
                "determined_at": T0.isoformat(),
            },
        )
        await asyncio.sleep(0.5)
        await dispatch.publish("intake.ticket.created.v1", ticket_created(ticket_id))
        order = await work_order_of(client, dispatch, ticket_id)
        assert order["billing"] == "contract"

        await dispatch.publish(
            "inventory.reservation.failed.v1",
            {
                "work_order_id": order["id"],
                "requested": [{"part_number": "HE-200", "quantity": 1}],
                "shortages": [{"part_number": "HE-200", "requested": 1, "available": 0}],
                "reason": "out_of_stock",
                "failed_at": T0.isoformat(),
            },
        )
        history = f"{dispatch.prefix}/work_orders/{order['id']}/history"
        for _ in range(100):
            notes = (await client.get(history, headers=dispatch.auth(*DISPATCHER))).json()["notes"]
            if notes:
                break
            await asyncio.sleep(0.1)
        assert notes[0]["kind"] == "reservation_failed"
        assert "HE-200" in notes[0]["text"]

        r = await client.post(
            f"{dispatch.prefix}/assignments/optimise",
            headers=dispatch.auth(*DISPATCHER),
            json={"time_limit_seconds": 0.5},
        )
        assert r.status_code == 200, r.text
        planned = {a["work_order_id"]: a for a in r.json()["assignments"]}
        assert planned[order["id"]]["technician_id"] == TECH_ID
        assert planned[order["id"]]["reasons"]
        r = await client.get(
            f"{dispatch.prefix}/work_orders/{order['id']}", headers=dispatch.auth(*DISPATCHER)
        )
        assert r.json()["state"] == "assigned"
        assert r.json()["assignment"]["reasons"] == planned[order["id"]]["reasons"]
        assert r.headers["ETag"] == f'W/"{r.json()["version"]}"'
