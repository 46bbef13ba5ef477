"""A job that needs a certification on its product line goes, through the HTTP API on real PostgreSQL, only
to a technician holding it valid on the day of the visit, and the dispatcher sees why the others were not
sent."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from dispatch_harness import (
    DISPATCHER,
    LYON_SITE,
    T0,
    DispatchUnderTest,
    add_centre_and_region,
    add_technician,
    open_work_order,
)

from kit.clock import ManualClock

pytestmark = pytest.mark.integration

REFRIGERANT = "refrigerant_handling"


async def test_instant_assignment_sends_only_a_technician_certified_for_the_product_line(
    dispatch: DispatchUnderTest,
) -> None:
    async with dispatch.client(dispatch.app(ManualClock(T0), roles=set())) as client:
        p, auth = dispatch.prefix, dispatch.auth(*DISPATCHER)
        suffix = uuid.uuid4().hex[:6]
        centre, region = f"centre-{suffix}", f"region-{suffix}"
        await add_centre_and_region(
            client, dispatch, name="Lyon", grade="A", centre_id=centre, region_id=region
        )

        async def technician(name: str, lon: float, certifications: list[Any]) -> str:
            return await add_technician(
                client,
                dispatch,
                f"{name}-{suffix}",
                centre_id=centre,
                region_id=region,
                name=name,
                home_lat=45.76,
                home_lon=lon,
                skills=("repair:air_conditioner",),
                certifications=certifications,
            )

        # the uncertified ones live nearest the site; the certified one furthest
        none = await technician("none", 4.832, [])
        other_line = await technician(
            "other-line",
            4.833,
            [{"name": REFRIGERANT, "product_line": "heat_pump", "valid_until": "2027-01-01"}],
        )
        expired = await technician(
            "expired",
            4.834,
            [{"name": REFRIGERANT, "product_line": "air_conditioner", "valid_until": "2026-03-01"}],
        )
        certified = await technician(
            "certified",
            4.90,
            [
                {
                    "name": REFRIGERANT,
                    "product_line": "air_conditioner",
                    "valid_from": "2025-01-01",
                    "valid_until": "2027-01-01",
                }
            ],
        )
        read = (await client.get(f"{p}/technicians/{certified}", headers=auth)).json()
        assert read["certifications"] == [
            {
                "name": REFRIGERANT,
                "product_line": "air_conditioner",
                "valid_from": "2025-01-01",
                "valid_until": "2027-01-01",
            }
        ]

        opened = await open_work_order(
            client,
            dispatch,
            priority="urgent",
            region_id=region,
            product_line="air_conditioner",
            required_certifications=[REFRIGERANT],
            address=LYON_SITE,
        )
        assert opened["required_certifications"] == [REFRIGERANT]
        order_id = opened["id"]

        r = await client.post(f"{p}/work_orders/{order_id}/auto_assign", headers=auth)

        assert r.status_code == 200, r.text
        chosen = r.json()
        assert chosen["technician_id"] == certified
        assert f"certified for air_conditioner: {REFRIGERANT}" in chosen["reasons"]
        refused = f"lacks valid certification(s) {REFRIGERANT} for air_conditioner"
        assert {t: chosen["rejected"][t] for t in (none, other_line, expired)} == {
            none: [refused],
            other_line: [refused],
            expired: [refused],
        }
        # the reasons stay with the order
        order = (await client.get(f"{p}/work_orders/{order_id}", headers=auth)).json()
        assert f"certified for air_conditioner: {REFRIGERANT}" in order["assignment"]["reasons"]


async def test_a_certification_that_expires_before_it_becomes_valid_is_refused(
    dispatch: DispatchUnderTest,
) -> None:
    async with dispatch.client(dispatch.app(ManualClock(T0), roles=set())) as client:
        r = await client.post(
            f"{dispatch.prefix}/technicians",
            headers=dispatch.auth(*DISPATCHER),
            json={
                "id": "backwards",
                "name": "Backwards",
                "centre_id": "any",
                "region_ids": ["any"],
                "skills": [],
                "certifications": [
                    {"name": REFRIGERANT, "valid_from": "2026-05-01", "valid_until": "2026-04-01"}
                ],
                "home_lat": 45.76,
                "home_lon": 4.83,
            },
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
