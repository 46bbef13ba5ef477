"""Inventory's stock events tell dispatch what each van holds; the technician whose van carries the job's
parts is preferred, says so, and a late (older) stock event does not undo a newer one."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from dispatch_harness import (
    DISPATCHER,
    PARIS_ADDRESS,
    T0,
    DispatchUnderTest,
    add_centre_and_region,
    add_technician,
    of_order,
    open_work_order,
)

from kit.clock import ManualClock

pytestmark = pytest.mark.integration

PART = "HE-200"
RUN = uuid.uuid4().hex[:6]
# both technicians live next door to each other and do the same work; the first by id has the empty van
EMPTY_VAN_TECH, STOCKED_VAN_TECH = f"a-tech-{RUN}", f"b-tech-{RUN}"
EMPTY_VAN, STOCKED_VAN = f"van-a-{RUN}", f"van-b-{RUN}"
HOLDS_PARTS = "van holds the needed parts"


def stock_changed(location_id: str, *, available: int, sequence: int, kind: str = "van") -> dict[str, Any]:
    return {
        "part_number": PART,
        "location": {"location_id": location_id, "kind": kind},
        "on_hand": available,
        "reserved": 0,
        "available": available,
        "sequence": sequence,
        "movement": "transfer_in",
        "changed_at": T0.isoformat(),
    }


async def inventory_says(dispatch: DispatchUnderTest, location_id: str, **level: Any) -> None:
    await dispatch.deliver("inventory.stock.changed.v1", stock_changed(location_id, **level))


async def seed_two_comparable_technicians(client: Any, dispatch: DispatchUnderTest) -> None:
    await add_centre_and_region(
        client, dispatch, centre_id="paris-centre", region_id="paris", lat=48.86, lon=2.35
    )
    for technician_id, van in ((EMPTY_VAN_TECH, EMPTY_VAN), (STOCKED_VAN_TECH, STOCKED_VAN)):
        await add_technician(
            client,
            dispatch,
            technician_id,
            centre_id="paris-centre",
            region_id="paris",
            name=technician_id,
            home_lat=48.85,
            home_lon=2.34,
            van_location_id=van,
        )


async def test_the_technician_whose_van_holds_the_parts_is_chosen_and_a_late_stock_event_changes_nothing(
    dispatch: DispatchUnderTest,
) -> None:
    app = dispatch.app(ManualClock(T0), roles={"relay", "consumer"})
    async with dispatch.client(app) as client:
        await seed_two_comparable_technicians(client, dispatch)
        auth = dispatch.auth(*DISPATCHER)

        # the empty van had the part, then it left; the stocked van's late, older copy says it had none
        await inventory_says(dispatch, EMPTY_VAN, available=1, sequence=1)
        await inventory_says(dispatch, EMPTY_VAN, available=0, sequence=2)
        await inventory_says(dispatch, STOCKED_VAN, available=2, sequence=7)
        await inventory_says(dispatch, STOCKED_VAN, available=0, sequence=6)
        # a warehouse that happens to share an id with the empty van is not a van
        await inventory_says(dispatch, EMPTY_VAN, available=50, sequence=3, kind="regional")

        order = await open_work_order(
            client,
            dispatch,
            region_id="paris",
            customer_id="cust-vs",
            address=PARIS_ADDRESS,
            needed_parts=[[PART, 1]],
        )

        r = await client.post(
            f"{dispatch.prefix}/assignments/optimise",
            headers=auth,
            json={"apply": False, "time_limit_seconds": 0.5},
        )
        assert r.status_code == 200, r.text
        [planned] = [a for a in r.json()["assignments"] if a["work_order_id"] == order["id"]]
        assert planned["technician_id"] == STOCKED_VAN_TECH
        assert HOLDS_PARTS in planned["reasons"]

        r = await client.post(f"{dispatch.prefix}/work_orders/{order['id']}/auto_assign", headers=auth)
        assert r.status_code == 200, r.text
        chosen = r.json()
        assert chosen["technician_id"] == STOCKED_VAN_TECH
        assert HOLDS_PARTS in chosen["reasons"]
        assert chosen["runners_up"] == [EMPTY_VAN_TECH]
        assert HOLDS_PARTS in chosen["work_order"]["assignment"]["reasons"]

        assigned = await dispatch.next_event(of_order("dispatch.work_order.assigned.v1", order["id"]))
        assert assigned["data"]["technician_id"] == STOCKED_VAN_TECH
        assert HOLDS_PARTS in assigned["data"]["reasons"]
