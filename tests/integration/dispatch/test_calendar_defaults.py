"""A technician without shifts of their own works to the home centre's business calendar as it is when
planning (its hours and holidays), and every change of a centre's calendar says who made it and when."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dispatch_harness import (
    DISPATCHER,
    PARIS_SITE,
    T0,
    DispatchUnderTest,
    add_centre_and_region,
    add_technician,
    open_work_order,
)

from kit.clock import ManualClock

pytestmark = pytest.mark.integration

# opens 10:00 Paris = 09:00 UTC in March, an hour after the Mon-Fri 08-17 (UTC) default
PARIS_HOURS = {
    "timezone": "Europe/Paris",
    "working_hours": {str(day): {"opens": "10:00", "closes": "18:00"} for day in range(5)},
    "holidays": [],
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def technician_in(
    client: Any, dispatch: DispatchUnderTest, centre_id: str, region_id: str, **extra: Any
) -> dict[str, Any]:
    technician_id = await add_technician(
        client,
        dispatch,
        "tech-" + uuid.uuid4().hex[:6],
        centre_id=centre_id,
        region_id=region_id,
        name="Camille",
        home_lat=48.85,
        home_lon=2.34,
        **extra,
    )
    r = await client.get(f"{dispatch.prefix}/technicians/{technician_id}", headers=dispatch.auth(*DISPATCHER))
    technician: dict[str, Any] = r.json()
    return technician


async def auto_assigned_visit(
    client: Any, dispatch: DispatchUnderTest, region_id: str
) -> tuple[datetime, str]:
    order = await open_work_order(client, dispatch, region_id=region_id, address=PARIS_SITE)
    r = await client.post(
        f"{dispatch.prefix}/work_orders/{order['id']}/auto_assign", headers=dispatch.auth(*DISPATCHER)
    )
    assert r.status_code == 200, r.text
    return at(r.json()["work_order"]["appointment"]["start"]), r.json()["technician_id"]


async def test_a_technician_without_shifts_is_planned_in_the_centres_hours_as_they_change(
    dispatch: DispatchUnderTest,
) -> None:
    clock = ManualClock(T0)  # Tuesday 08:00 UTC
    async with dispatch.client(dispatch.app(clock, roles=set())) as client:
        auth = dispatch.auth(*DISPATCHER)
        centre_id, region_id = await add_centre_and_region(client, dispatch)
        calendar_url = f"{dispatch.prefix}/centres/{centre_id}/calendar"
        assert (await client.put(calendar_url, headers=auth, json=PARIS_HOURS)).status_code == 200
        tech = await technician_in(client, dispatch, centre_id, region_id)
        assert (tech["works_to"], tech["shifts"]) == ("centre_calendar", None)

        start, chosen = await auto_assigned_visit(client, dispatch, region_id)
        assert chosen == tech["id"]
        # not at 08:00 + travel as the default week would have it: after the centre opens
        assert datetime(2026, 3, 10, 9, 0, tzinfo=UTC) <= start < datetime(2026, 3, 10, 9, 30, tzinfo=UTC)

        # the centre closes today for a holiday: the next job of its technician waits for tomorrow
        assert (
            await client.put(calendar_url, headers=auth, json={**PARIS_HOURS, "holidays": ["2026-03-10"]})
        ).status_code == 200
        start, chosen = await auto_assigned_visit(client, dispatch, region_id)
        assert chosen == tech["id"]
        assert datetime(2026, 3, 11, 9, 0, tzinfo=UTC) <= start < datetime(2026, 3, 11, 9, 30, tzinfo=UTC)

        # without the centre's calendar, the default week again
        assert (await client.delete(calendar_url, headers=auth)).status_code == 204
        assert (await client.get(f"{dispatch.prefix}/technicians/{tech['id']}", headers=auth)).json()[
            "works_to"
        ] == "standard_week"
        start, _ = await auto_assigned_visit(client, dispatch, region_id)
        assert start < datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


async def test_own_shifts_are_kept_whatever_the_centres_calendar(dispatch: DispatchUnderTest) -> None:
    async with dispatch.client(dispatch.app(ManualClock(T0), roles=set())) as client:
        centre_id, region_id = await add_centre_and_region(client, dispatch)
        r = await client.put(
            f"{dispatch.prefix}/centres/{centre_id}/calendar",
            headers=dispatch.auth(*DISPATCHER),
            json={**PARIS_HOURS, "holidays": ["2026-03-10"]},
        )
        assert r.status_code == 200, r.text
        early = await technician_in(
            client, dispatch, centre_id, region_id, shifts={"1": [["06:00:00", "14:00:00"]]}
        )
        assert early["works_to"] == "own_shifts"

        start, chosen = await auto_assigned_visit(client, dispatch, region_id)

        assert chosen == early["id"]
        assert start.date() == T0.date()

        r = await client.post(
            f"{dispatch.prefix}/technicians",
            headers=dispatch.auth(*DISPATCHER),
            json={
                **early,
                "id": "night-" + uuid.uuid4().hex[:6],
                "shifts": {"1": [["22:00:00", "06:00:00"]]},
            },
        )
        assert r.status_code == 422, r.text


async def test_calendar_changes_say_who_made_them_and_when(dispatch: DispatchUnderTest) -> None:
    clock = ManualClock(T0)
    async with dispatch.client(dispatch.app(clock, roles=set())) as client:
        centre_id, _ = await add_centre_and_region(client, dispatch)
        url = f"{dispatch.prefix}/centres/{centre_id}/calendar"
        first, second = (
            dispatch.auth("dispatcher-1", "dispatcher"),
            dispatch.auth("supervisor-7", "supervisor"),
        )

        r = await client.get(url, headers=first)
        assert (r.json()["updated_at"], r.json()["updated_by"]) == (None, None)

        r = await client.put(url, headers={**first, "If-Match": r.headers["ETag"]}, json=PARIS_HOURS)
        assert r.status_code == 200, r.text
        assert (at(r.json()["updated_at"]), r.json()["updated_by"]) == (T0, "dispatcher-1")

        clock.set(T0 + timedelta(hours=2))
        r = await client.put(url, headers=second, json={**PARIS_HOURS, "holidays": ["2026-12-25"]})
        assert r.status_code == 200, r.text
        read = (await client.get(url, headers=first)).json()
        assert (at(read["updated_at"]), read["updated_by"]) == (T0 + timedelta(hours=2), "supervisor-7")
        assert read["calendar"]["holidays"] == ["2026-12-25"]

        clock.set(T0 + timedelta(hours=3))
        assert (await client.delete(url, headers=first)).status_code == 204
        read = (await client.get(url, headers=first)).json()
        assert (read["calendar"], read["counts_on"]) == (None, "wall_clock")
        assert (at(read["updated_at"]), read["updated_by"]) == (T0 + timedelta(hours=3), "dispatcher-1")

    audit = await dispatch.sql(
        "SELECT actor, action, at FROM audit_log WHERE entity_type = 'centre' AND entity_id = $1 ORDER BY seq",
        centre_id,
    )
    assert [(a["actor"], a["action"], a["at"]) for a in audit] == [
        ("dispatcher-1", "set_calendar", T0),
        ("supervisor-7", "set_calendar", T0 + timedelta(hours=2)),
        ("dispatcher-1", "remove_calendar", T0 + timedelta(hours=3)),
    ]
