"""A dispatcher's own choice of technician, through the HTTP API on real PostgreSQL and RabbitMQ: refused for
an inactive technician; refused with the problems listed for one off duty, unqualified or absent unless
the dispatcher overrides; and an override is kept on the order, in the assignment history and in the
assigned event."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from dispatch_harness import (
    DISPATCHER,
    LYON_SITE,
    T0,
    DispatchUnderTest,
    Territory,
    of_order,
    open_work_order,
)

from kit.clock import ManualClock

pytestmark = pytest.mark.integration

REFRIGERANT = "refrigerant_handling"


def window(start: datetime, minutes: int = 60) -> dict[str, str]:
    return {"start": start.isoformat(), "end": (start + timedelta(minutes=minutes)).isoformat()}


TODAY_14H = window(T0 + timedelta(hours=6))


class Lyon(Territory):
    """A centre and region of their own, technicians in it, and air conditioner repairs that need
    refrigerant handling."""

    name = "Lyon"
    home = (45.76, 4.84)

    async def technician(self, name: str, **changes: Any) -> str:
        fields: dict[str, Any] = {
            "skills": ["repair:air_conditioner"],
            "certifications": [{"name": REFRIGERANT, "product_line": "air_conditioner"}],
            **changes,
        }
        return await super().technician(name, **fields)

    async def order(self) -> str:
        opened = await open_work_order(
            self.client,
            self.dispatch,
            region_id=self.region,
            product_line="air_conditioner",
            required_certifications=[REFRIGERANT],
            address=LYON_SITE,
        )
        return str(opened["id"])

    async def assign(self, order_id: str, technician_id: str, **extra: Any) -> Any:
        return await self.client.post(
            f"{self.p}/work_orders/{order_id}/assign",
            headers=self.auth,
            json={"technician_id": technician_id, "appointment": TODAY_14H, **extra},
        )

    async def read(self, order_id: str) -> dict[str, Any]:
        r = await self.client.get(f"{self.p}/work_orders/{order_id}", headers=self.auth)
        assert r.status_code == 200, r.text
        order: dict[str, Any] = r.json()
        return order


def assigned(order_id: str) -> Any:
    return of_order("dispatch.work_order.assigned.v1", order_id)


async def test_an_inactive_technician_is_refused_even_with_an_override(dispatch: DispatchUnderTest) -> None:
    async with dispatch.client(dispatch.app(ManualClock(T0), roles={"relay"})) as client:
        lyon = await Lyon(client, dispatch).setup()
        gone = await lyon.technician("gone")
        r = await client.delete(f"{lyon.p}/technicians/{gone}", headers=lyon.auth)
        assert r.status_code == 204, r.text
        order_id = await lyon.order()

        r = await lyon.assign(order_id, gone, override=True)

        assert r.status_code == 409, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith(":technician-inactive")
        order = await lyon.read(order_id)
        assert (order["state"], order["technician_id"]) == ("new", None)
        await dispatch.no_event(assigned(order_id))


async def test_an_unfit_choice_is_refused_with_its_problems_and_assigned_when_overridden(
    dispatch: DispatchUnderTest,
) -> None:
    async with dispatch.client(dispatch.app(ManualClock(T0), roles={"relay"})) as client:
        lyon = await Lyon(client, dispatch).setup()
        # finished for the day, repairs water heaters only, in another region, uncertified
        tired = await lyon.technician(
            "tired", skills=["repair:water_heater"], region_ids=["elsewhere"], certifications=[]
        )
        r = await client.post(
            f"{lyon.p}/me/status", headers=dispatch.auth(tired, "technician"), json={"status": "off_duty"}
        )
        assert r.status_code == 200, r.text
        order_id = await lyon.order()
        problems = [
            "technician is off duty since 2026-03-10 08:00 UTC",
            "lacks skill(s) repair:air_conditioner",
            f"does not cover region {lyon.region}",
            f"lacks valid certification(s) {REFRIGERANT} for air_conditioner",
        ]

        r = await lyon.assign(order_id, tired, reasons=["the customer knows him"])

        assert r.status_code == 409, r.text
        assert r.json()["type"].endswith(":assignment-needs-override")
        assert r.json()["problems"] == problems
        assert (await lyon.read(order_id))["technician_id"] is None

        r = await lyon.assign(order_id, tired, reasons=["the customer knows him"], override=True)

        assert r.status_code == 200, r.text
        recorded = [*(f"assigned by dispatcher despite: {p}" for p in problems), "the customer knows him"]
        order = await lyon.read(order_id)
        assert (order["state"], order["technician_id"]) == ("assigned", tired)
        assert order["assignment"]["reasons"] == recorded
        event = await dispatch.next_event(assigned(order_id))
        assert (event["data"]["method"], event["data"]["reasons"]) == ("manual", recorded)
        [history] = await dispatch.sql(
            "SELECT reasons, assigned_by FROM assignments WHERE work_order_id = $1", order_id
        )
        assert (json.loads(history["reasons"]), history["assigned_by"]) == (recorded, DISPATCHER[0])


async def test_a_fit_technician_is_assigned_without_an_override(dispatch: DispatchUnderTest) -> None:
    async with dispatch.client(dispatch.app(ManualClock(T0), roles={"relay"})) as client:
        lyon = await Lyon(client, dispatch).setup()
        fit = await lyon.technician("fit")
        order_id = await lyon.order()

        r = await lyon.assign(order_id, fit)

        assert r.status_code == 200, r.text
        assert r.json()["assignment"]["reasons"] == ["chosen by the dispatcher"]


async def test_an_absence_on_the_day_of_the_visit_needs_an_override(dispatch: DispatchUnderTest) -> None:
    async with dispatch.client(dispatch.app(ManualClock(T0), roles={"relay"})) as client:
        lyon = await Lyon(client, dispatch).setup()
        away = await lyon.technician("away")
        r = await client.post(
            f"{lyon.p}/technicians/{away}/absences",
            headers=lyon.auth,
            json={**window(T0 + timedelta(hours=1), minutes=180), "reason": "training"},
        )
        assert r.status_code == 201, r.text
        order_id = await lyon.order()

        refused = await lyon.assign(order_id, away)
        tomorrow = await client.post(
            f"{lyon.p}/work_orders/{order_id}/assign",
            headers=lyon.auth,
            json={"technician_id": away, "appointment": window(T0 + timedelta(days=1, hours=1))},
        )

        assert refused.status_code == 409, refused.text
        assert refused.json()["problems"] == ["absent (training) on 2026-03-10, the day of the visit"]
        assert tomorrow.status_code == 200, tomorrow.text
        assert tomorrow.json()["assignment"]["reasons"] == ["chosen by the dispatcher"]
