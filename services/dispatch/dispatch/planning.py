"""Stored technicians and work orders -> the planner's view of them (``Technician``, ``Crew``, ``Job``)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from dispatch.domain.assignment import Crew, Job
from dispatch.domain.technicians import STANDARD_WEEK, ShiftSpan, Technician, TechnicianStatus
from dispatch.domain.values import Capability, GeoPoint, Skill
from dispatch.domain.work_orders import WorkOrder


def skill_of(text: str) -> Skill:
    """``repair:water_heater`` -> ``Skill("water_heater", REPAIR)``."""
    capability, _, product_line = text.partition(":")
    return Skill(product_line, Capability(capability))


def shifts_of(stored: dict[str, list[list[str]]] | None) -> Any:
    if not stored:
        return STANDARD_WEEK
    return {
        int(day): tuple(ShiftSpan(time.fromisoformat(a), time.fromisoformat(b)) for a, b in spans)
        for day, spans in stored.items()
    }


def technician_of(row: Any) -> Technician:
    return Technician(
        id=row["id"],
        name=row["name"],
        home_centre_id=row["centre_id"],
        region_ids=frozenset(row["region_ids"]),
        skills=frozenset(skill_of(s) for s in row["skills"]),
        shifts=shifts_of(row["shifts"]),
        timezone=row["timezone"] or "UTC",
        status=TechnicianStatus.AVAILABLE if row["active"] else TechnicianStatus.INACTIVE,
        home=GeoPoint(row["home_lat"], row["home_lon"]),
        van_location_id=row["van_location_id"],
        dealer_id=row["dealer_id"],
    )


def crew_of(row: Any, *, at: datetime, booked_minutes: int = 0) -> Crew:
    return Crew.of(technician_of(row), at=at, booked_minutes=booked_minutes)


def job_of(order: WorkOrder) -> Job:
    return Job.from_work_order(order, keep_appointment=False)
