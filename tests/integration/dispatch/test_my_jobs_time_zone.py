"""The technician app's "my jobs today", on real PostgreSQL, counts days in the time zone the technician is
planned in: the home centre calendar's for a technician working to it, their own for one with shifts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Self

import pytest
from dispatch_harness import (
    DispatchUnderTest,
    Territory,
    appointment,
    assign,
    open_work_order,
)

from kit.clock import ManualClock

pytestmark = pytest.mark.integration

# Auckland is 13 hours ahead of UTC in March
AUCKLAND_HOURS = {
    "timezone": "Pacific/Auckland",
    "working_hours": {str(day): {"opens": "08:00", "closes": "18:00"} for day in range(7)},
    "holidays": [],
}
ASSIGNED_AT = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # 21:00 on the 10th in Auckland
ASKED_AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # already 01:00 on the 11th in Auckland
SITE = {
    "line1": "1 Queen Street",
    "city": "Auckland",
    "country": "NZ",
    "location": {"latitude": -36.8485, "longitude": 174.7633},
}


class Auckland(Territory):
    """A centre keeping Auckland's calendar, a region, technicians, and visits given to them."""

    name = "Auckland"
    home = (-36.85, 174.76)

    async def setup(self) -> Self:
        await super().setup()
        r = await self.client.put(
            f"{self.p}/centres/{self.centre}/calendar", headers=self.auth, json=AUCKLAND_HOURS
        )
        assert r.status_code == 200, r.text
        return self

    async def visit(self, technician_id: str, start: datetime) -> str:
        order_id = str(
            (await open_work_order(self.client, self.dispatch, region_id=self.region, address=SITE))["id"]
        )
        await assign(self.client, self.dispatch, order_id, technician_id, appointment(start))
        return order_id


async def my_jobs(client: Any, dispatch: DispatchUnderTest, technician_id: str, **params: str) -> list[str]:
    r = await client.get(
        f"{dispatch.prefix}/me/jobs", headers=dispatch.auth(technician_id, "technician"), params=params
    )
    assert r.status_code == 200, r.text
    return [job["id"] for job in r.json()]


async def test_a_technician_working_to_the_centre_calendar_sees_the_centres_days(
    dispatch: DispatchUnderTest,
) -> None:
    clock = ManualClock(ASSIGNED_AT)
    async with dispatch.client(dispatch.app(clock, roles=set())) as client:
        auckland = await Auckland(client, dispatch).setup()
        # no shifts of their own: planned in the centre's hours and zone (their own zone is left at UTC)
        kiri = await auckland.technician("kiri")
        # in Auckland: 22:00 on the 10th, 15:00 on the 11th, 01:00 on the 12th
        late_on_the_10th = await auckland.visit(kiri, datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
        afternoon_11th = await auckland.visit(kiri, datetime(2026, 3, 11, 2, 0, tzinfo=UTC))
        early_12th = await auckland.visit(kiri, datetime(2026, 3, 11, 12, 0, tzinfo=UTC))
        clock.set(ASKED_AT)

        assert await my_jobs(client, dispatch, kiri) == [afternoon_11th]
        assert await my_jobs(client, dispatch, kiri, date="2026-03-10") == [late_on_the_10th]
        assert await my_jobs(client, dispatch, kiri, date="2026-03-11") == [afternoon_11th]
        assert await my_jobs(client, dispatch, kiri, date="2026-03-12") == [early_12th]


async def test_a_technician_with_shifts_of_their_own_keeps_their_own_days(
    dispatch: DispatchUnderTest,
) -> None:
    clock = ManualClock(ASSIGNED_AT)
    async with dispatch.client(dispatch.app(clock, roles=set())) as client:
        auckland = await Auckland(client, dispatch).setup()
        # works from the same centre, but to shifts of their own in UTC (a remote support desk, say)
        sam = await auckland.technician("sam", shifts={"1": [["08:00:00", "17:00:00"]]})
        morning_10th_utc = await auckland.visit(sam, datetime(2026, 3, 10, 10, 0, tzinfo=UTC))
        clock.set(ASKED_AT)

        assert await my_jobs(client, dispatch, sam) == [morning_10th_utc]
