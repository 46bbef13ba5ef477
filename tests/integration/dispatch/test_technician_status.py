"""What each technician is doing and where they were last seen, on real PostgreSQL: the status follows the
technician app's visit steps and what the technician reports, the dispatcher reads it with since when and
filters on it, and the planner keeps urgent jobs from technicians who went off duty."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from dispatch_harness import (
    DISPATCHER,
    PARIS_SITE,
    T0,
    DispatchUnderTest,
    Territory,
    assign,
    open_work_order,
)

from kit.clock import ManualClock

pytestmark = pytest.mark.integration


def iso(at: Any) -> str:
    return str(at.isoformat()).replace("+00:00", "Z")


def last_seen(technician: dict[str, Any]) -> tuple[Any, Any, Any]:
    """Where and when the technician was last seen."""
    return technician["location_lat"], technician["location_lon"], technician["location_reported_at"]


class Network(Territory):
    """A centre and a region of their own for each test, so the tests' technicians never compete."""

    grade = "A"

    async def order(self) -> str:
        opened = await open_work_order(
            self.client, self.dispatch, priority="urgent", region_id=self.region, address=PARIS_SITE
        )
        return str(opened["id"])

    async def assigned_order(self, technician_id: str, *, hours: int = 2) -> str:
        order_id = await self.order()
        visit = {"start": iso(T0 + timedelta(hours=hours)), "end": iso(T0 + timedelta(hours=hours + 1))}
        await assign(self.client, self.dispatch, order_id, technician_id, visit)
        return order_id

    async def read(self, technician_id: str) -> dict[str, Any]:
        r = await self.client.get(f"{self.p}/technicians/{technician_id}", headers=self.auth)
        assert r.status_code == 200, r.text
        technician: dict[str, Any] = r.json()
        return technician

    async def with_status(self, status: str) -> list[str]:
        r = await self.client.get(f"{self.p}/technicians", headers=self.auth, params={"status": status})
        assert r.status_code == 200, r.text
        return [t["id"] for t in r.json()]


async def test_the_status_and_last_position_follow_the_visit_steps(dispatch: DispatchUnderTest) -> None:
    clock = ManualClock(T0)
    async with dispatch.client(dispatch.app(clock, roles=set())) as client:
        net = await Network(client, dispatch).setup()
        tech_id = await net.technician("camille")
        tech = dispatch.auth(tech_id, "technician")
        created = await net.read(tech_id)
        assert (created["status"], created["status_since"], created["location_lat"]) == (
            "available",
            iso(T0),
            None,
        )

        order_id = await net.assigned_order(tech_id)
        wo = f"{net.p}/work_orders/{order_id}"
        assert (await client.post(f"{wo}/accept", headers=tech, json={})).status_code == 200

        # the app sends its steps after a spell offline: each keeps the time and place it happened
        clock.set(T0 + timedelta(hours=3))
        left_at = T0 + timedelta(hours=1, minutes=40)

        async def step(action: str, at: datetime, latitude: float, longitude: float) -> None:
            """The app's ``action`` step, sent with the time and place it happened."""
            r = await client.post(
                f"{wo}/{action}",
                headers=tech,
                json={
                    "client_update_id": f"{action}-1",
                    "occurred_at": at.isoformat(),
                    "position": {"latitude": latitude, "longitude": longitude},
                },
            )
            assert r.status_code == 200, r.text

        await step("start_travel", left_at, 48.84, 2.30)
        me = await net.read(tech_id)
        assert (me["status"], me["status_since"], me["status_work_order_id"]) == (
            "travelling",
            iso(left_at),
            order_id,
        )
        assert last_seen(me) == (48.84, 2.30, iso(left_at))
        assert tech_id in await net.with_status("travelling")
        assert tech_id not in await net.with_status("available")

        # while the visit is under way the app cannot declare its own status
        r = await client.post(f"{net.p}/me/status", headers=tech, json={"status": "off_duty"})
        assert r.status_code == 409, r.text
        assert r.json()["type"].endswith("visit-under-way")

        arrived_at = T0 + timedelta(hours=2)
        await step("arrive", arrived_at, 48.857, 2.353)
        # the travel step replayed later changes neither the status nor the position
        await step("start_travel", left_at, 48.84, 2.30)
        me = await net.read(tech_id)
        assert (me["status"], me["status_since"]) == ("on_site", iso(arrived_at))
        assert last_seen(me) == (48.857, 2.353, iso(arrived_at))
        assert tech_id in await net.with_status("on_site")

        done_at = T0 + timedelta(hours=2, minutes=50)
        r = await client.post(
            f"{wo}/complete",
            headers=tech,
            json={
                "occurred_at": done_at.isoformat(),
                "fault_code": "E7",
                "cause": "environment",
                "actions": ["descaled"],
                "labour_minutes": 45,
                "first_time_fix": True,
                "signature_ref": "sig-1",
            },
        )
        assert r.status_code == 200, r.text
        me = await net.read(tech_id)
        assert (me["status"], me["status_since"], me["status_work_order_id"]) == (
            "available",
            iso(done_at),
            None,
        )

    # every change is audited with who and when
    audit = await dispatch.sql(
        "SELECT actor, at, detail->>'status' AS status FROM audit_log"
        " WHERE entity_type = 'technician' AND entity_id = $1 ORDER BY seq",
        tech_id,
    )
    assert [(a["actor"], a["status"]) for a in audit] == [
        (tech_id, "travelling"),
        (tech_id, "on_site"),
        (tech_id, "available"),
    ]


