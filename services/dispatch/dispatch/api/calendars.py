"""The business calendar of each service centre: the working time its regions' service levels count in."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from dispatch import store
from dispatch.api.common import Dispatcher, Reader, actor_of
from kit.calendar_api import CalendarDto
from kit.concurrency import IfMatch, etag
from kit.db import UnitOfWork
from kit.deps import Db

router = APIRouter(tags=["network"])


class CentreCalendarOut(BaseModel):
    centre_id: str
    counts_on: Literal["working_time", "wall_clock"] = Field(
        description="What the service levels of the centre's regions count: its working time when it keeps "
        "a calendar, else the wall clock"
    )
    calendar: CalendarDto | None
    updated_at: datetime | None = Field(
        description="When the calendar was last set or removed (none: never since this was recorded)"
    )
    updated_by: str | None = Field(description="Who last set or removed it")


def _answer(centre_id: str, kept: store.CentreCalendar, response: Response) -> CentreCalendarOut:
    response.headers["ETag"] = etag(kept.version)
    calendar = kept.calendar
    return CentreCalendarOut(
        centre_id=centre_id,
        counts_on="wall_clock" if calendar is None else "working_time",
        calendar=None if calendar is None else CalendarDto.of(calendar),
        updated_at=kept.updated_at,
        updated_by=kept.updated_by,
    )


def _audit(uow: UnitOfWork, kept: store.CentreCalendar, centre_id: str, actor: str) -> None:
    uow.audit(
        actor=actor,
        action="set_calendar" if kept.calendar else "remove_calendar",
        entity_type="centre",
        entity_id=centre_id,
        calendar=kept.calendar.to_json() if kept.calendar else None,
        version=kept.version,
    )


@router.get("/centres/{centre_id}/calendar", summary="The centre's business calendar")
async def get_calendar(centre_id: str, db: Db, _: Reader, response: Response) -> CentreCalendarOut:
    """The calendar, who last changed it and when."""
    async with db.transaction() as uow:
        kept = await store.centre_calendar(uow, centre_id)
    return _answer(centre_id, kept, response)


@router.put("/centres/{centre_id}/calendar", summary="Set the centre's business calendar")
async def put_calendar(
    centre_id: str,
    body: CalendarDto,
    db: Db,
    principal: Dispatcher,
    response: Response,
    if_match: IfMatch = None,
) -> CentreCalendarOut:
    """From now on, the service-level deadlines of work orders in the regions the centre is responsible for
    count in its working time: nights, weekends and holidays it is closed do not count. Deadlines already
    set stay until the order's clock restarts (an escalation to on site, a hand-over to a dealer, arrival).
    Technicians of the centre without shifts of their own are planned in its working hours, not on its
    holidays, from now on. ``If-Match`` the ETag of the calendar read (412 when it changed since). Who set
    it and when is recorded (and audited)."""
    calendar = body.domain()
    actor = actor_of(principal).id
    async with db.transaction() as uow:
        kept = await store.set_centre_calendar(uow, centre_id, calendar, if_match=if_match, by=actor)
        _audit(uow, kept, centre_id, actor)
    return _answer(centre_id, kept, response)


@router.delete("/centres/{centre_id}/calendar", status_code=204, summary="Count on the wall clock again")
async def delete_calendar(
    centre_id: str, db: Db, principal: Dispatcher, if_match: IfMatch = None
) -> Response:
    """The centre keeps no calendar: its regions' service levels count on the wall clock, and its
    technicians without shifts of their own work Mon-Fri 08-17. Who removed it and when is recorded."""
    actor = actor_of(principal).id
    async with db.transaction() as uow:
        kept = await store.set_centre_calendar(uow, centre_id, None, if_match=if_match, by=actor)
        _audit(uow, kept, centre_id, actor)
    return Response(status_code=204, headers={"ETag": etag(kept.version)})
