"""Intake's ticket changes and cancellations reach the work order whatever their order of arrival; the
technician app's day, position and offline replays; absences and bookings in assignment; utilisation."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from dispatch_harness import (
    DISPATCHER,
    T0,
    TECH_ID,
    DispatchUnderTest,
    assign,
    of_order,
    seed_network,
    ticket_cancelled,
    ticket_created,
    work_order_of,
)

from kit.clock import ManualClock

pytestmark = pytest.mark.integration


def ticket_updated(
    ticket_id: str, version: int, *, priority: str, status: str = "in_progress"
) -> dict[str, Any]:
    created = ticket_created(ticket_id)
    details = created["details"]
    details["priority"] = priority
    details["preferred_windows"] = [
        {"start": (T0 + timedelta(days=1)).isoformat(), "end": (T0 + timedelta(days=1, hours=4)).isoformat()}
    ]
    return {
        "ticket_id": ticket_id,
        "ticket_number": created["ticket_number"],
        "version": version,
        "status": status,
        "details": details,
        "changed_fields": ["priority", "preferred_windows"],
        "updated_at": (T0 + timedelta(minutes=version)).isoformat(),
        "updated_by": {"kind": "user", "id": "agent-1", "role": "agent"},
    }


async def test_ticket_changes_apply_newest_first_and_a_cancellation_cancels_the_order(
    dispatch: DispatchUnderTest,
) -> None:
    app = dispatch.app(ManualClock(T0), roles={"relay", "consumer"})
    async with dispatch.client(app) as client:
        await seed_network(client, dispatch)
        auth = dispatch.auth(*DISPATCHER)

        # the update overtakes the creation: the order opens with the newest details, the creation is stale
        ticket_id = str(uuid.uuid4())
        await dispatch.publish("intake.ticket.updated.v1", ticket_updated(ticket_id, 3, priority="urgent"))
        order = await work_order_of(client, dispatch, ticket_id)
        await dispatch.deliver("intake.ticket.created.v1", ticket_created(ticket_id))
        await dispatch.deliver("intake.ticket.updated.v1", ticket_updated(ticket_id, 2, priority="low"))
        order = (await client.get(f"{dispatch.prefix}/work_orders/{order['id']}", headers=auth)).json()
        assert order["priority"] == "urgent"
        assert order["version"] == 1
        orders = (await client.get(f"{dispatch.prefix}/work_orders", headers=auth)).json()["items"]
        assert [o["id"] for o in orders if o["ticket_id"] == ticket_id] == [order["id"]]

        # a newer update changes priority and windows of the open order
        await dispatch.deliver("intake.ticket.updated.v1", ticket_updated(ticket_id, 4, priority="high"))
        order = (await client.get(f"{dispatch.prefix}/work_orders/{order['id']}", headers=auth)).json()
        assert order["priority"] == "high"

        # cancelled: the order is cancelled once, whatever arrives after
        cancel = ticket_cancelled(ticket_id, 5)
        await dispatch.deliver("intake.ticket.cancelled.v1", cancel)
        await dispatch.deliver("intake.ticket.cancelled.v1", cancel)
        await dispatch.deliver("intake.ticket.updated.v1", ticket_updated(ticket_id, 6, priority="low"))
        cancelled = await dispatch.next_event(of_order("dispatch.work_order.cancelled.v1", order["id"]))
        assert cancelled["data"]["reason"] == "ticket_cancelled"
        await dispatch.no_event(of_order("dispatch.work_order.cancelled.v1", order["id"]))
        order = (await client.get(f"{dispatch.prefix}/work_orders/{order['id']}", headers=auth)).json()
        assert (order["state"], order["priority"]) == ("cancelled", "high")

        # a cancellation overtaking the creation: no order is ever opened
        withdrawn = str(uuid.uuid4())
        await dispatch.deliver("intake.ticket.cancelled.v1", ticket_cancelled(withdrawn, 2))
        await dispatch.deliver("intake.ticket.created.v1", ticket_created(withdrawn))
        orders = (
            await client.get(f"{dispatch.prefix}/work_orders", headers=auth, params={"limit": 200})
        ).json()
        assert [o for o in orders["items"] if o["ticket_id"] == withdrawn] == []


async def test_the_technicians_day_position_and_offline_replays(dispatch: DispatchUnderTest) -> None:
    clock = ManualClock(T0)
    app = dispatch.app(clock, roles={"relay"})
    async with dispatch.client(app) as client:
        await seed_network(client, dispatch)
        p = dispatch.prefix
        auth = dispatch.auth(*DISPATCHER)
        tech = dispatch.auth(TECH_ID, "technician")

        # the technician is away this morning: instant assignment plans around it
        r = await client.post(
            f"{p}/technicians/{TECH_ID}/absences",
            headers=auth,
            json={
                "start": T0.isoformat(),
                "end": (T0 + timedelta(hours=3)).isoformat(),
                "reason": "training",
            },
        )
        assert r.status_code == 201, r.text
        absence = r.json()["id"]
        r = await client.post(
            f"{p}/work_orders",
            headers=auth,
            json={
                "type": "repair",
                "region_id": "paris",
                "customer_id": "cust-3",
                "product_line": "water_heater",
                "address": {
                    "line1": "2 Rue de Rivoli",
                    "city": "Paris",
                    "country": "FR",
                    "location": {"latitude": 48.857, "longitude": 2.353},
                },
            },
        )
        wo = f"{p}/work_orders/{r.json()['id']}"
        r = await client.post(f"{wo}/auto_assign", headers=auth)
        assert r.status_code == 200, r.text
        start = r.json()["work_order"]["appointment"]["start"]
        assert start >= (T0 + timedelta(hours=3)).isoformat().replace("+00:00", "Z")
        r = await client.delete(f"{p}/technicians/{TECH_ID}/absences/{absence}", headers=auth)
        assert r.status_code == 204

        # my jobs today (the default day) lists it; tomorrow does not
        today = (await client.get(f"{p}/me/jobs", headers=tech)).json()
        assert wo.rsplit("/", 1)[1] in [j["id"] for j in today]
        assert (await client.get(f"{p}/me/jobs", headers=tech, params={"date": "2026-03-11"})).json() == []

        # the app reports its position; an older report sent late does not move the technician back
        r = await client.post(f"{p}/me/position", headers=tech, json={"latitude": 48.86, "longitude": 2.34})
        assert r.json()["kept"] is True
        older = {"latitude": 1.0, "longitude": 1.0, "reported_at": (T0 - timedelta(minutes=5)).isoformat()}
        assert (await client.post(f"{p}/me/position", headers=tech, json=older)).json()["kept"] is False
        me = (await client.get(f"{p}/technicians/{TECH_ID}", headers=auth)).json()
        assert (me["location_lat"], me["location_lon"]) == (48.86, 2.34)

        # offline: the steps happened earlier than they reach the server, and the queue is sent twice
        clock.set(T0 + timedelta(hours=6))
        steps = [
            ("accept", T0 + timedelta(hours=3, minutes=1)),
            ("start_travel", T0 + timedelta(hours=3, minutes=5)),
            ("arrive", T0 + timedelta(hours=3, minutes=20)),
        ]
        for _ in range(2):
            for step, at in steps:
                r = await client.post(
                    f"{wo}/{step}",
                    headers=tech,
                    json={"client_update_id": f"{step}-9", "occurred_at": at.isoformat()},
                )
                assert r.status_code == 200, r.text
        report = {
            "client_update_id": "complete-9",
            "occurred_at": (T0 + timedelta(hours=4, minutes=20)).isoformat(),
            "fault_code": "E7",
            "cause": "environment",
            "actions": ["descaled"],
            "labour_minutes": 60,
            "first_time_fix": True,
            "signature_ref": "sig-9",
        }
        for _ in range(2):
            r = await client.post(f"{wo}/complete", headers=tech, json=report)
            assert r.status_code == 200, r.text
        history = (await client.get(f"{wo}/history", headers=auth)).json()["transitions"]
        assert [h["action"] for h in history][-4:] == ["accept", "start_travel", "arrive", "complete"]
        assert history[-2]["at"].startswith("2026-03-10T11:20")

        # the utilisation report counts the visit's 15 min of travel and 60 min on site
        r = await client.get(
            f"{p}/reports/utilisation", headers=auth, params={"from": "2026-03-10", "until": "2026-03-10"}
        )
        assert r.status_code == 200, r.text
        [mine] = [u for u in r.json()["technicians"] if u["technician_id"] == TECH_ID]
        assert (mine["available_minutes"], mine["travel_minutes"], mine["on_site_minutes"]) == (540, 15, 60)
        r = await client.get(
            f"{p}/reports/service_levels", headers=auth, params={"from": "2026-03-10", "until": "2026-03-10"}
        )
        grade_a = next(g for g in r.json()["by_grade"] if g["grade"] == "A")
        assert grade_a["on_site_in_time"]["measured"] >= 1


async def test_remote_support_is_solved_remotely_and_an_incomplete_visit_gets_its_follow_up(
    dispatch: DispatchUnderTest,
) -> None:
    app = dispatch.app(ManualClock(T0), roles={"relay"})
    async with dispatch.client(app) as client:
        await seed_network(client, dispatch)
        p = dispatch.prefix
        auth = dispatch.auth(*DISPATCHER)
        tech = dispatch.auth(TECH_ID, "technician")

        def new(kind: str) -> dict[str, Any]:
            return {
                "type": kind,
                "region_id": "paris",
                "customer_id": "cust-4",
                "product_line": "water_heater",
            }

        remote = (await client.post(f"{p}/work_orders", headers=auth, json=new("remote_support"))).json()
        r = await client.post(f"{p}/work_orders/{remote['id']}/start_remote_support", headers=auth)
        assert r.json()["state"] == "remote_support"
        report = {
            "fault_code": "E1",
            "cause": "misuse",
            "actions": ["reset the controller"],
            "labour_minutes": 20,
        }
        r = await client.post(
            f"{p}/work_orders/{remote['id']}/resolve_remotely",
            headers=auth,
            json={**report, "first_time_fix": True},
        )
        assert r.status_code == 200, r.text
        done = await dispatch.next_event(of_order("dispatch.work_order.completed.v1", remote["id"]))
        assert done["data"]["mode"] == "remote"

        repair = (await client.post(f"{p}/work_orders", headers=auth, json=new("repair"))).json()
        wo = f"{p}/work_orders/{repair['id']}"
        visit = {"start": (T0 + timedelta(hours=1)).isoformat(), "end": (T0 + timedelta(hours=2)).isoformat()}
        await assign(client, dispatch, repair["id"], TECH_ID, visit)
        assert (await client.post(f"{wo}/lock", headers=auth)).json()["assignment"]["locked"] is True
        assert (await client.post(f"{wo}/unlock", headers=auth)).json()["assignment"]["locked"] is False
        for step in ("accept", "start_travel", "arrive"):
            assert (await client.post(f"{wo}/{step}", headers=tech, json={})).status_code == 200
        r = await client.post(f"{wo}/incomplete", headers=tech, json={"reason": "parts_needed"})
        assert r.json()["state"] == "incomplete"
        r = await client.post(f"{wo}/follow_up", headers=auth, json={"needed_parts": [["HE-200", 1]]})
        assert r.status_code == 201, r.text
        assert (r.json()["follow_up_of"], r.json()["state"]) == (repair["id"], "new")
