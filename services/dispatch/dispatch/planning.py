"""Stored technicians and work orders -> the planner's view of them (``Technician``, ``Crew``, ``Job``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from dispatch.domain.assignment import Crew, Job
from dispatch.domain.technicians import STANDARD_WEEK, Absence, Certification, ShiftSpan, Technician
from dispatch.domain.values import GeoPoint, Skill, TimeWindow
from dispatch.domain.work_orders import WorkOrder
from dispatch.working_status import status_of, working_status_of
from kit.calendar import BusinessCalendar

# (start, end, work order id) of an appointment a technician already holds
Booking = tuple[datetime, datetime, str]


def skill_of(text: str) -> Skill:
    """``repair:water_heater`` -> ``Skill("water_heater", REPAIR)``."""
    return Skill.parse(text)


def shifts_of(stored: dict[str, list[list[str]]] | None) -> Any:
    if not stored:
        return STANDARD_WEEK
    return {
        int(day): tuple(ShiftSpan(time.fromisoformat(a), time.fromisoformat(b)) for a, b in spans)
        for day, spans in stored.items()
    }


def certification_of(stored: str | Mapping[str, Any]) -> Certification:
    """A stored certification; a bare name (as first stored) holds for every product line, unexpiring."""
    if isinstance(stored, str):
        return Certification(stored, None)
    valid_from, valid_until = stored.get("valid_from"), stored.get("valid_until")
    return Certification(
        stored["name"],
        stored.get("product_line"),
        valid_until=date.fromisoformat(valid_until) if valid_until else None,
        valid_from=date.fromisoformat(valid_from) if valid_from else None,
    )


def technician_of(row: Mapping[Any, Any], absences: Iterable[Mapping[Any, Any]] = ()) -> Technician:
    """The planner's technician. One without shifts of their own works to their home centre's business
    calendar when the row carries it (``centre_calendar``, see ``store.technicians``), else the standard
    week."""
    reported = row.get("location_lat") is not None and row.get("location_lon") is not None
    technician = Technician(
        id=row["id"],
        name=row["name"],
        home_centre_id=row["centre_id"],
        region_ids=frozenset(row["region_ids"]),
        skills=frozenset(skill_of(s) for s in row["skills"]),
        shifts=shifts_of(row["shifts"]),
        timezone=row["timezone"] or "UTC",
        certifications=tuple(certification_of(c) for c in row.get("certifications") or ()),
        absences=tuple(Absence(TimeWindow(a["start"], a["end"]), a["reason"]) for a in absences),
        daily_capacity_minutes=row.get("daily_capacity_minutes") or 480,
        status=status_of(row),
        status_since=working_status_of(row).since,
        home=GeoPoint(row["home_lat"], row["home_lon"]),
        location=GeoPoint(row["location_lat"], row["location_lon"]) if reported else None,
        location_reported_at=row["location_reported_at"] if reported else None,
        van_location_id=row["van_location_id"],
        dealer_id=row["dealer_id"],
    )
    calendar = row.get("centre_calendar")
    if not row["shifts"] and calendar is not None:
        return technician.working_to(BusinessCalendar.from_json(calendar))
    return technician


def crew_of(
    row: Mapping[Any, Any],
    *,
    at: datetime,
    absences: Iterable[Mapping[Any, Any]] = (),
    booked: Sequence[Booking] = (),
    planned: frozenset[str] = frozenset(),
    van_stock: Mapping[str, int] | None = None,
) -> Crew:
    """The technician as the planner sees them from ``at``: busy during the appointments they already hold
    (except those of the ``planned`` orders, which are being planned again), with that day's booked
    minutes counted, and carrying ``van_stock`` (part number -> quantity free on their van)."""
    technician = technician_of(row, absences)
    busy = tuple(TimeWindow(a, b) for a, b, order_id in booked if order_id not in planned)
    today = technician.local_date(at)
    minutes = sum(
        int((w.end - w.start) / timedelta(minutes=1)) for w in busy if technician.local_date(w.start) == today
    )
    return Crew.of(technician, at=at, booked_minutes=minutes, busy=busy, van_stock=van_stock)


def crews_of(
    rows: Iterable[Mapping[Any, Any]],
    *,
    at: datetime,
    absences: Iterable[Mapping[Any, Any]] = (),
    bookings: Mapping[str, Sequence[Booking]] | None = None,
    planned: frozenset[str] = frozenset(),
    van_stock: Mapping[str, Mapping[str, int]] | None = None,
) -> list[Crew]:
    """Every active technician as a crew (see :func:`crew_of`), each with the stock of their own van
    (``van_stock``: van location id -> part number -> quantity free)."""
    by_technician: dict[str, list[Mapping[Any, Any]]] = {}
    for absence in absences:
        by_technician.setdefault(absence["technician_id"], []).append(absence)
    return [
        crew_of(
            r,
            at=at,
            absences=by_technician.get(r["id"], ()),
            booked=(bookings or {}).get(r["id"], ()),
            planned=planned,
            van_stock=(van_stock or {}).get(r["van_location_id"] or ""),
        )
        for r in rows
        if r["active"]
    ]


def job_of(order: WorkOrder) -> Job:
    return Job.from_work_order(order, keep_appointment=False)