async def test_the_technician_reports_break_and_off_duty_and_a_late_report_is_not_kept(
    dispatch: DispatchUnderTest,
) -> None:
    clock = ManualClock(T0)
    async with dispatch.client(dispatch.app(clock, roles=set())) as client:
        net = await Network(client, dispatch).setup()
        tech_id = await net.technician("jules")
        tech = dispatch.auth(tech_id, "technician")

        clock.set(T0 + timedelta(hours=4))
        r = await client.post(f"{net.p}/me/status", headers=tech, json={"status": "on_break"})
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["since"], r.json()["kept"]) == (
            "on_break",
            iso(T0 + timedelta(hours=4)),
            True,
        )

        # a report the app queued before the break reaches the server after it: not kept
        queued = {"status": "available", "occurred_at": (T0 + timedelta(hours=3)).isoformat()}
        r = await client.post(f"{net.p}/me/status", headers=tech, json=queued)
        assert (r.json()["status"], r.json()["kept"]) == ("on_break", False)
        assert (await net.read(tech_id))["status"] == "on_break"
        assert tech_id in await net.with_status("on_break")

        r = await client.post(f"{net.p}/me/status", headers=tech, json={"status": "on_site"})
        assert r.status_code == 422, r.text
        future = {"status": "available", "occurred_at": (T0 + timedelta(hours=5)).isoformat()}
        assert (await client.post(f"{net.p}/me/status", headers=tech, json=future)).status_code == 422

        # only technicians report their own status
        r = await client.post(f"{net.p}/me/status", headers=net.auth, json={"status": "available"})
        assert r.status_code == 403, r.text


async def test_an_off_duty_technician_gets_no_urgent_job_and_the_reason_shows(
    dispatch: DispatchUnderTest,
) -> None:
    clock = ManualClock(T0)
    async with dispatch.client(dispatch.app(clock, roles=set())) as client:
        net = await Network(client, dispatch).setup()
        # the nearest technician went home; the other is further away but on duty
        home = await net.technician("near", home_lon=2.353)
        on_duty = await net.technician("far", home_lon=2.20)
        r = await client.post(
            f"{net.p}/me/status", headers=dispatch.auth(home, "technician"), json={"status": "off_duty"}
        )
        assert r.status_code == 200, r.text
        assert home in await net.with_status("off_duty")

        order_id = await net.order()
        r = await client.post(f"{net.p}/work_orders/{order_id}/auto_assign", headers=net.auth)

        assert r.status_code == 200, r.text
        assert r.json()["technician_id"] == on_duty
        assert r.json()["rejected"][home] == [f"technician is off duty since {T0:%Y-%m-%d %H:%M} UTC"]


async def test_a_cancelled_trip_frees_the_technician_and_a_deactivated_one_shows_inactive(
    dispatch: DispatchUnderTest,
) -> None:
    clock = ManualClock(T0)
    async with dispatch.client(dispatch.app(clock, roles=set())) as client:
        net = await Network(client, dispatch).setup()
        tech_id = await net.technician("lea")
        tech = dispatch.auth(tech_id, "technician")
        order_id = await net.assigned_order(tech_id)
        wo = f"{net.p}/work_orders/{order_id}"
        for step in ("accept", "start_travel"):
            assert (await client.post(f"{wo}/{step}", headers=tech, json={})).status_code == 200
        assert (await net.read(tech_id))["status"] == "travelling"

        clock.set(T0 + timedelta(minutes=20))
        r = await client.post(f"{wo}/cancel", headers=net.auth, json={"reason": "customer_request"})
        assert r.status_code == 200, r.text
        me = await net.read(tech_id)
        assert (me["status"], me["status_since"]) == ("available", iso(T0 + timedelta(minutes=20)))

        # a dispatcher takes the technician off the plan: inactive, whatever they last reported
        assert (await client.delete(f"{net.p}/technicians/{tech_id}", headers=net.auth)).status_code == 204
        assert (await net.read(tech_id))["status"] == "inactive"
        assert tech_id in await net.with_status("inactive")
        assert tech_id not in await net.with_status("available")


async def test_a_dispatcher_clears_a_status_left_by_a_visit(dispatch: DispatchUnderTest) -> None:
    clock = ManualClock(T0)
    async with dispatch.client(dispatch.app(clock, roles=set())) as client:
        net = await Network(client, dispatch).setup()
        tech_id = await net.technician("noah")
        tech = dispatch.auth(tech_id, "technician")
        wo = f"{net.p}/work_orders/{await net.assigned_order(tech_id)}"
        for step in ("accept", "start_travel", "arrive"):
            assert (await client.post(f"{wo}/{step}", headers=tech, json={})).status_code == 200

        clock.set(T0 + timedelta(hours=1))
        r = await client.post(
            f"{net.p}/technicians/{tech_id}/status", headers=net.auth, json={"status": "off_duty"}
        )
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["work_order_id"]) == ("off_duty", None)
        r = await client.post(
            f"{net.p}/technicians/{tech_id}/status", headers=tech, json={"status": "available"}
        )
        assert r.status_code == 403, r.text
        [audited] = await dispatch.sql(
            "SELECT actor FROM audit_log WHERE entity_type = 'technician' AND entity_id = $1"
            " AND detail->>'status' = 'off_duty'",
            tech_id,
        )
        assert audited["actor"] == DISPATCHER[0]
