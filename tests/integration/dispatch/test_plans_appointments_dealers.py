"""Maintenance plans, appointments and dealer hand-over through the HTTP API on real PostgreSQL and RabbitMQ;
their timers fired by moving the clock, across a restart of the service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from dispatch_harness import (
    DISPATCHER,
    LYON_SITE,
    PARIS_ADDRESS,
    T0,
    TECH_ID,
    DispatchUnderTest,
    of_order,
    open_work_order,
    seed_network,
)
from sqlalchemy.ext.asyncio import create_async_engine

from dispatch.tables import metadata
from kit.clock import ManualClock

pytestmark = pytest.mark.integration

LYON = {**LYON_SITE, "region_code": "lyon"}


async def open_order(client: Any, dispatch: DispatchUnderTest, address: dict[str, Any]) -> dict[str, Any]:
    return await open_work_order(
        client, dispatch, region_id=address["region_code"], customer_id="cust-9", address=address
    )


async def test_work_orders_are_stored_as_json_readable_in_sql_and_the_schema_matches_the_tables(
    dispatch: DispatchUnderTest,
) -> None:
    app = dispatch.app(ManualClock(T0), roles={"relay"})
    async with dispatch.client(app) as client:
        await seed_network(client, dispatch)
        order = await open_order(client, dispatch, PARIS_ADDRESS)
    [row] = await dispatch.sql(
        "SELECT snapshot->>'codec' AS codec, snapshot->>'state' AS state, snapshot->'site'->>'grade' AS grade,"
        " jsonb_typeof(snapshot) AS kind FROM work_orders WHERE id = $1",
        order["id"],
    )
    assert (row["codec"], row["state"], row["grade"], row["kind"]) == ("1", "new", "A", "object")

    engine = create_async_engine(dispatch.settings.service_database_url(dispatch.definition.name))
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
    finally:
        await engine.dispose()
    assert diff == []


async def test_a_maintenance_plan_requests_each_visit_once_ahead_of_time_across_a_restart(
    dispatch: DispatchUnderTest,
) -> None:
    clock = ManualClock(T0)
    serial = "SN-MP-" + uuid.uuid4().hex[:6]
    first = dispatch.app(clock, roles={"relay"})
    async with dispatch.client(first) as client:
        await seed_network(client, dispatch)
        auth = dispatch.auth(*DISPATCHER)
        r = await client.post(
            f"{dispatch.prefix}/maintenance_plans",
            headers={**auth, "Idempotency-Key": "plan-" + serial},
            json={
                "serial_number": serial,
                "customer_id": "cust-mp",
                "product_line": "water_heater",
                "region_id": "paris",
                "site": PARIS_ADDRESS,
                "starts_on": "2026-01-15",
                "ends_on": "2026-12-31",
                "lead_days": 30,
            },
        )
        assert r.status_code == 201, r.text
        plan = r.json()
        assert plan["due_dates"] == ["2026-04-15", "2026-07-15", "2026-10-15"]
        assert plan["next_request_on"] == "2026-03-16"
        assert plan["visits"] == []
        url = f"{dispatch.prefix}/maintenance_plans/{plan['id']}"

        clock.set(datetime(2026, 3, 16, 0, 1, tzinfo=UTC))
        assert await first.state.runtime.scheduler.run_due() >= 1
        assert await first.state.runtime.scheduler.run_due() == 0  # nothing more is due
        plan = (await client.get(url, headers=auth)).json()
        [visit] = plan["visits"]
        assert (visit["sequence"], visit["due_on"], plan["next_request_on"]) == (
            1,
            "2026-04-15",
            "2026-06-15",
        )
        created = await dispatch.next_event(
            of_order("dispatch.work_order.created.v1", visit["work_order_id"], maintenance_plan_id=plan["id"])
        )
        assert created["data"]["type"] == "preventive_maintenance"

    # a restart: the plan's timer, set before it, requests the next visit when its lead time begins
    clock.set(datetime(2026, 6, 15, 0, 5, tzinfo=UTC))
    second = dispatch.app(clock, roles={"relay"})
    async with dispatch.client(second) as client:
        assert await second.state.runtime.scheduler.run_due() >= 1
        plan = (await client.get(url, headers=auth)).json()
        assert [v["sequence"] for v in plan["visits"]] == [1, 2]
        listed = await client.get(
            f"{dispatch.prefix}/maintenance_plans", headers=auth, params={"serial_number": serial}
        )
        assert [p["id"] for p in listed.json()["items"]] == [plan["id"]]

        r = await client.post(f"{url}/cancel", headers=auth, json={"reason": "unit sold"})
        assert r.status_code == 200, r.text
        assert r.json()["active"] is False
        for v in plan["visits"]:
            order = (
                await client.get(f"{dispatch.prefix}/work_orders/{v['work_order_id']}", headers=auth)
            ).json()
            assert order["state"] == "cancelled"
        await dispatch.next_event(
            of_order("dispatch.work_order.cancelled.v1", plan["visits"][1]["work_order_id"])
        )

        clock.set(datetime(2026, 9, 20, tzinfo=UTC))
        await second.state.runtime.scheduler.run_due()
        assert len((await client.get(url, headers=auth)).json()["visits"]) == 2


async def test_an_appointment_is_confirmed_moved_and_reported_late_when_nobody_arrives(
    dispatch: DispatchUnderTest,
) -> None:
    clock = ManualClock(T0)
    first = dispatch.app(clock, roles={"relay"})
    async with dispatch.client(first) as client:
        await seed_network(client, dispatch)
        order = await open_order(client, dispatch, PARIS_ADDRESS)
        wo = f"{dispatch.prefix}/work_orders/{order['id']}"
        r = await client.post(f"{wo}/auto_assign", headers=dispatch.auth(*DISPATCHER))
        assert r.status_code == 200, r.text

        agent = dispatch.auth("agent-7", "agent")
        r = await client.post(f"{wo}/confirm_appointment", headers=agent, json={"via": "phone"})
        assert r.status_code == 200, r.text
        assert r.json()["appointment"]["confirmed_at"] == T0.isoformat().replace("+00:00", "Z")
        confirmed = await dispatch.next_event(of_order("dispatch.appointment.confirmed.v1", order["id"]))
        assert confirmed["data"]["confirmed_via"] == "phone"

        tech = dispatch.auth(TECH_ID, "technician")
        later = {"start": (T0 + timedelta(hours=3)).isoformat(), "end": (T0 + timedelta(hours=4)).isoformat()}
        r = await client.post(
            f"{wo}/reschedule", headers=tech, json={"appointment": later, "reason": "previous_job_overran"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["appointment"]["confirmed_at"] is None
        moved = await dispatch.next_event(of_order("dispatch.work_order.rescheduled.v1", order["id"]))
        assert moved["data"]["reason"] == "previous_job_overran"
        assert moved["data"]["customer_notified_at"] is None  # intake tells the customer

    # the technician never set off; the service restarts meanwhile
    clock.set(T0 + timedelta(hours=3, minutes=5))
    second = dispatch.app(clock, roles={"relay"})
    async with dispatch.client(second) as client:
        assert await second.state.runtime.scheduler.run_due() >= 1
        late = await dispatch.next_event(of_order("dispatch.appointment.late.v1", order["id"]))
        assert (late["data"]["minutes_late"], late["data"]["technician_id"]) == (5, TECH_ID)
        await dispatch.next_event(
            of_order("dispatch.work_order.escalated.v1", order["id"], kind="appointment_late")
        )
        kinds = [
            e["kind"]
            for e in (await client.get(wo, headers=dispatch.auth(*DISPATCHER))).json()["escalations"]
        ]
        assert kinds.count("appointment_late") == 1


async def seed_lyon_service_point(client: Any, dispatch: DispatchUnderTest) -> None:
    auth = dispatch.auth(*DISPATCHER)
    p = dispatch.prefix
    if (await client.get(f"{p}/technicians/dealer-tech", headers=auth)).status_code == 200:
        return
    for path, body in (
        ("regions", {"id": "lyon", "name": "Lyon", "grade": "A", "centre_id": "paris-centre"}),
        (
            "centres",
            {
                "id": "sp-lyon",
                "name": "Lyon service point",
                "kind": "service_point",
                "dealer_id": "D-LY",
                "lat": 45.76,
                "lon": 4.84,
                "region_ids": ["lyon"],
            },
        ),
        (
            "technicians",
            {
                "id": "dealer-tech",
                "name": "Dominique",
                "centre_id": "sp-lyon",
                "region_ids": ["lyon"],
                "skills": ["repair:water_heater"],
                "home_lat": 45.75,
                "home_lon": 4.85,
                "dealer_id": "D-LY",
            },
        ),
    ):
        r = await client.post(f"{p}/{path}", headers=auth, json=body)
        assert r.status_code == 201, r.text


async def test_a_job_no_own_technician_can_make_goes_to_the_dealer_who_must_accept_within_2_hours(
    dispatch: DispatchUnderTest,
) -> None:
    clock = ManualClock(T0)
    first = dispatch.app(clock, roles={"relay"})
    dispatcher = dispatch.auth(*DISPATCHER)
    dealer = dispatch.auth("dealer-user", "dealer", dealer_id="D-LY")
    async with dispatch.client(first) as client:
        await seed_network(client, dispatch)
        await seed_lyon_service_point(client, dispatch)
        p = dispatch.prefix

        # Paris has a company technician who can make it: no hand-over unless the dispatcher insists
        paris = await open_order(client, dispatch, PARIS_ADDRESS)
        r = await client.post(f"{p}/work_orders/{paris['id']}/hand_to_dealer", headers=dispatcher, json={})
        assert r.status_code == 409
        assert r.json()["type"].endswith("own-technician-in-time")

        ignored = await open_order(client, dispatch, LYON)
        r = await client.post(f"{p}/work_orders/{ignored['id']}/hand_to_dealer", headers=dispatcher, json={})
        assert r.status_code == 200, r.text
        assert r.json()["dealer"]["dealer_id"] == "D-LY"
        handed = await dispatch.next_event(of_order("dispatch.work_order.handed_to_dealer.v1", ignored["id"]))
        assert handed["data"]["dealer_id"] == "D-LY"
        assert handed["data"]["accept_by"].startswith((T0 + timedelta(hours=2)).isoformat()[:16])
        other_dealer = dispatch.auth("other", "dealer", dealer_id="D-XX")
        # another dealer's work order does not exist as far as this dealer can tell
        assert (await client.get(f"{p}/work_orders/{ignored['id']}", headers=other_dealer)).status_code == 404

        # the second job: instant assignment falls back to the dealer, who assigns its own technician
        taken = await open_order(client, dispatch, LYON)
        r = await client.post(
            f"{p}/work_orders/{taken['id']}/auto_assign", headers=dispatcher, json={"dealer_fallback": True}
        )
        assert r.status_code == 200, r.text
        assert (r.json()["technician_id"], r.json()["dealer_id"]) == (None, "D-LY")
        visit = {"start": (T0 + timedelta(hours=1)).isoformat(), "end": (T0 + timedelta(hours=2)).isoformat()}
        r = await client.post(
            f"{p}/work_orders/{taken['id']}/assign",
            headers=dealer,
            json={"technician_id": TECH_ID, "appointment": visit},
        )
        assert r.status_code == 403  # not the dealer's technician
        r = await client.post(
            f"{p}/work_orders/{taken['id']}/assign",
            headers=dealer,
            json={"technician_id": "dealer-tech", "appointment": visit},
        )
        assert r.status_code == 200, r.text
        assert r.json()["dealer"]["accepted_at"] is not None
        assigned = await dispatch.next_event(of_order("dispatch.work_order.assigned.v1", taken["id"]))
        assert (assigned["data"]["method"], assigned["data"]["technician_id"]) == ("dealer", "dealer-tech")

    # nobody at the dealer accepts the first job; after 2 hours (and a restart) it comes back
    clock.set(T0 + timedelta(hours=2, minutes=1))
    second = dispatch.app(clock, roles={"relay"})
    async with dispatch.client(second) as client:
        assert await second.state.runtime.scheduler.run_due() >= 1
        escalated = await dispatch.next_event(
            of_order("dispatch.work_order.escalated.v1", ignored["id"], kind="dealer_not_arranged")
        )
        assert escalated["data"]["dealer_id"] == "D-LY"
        back = (await client.get(f"{dispatch.prefix}/work_orders/{ignored['id']}", headers=dispatcher)).json()
        assert (back["dealer"], back["state"]) == (None, "new")
        kept = (await client.get(f"{dispatch.prefix}/work_orders/{taken['id']}", headers=dispatcher)).json()
        assert (kept["dealer"]["dealer_id"], kept["state"]) == ("D-LY", "assigned")
