"""A centre's business calendar through the HTTP API on real PostgreSQL: set with If-Match, validated, and
counted in by the deadlines of work orders opened in the centre's regions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from dispatch_harness import DISPATCHER, DispatchUnderTest, add_centre_and_region, open_work_order

from kit.clock import ManualClock

pytestmark = pytest.mark.integration

FRIDAY_17H_PARIS = datetime(2026, 3, 13, 16, 0, tzinfo=UTC)
OFFICE = {
    "timezone": "Europe/Paris",
    "working_hours": {str(day): {"opens": "08:00", "closes": "18:00"} for day in range(5)},
    "holidays": ["2026-03-16"],
}


async def open_order(client: Any, dispatch: DispatchUnderTest, region_id: str) -> dict[str, Any]:
    """The deadlines of a repair opened in the region."""
    deadlines: dict[str, Any] = (await open_work_order(client, dispatch, region_id=region_id))["deadlines"]
    return deadlines


async def test_deadlines_count_in_the_working_time_of_the_centre_responsible_for_the_region(
    dispatch: DispatchUnderTest,
) -> None:
    app = dispatch.app(ManualClock(FRIDAY_17H_PARIS), roles=set())
    auth = dispatch.auth(*DISPATCHER)
    async with dispatch.client(app) as client:
        centre_id, region_id = await add_centre_and_region(client, dispatch, grade="A")
        url = f"{dispatch.prefix}/centres/{centre_id}/calendar"

        r = await client.get(url, headers=auth)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "centre_id": centre_id,
            "counts_on": "wall_clock",
            "calendar": None,
            "updated_at": None,
            "updated_by": None,
        }
        unset = r.headers["ETag"]
        # without a calendar, the wall clock: on site within 2 hours of Friday 17:00 Paris
        assert (await open_order(client, dispatch, region_id))["on_site_by"] == "2026-03-13T18:00:00Z"

        r = await client.put(url, headers={**auth, "If-Match": unset}, json=OFFICE)
        assert r.status_code == 200, r.text
        assert r.json()["counts_on"] == "working_time"
        assert r.json()["calendar"]["holidays"] == ["2026-03-16"]
        assert r.headers["ETag"] != unset

        # a write based on the calendar as it was before is refused, and changes nothing
        stale = await client.put(url, headers={**auth, "If-Match": unset}, json={**OFFICE, "holidays": []})
        assert stale.status_code == 412, stale.text
        assert stale.headers["content-type"].startswith("application/problem+json")
        assert (await client.get(url, headers=auth)).json()["calendar"]["holidays"] == ["2026-03-16"]

        # one working hour on Friday, the weekend and Monday's holiday skipped, the second hour on Tuesday
        deadlines = await open_order(client, dispatch, region_id)
        assert deadlines["on_site_by"] == "2026-03-17T08:00:00Z"
        assert deadlines["arrange_by"] == "2026-03-17T08:00:00Z"

        # a region of another centre keeps the wall clock
        _, other_region = await add_centre_and_region(client, dispatch, grade="A")
        assert (await open_order(client, dispatch, other_region))["on_site_by"] == "2026-03-13T18:00:00Z"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({**OFFICE, "timezone": "Mars/Olympus"}, "bad-timezone"),
        ({**OFFICE, "working_hours": {"0": {"opens": "18:00", "closes": "08:00"}}}, "bad-calendar"),
        ({**OFFICE, "working_hours": {"7": {"opens": "08:00", "closes": "18:00"}}}, None),
    ],
)
async def test_an_impossible_calendar_is_refused_with_a_problem(
    dispatch: DispatchUnderTest, body: dict[str, Any], problem: str | None
) -> None:
    app = dispatch.app(ManualClock(FRIDAY_17H_PARIS), roles=set())
    auth = dispatch.auth(*DISPATCHER)
    async with dispatch.client(app) as client:
        centre_id, _ = await add_centre_and_region(client, dispatch, grade="B")
        r = await client.put(f"{dispatch.prefix}/centres/{centre_id}/calendar", headers=auth, json=body)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        if problem:
            assert r.json()["type"].endswith(problem)
        r = await client.get(f"{dispatch.prefix}/centres/{centre_id}/calendar", headers=auth)
        assert r.json()["counts_on"] == "wall_clock"


async def test_a_calendar_of_an_unknown_centre_is_not_found(dispatch: DispatchUnderTest) -> None:
    app = dispatch.app(ManualClock(FRIDAY_17H_PARIS), roles=set())
    async with dispatch.client(app) as client:
        r = await client.put(
            f"{dispatch.prefix}/centres/nowhere/calendar", headers=dispatch.auth(*DISPATCHER), json=OFFICE
        )
        assert r.status_code == 404, r.text
