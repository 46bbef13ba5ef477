"""The work order aggregate to and from the JSON document kept in ``work_orders.snapshot``.

The document is plain JSON, readable in SQL (``snapshot->>'state'``), and names its format in
``"codec"``: a reader refuses a format it does not know rather than guessing. The service-level policy
and the calendar are configuration, not state: they are restored from the running configuration.
Raised events belong to the transaction that raised them and are never stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dispatch.domain.appointments import Appointment
from dispatch.domain.billing import Billing, BillingBasis
from dispatch.domain.calendar import ALWAYS_OPEN, WorkingCalendar
from dispatch.domain.completion import (
    CollectedPart,
    CompletionReport,
    FaultCause,
    IncompleteReason,
    UsedPart,
)
from dispatch.domain.events import EscalationKind
from dispatch.domain.network import DEFAULT_SERVICE_LEVELS, RegionGrade, ServiceLevelPolicy
from dispatch.domain.sla import SlaDeadlines
from dispatch.domain.values import (
    Actor,
    GeoPoint,
    PartNeed,
    Priority,
    Role,
    Skill,
    TimeWindow,
    WorkOrderType,
)
from dispatch.domain.work_orders import (
    AssignmentRecord,
    EscalationRecord,
    Site,
    TransitionRecord,
    UnitRef,
    WorkOrder,
    WorkOrderState,
)
from kit.domain import Money

Json = dict[str, Any]

CODEC_VERSION = 1

# The aggregate's fields that are not stored: configuration restored on load, and pending events.
NOT_STORED = frozenset({"policy", "calendar", "events"})


class UnknownSnapshotFormat(ValueError):
    """A stored document in a format this release cannot read (written by a newer one)."""


# --- small values ---------------------------------------------------------------------------------


def _time(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _time_of(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _required_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _window(w: TimeWindow) -> Json:
    return {"start": w.start.isoformat(), "end": w.end.isoformat()}


def _window_of(data: Mapping[str, Any]) -> TimeWindow:
    return TimeWindow(_required_time(data["start"]), _required_time(data["end"]))


def _actor(a: Actor) -> Json:
    return {"id": a.id, "role": a.role.value}


def _actor_of(data: Mapping[str, Any]) -> Actor:
    return Actor(data["id"], Role(data["role"]))


# --- parts of a work order ------------------------------------------------------------------------


def _site(site: Site) -> Json:
    return {
        "address": site.address,
        "lat": site.location.lat,
        "lon": site.location.lon,
        "region_id": site.region_id,
        "grade": site.grade.value,
    }


def _site_of(data: Mapping[str, Any]) -> Site:
    return Site(
        data["address"],
        GeoPoint(float(data["lat"]), float(data["lon"])),
        data["region_id"],
        RegionGrade(data["grade"]),
    )


def _deadlines(d: SlaDeadlines) -> Json:
    return {
        "arrange_by": d.arrange_by.isoformat(),
        "supervisor_check_at": d.supervisor_check_at.isoformat(),
        "on_site_by": _time(d.on_site_by),
        "fix_by": _time(d.fix_by),
        "remote_escalation_at": _time(d.remote_escalation_at),
        "premium": d.premium,
    }


def _deadlines_of(data: Mapping[str, Any]) -> SlaDeadlines:
    return SlaDeadlines(
        arrange_by=_required_time(data["arrange_by"]),
        supervisor_check_at=_required_time(data["supervisor_check_at"]),
        on_site_by=_time_of(data["on_site_by"]),
        fix_by=_time_of(data["fix_by"]),
        remote_escalation_at=_time_of(data["remote_escalation_at"]),
        premium=bool(data["premium"]),
    )


def _unit(unit: UnitRef | None) -> Json | None:
    if unit is None:
        return None
    return {
        "serial": unit.serial,
        "model": unit.model,
        "model_grade": unit.model_grade,
        "installer_technician_id": unit.installer_technician_id,
    }


def _unit_of(data: Mapping[str, Any] | None) -> UnitRef | None:
    if data is None:
        return None
    return UnitRef(data["serial"], data["model"], data["model_grade"], data["installer_technician_id"])


def _billing(billing: Billing | None) -> Json | None:
    if billing is None:
        return None
    return {
        "basis": billing.basis.value,
        "entitlement_id": billing.entitlement_id,
        "contract_id": billing.contract_id,
        "premium_contract": billing.premium_contract,
        "covered_until": None if billing.covered_until is None else billing.covered_until.isoformat(),
        "estimate": None
        if billing.estimate is None
        else {"amount": str(billing.estimate.amount), "currency": billing.estimate.currency},
        "estimate_accepted_at": _time(billing.estimate_accepted_at),
    }


def _billing_of(data: Mapping[str, Any] | None) -> Billing | None:
    if data is None:
        return None
    estimate = data["estimate"]
    return Billing(
        BillingBasis(data["basis"]),
        entitlement_id=data["entitlement_id"],
        contract_id=data["contract_id"],
        premium_contract=bool(data["premium_contract"]),
        covered_until=None if data["covered_until"] is None else date.fromisoformat(data["covered_until"]),
        estimate=None if estimate is None else Money(Decimal(estimate["amount"]), estimate["currency"]),
        estimate_accepted_at=_time_of(data["estimate_accepted_at"]),
    )


def _appointment(appointment: Appointment | None) -> Json | None:
    if appointment is None:
        return None
    return {
        **_window(appointment.window),
        "confirmed_at": _time(appointment.confirmed_at),
        "confirmed_by": appointment.confirmed_by,
        "times_moved": appointment.times_moved,
    }


def _appointment_of(data: Mapping[str, Any] | None) -> Appointment | None:
    if data is None:
        return None
    return Appointment(
        _window_of(data),
        confirmed_at=_time_of(data["confirmed_at"]),
        confirmed_by=data["confirmed_by"],
        times_moved=int(data["times_moved"]),
    )


def _assignment(rec: AssignmentRecord | None) -> Json | None:
    if rec is None:
        return None
    return {
        "technician_id": rec.technician_id,
        "at": rec.at.isoformat(),
        "actor": _actor(rec.actor),
        "reasons": list(rec.reasons),
        "cost": [[name, value] for name, value in rec.cost],
    }


def _assignment_of(data: Mapping[str, Any] | None) -> AssignmentRecord | None:
    if data is None:
        return None
    return AssignmentRecord(
        data["technician_id"],
        _required_time(data["at"]),
        _actor_of(data["actor"]),
        tuple(data["reasons"]),
        tuple((str(name), float(value)) for name, value in data["cost"]),
    )


def _report(report: CompletionReport | None) -> Json | None:
    if report is None:
        return None
    return {
        "fault_code": report.fault_code,
        "cause": None if report.cause is None else report.cause.value,
        "actions": list(report.actions),
        "labour_minutes": report.labour_minutes,
        "first_time_fix": report.first_time_fix,
        "parts_used": [
            {"part_number": p.part_number, "quantity": p.quantity, "serials": list(p.serials)}
            for p in report.parts_used
        ],
        "old_parts_collected": [
            {"part_number": p.part_number, "serial": p.serial, "defective": p.defective}
            for p in report.old_parts_collected
        ],
        "signature_ref": report.signature_ref,
        "photo_refs": list(report.photo_refs),
        "notes": report.notes,
    }


def _report_of(data: Mapping[str, Any] | None) -> CompletionReport | None:
    if data is None:
        return None
    return CompletionReport(
        fault_code=data["fault_code"],
        cause=None if data["cause"] is None else FaultCause(data["cause"]),
        actions=tuple(data["actions"]),
        labour_minutes=int(data["labour_minutes"]),
        first_time_fix=bool(data["first_time_fix"]),
        parts_used=tuple(
            UsedPart(p["part_number"], int(p["quantity"]), tuple(p["serials"])) for p in data["parts_used"]
        ),
        old_parts_collected=tuple(
            CollectedPart(p["part_number"], p["serial"], bool(p["defective"]))
            for p in data["old_parts_collected"]
        ),
        signature_ref=data["signature_ref"],
        photo_refs=tuple(data["photo_refs"]),
        notes=data["notes"],
    )


def _escalations(records: Sequence[EscalationRecord]) -> list[Json]:
    return [
        {
            "kind": e.kind.value,
            "due_at": e.due_at.isoformat(),
            "at": e.at.isoformat(),
            "reason": e.reason,
            "actor": _actor(e.actor),
        }
        for e in records
    ]


def _escalations_of(data: Sequence[Mapping[str, Any]]) -> list[EscalationRecord]:
    return [
        EscalationRecord(
            EscalationKind(e["kind"]),
            _required_time(e["due_at"]),
            _required_time(e["at"]),
            e["reason"],
            _actor_of(e["actor"]),
        )
        for e in data
    ]


def _history(records: Sequence[TransitionRecord]) -> list[Json]:
    return [
        {
            "action": r.action,
            "from": r.from_state.value,
            "to": r.to_state.value,
            "at": r.at.isoformat(),
            "actor": _actor(r.actor),
            "client_update_id": r.client_update_id,
        }
        for r in records
    ]


def _history_of(data: Sequence[Mapping[str, Any]]) -> list[TransitionRecord]:
    return [
        TransitionRecord(
            r["action"],
            WorkOrderState(r["from"]),
            WorkOrderState(r["to"]),
            _required_time(r["at"]),
            _actor_of(r["actor"]),
            r["client_update_id"],
        )
        for r in data
    ]


# --- the aggregate --------------------------------------------------------------------------------


def work_order_json(order: WorkOrder) -> Json:
    """The stored document of ``order`` (everything but configuration and pending events)."""
    return {
        "codec": CODEC_VERSION,
        "id": order.id,
        "type": order.type.value,
        "priority": order.priority.value,
        "state": order.state.value,
        "site": _site(order.site),
        "product_line": order.product_line,
        "opened_at": order.opened_at.isoformat(),
        "deadlines": _deadlines(order.deadlines),
        "ticket_id": order.ticket_id,
        "customer_id": order.customer_id,
        "unit": _unit(order.unit),
        "required_skills": sorted(str(s) for s in order.required_skills),
        "required_certifications": sorted(order.required_certifications),
        "needed_parts": [{"part_number": p.part_number, "quantity": p.quantity} for p in order.needed_parts],
        "estimated_minutes": order.estimated_minutes,
        "availability": [_window(w) for w in order.availability],
        "billing": _billing(order.billing),
        "follow_up_of": order.follow_up_of,
        "planned_until": _time(order.planned_until),
        "maintenance_plan_id": order.maintenance_plan_id,
        "technician_id": order.technician_id,
        "appointment": _appointment(order.appointment),
        "assignment": _assignment(order.assignment),
        "locked": order.locked,
        "dealer_id": order.dealer_id,
        "dealer_centre_id": order.dealer_centre_id,
        "handed_to_dealer_at": _time(order.handed_to_dealer_at),
        "dealer_accepted_at": _time(order.dealer_accepted_at),
        "arranged_at": _time(order.arranged_at),
        "remote_started_at": _time(order.remote_started_at),
        "on_site_requested_at": _time(order.on_site_requested_at),
        "arrived_at": _time(order.arrived_at),
        "finished_at": _time(order.finished_at),
        "report": _report(order.report),
        "incomplete_reason": None if order.incomplete_reason is None else order.incomplete_reason.value,
        "cancel_reason": order.cancel_reason,
        "loaner_requested_at": _time(order.loaner_requested_at),
        "escalations": _escalations(order.escalations),
        "history": _history(order.history),
        "applied_updates": dict(order.applied_updates),
        "version": order.version,
    }


def work_order_of(
    data: Mapping[str, Any],
    *,
    policy: ServiceLevelPolicy = DEFAULT_SERVICE_LEVELS,
    calendar: WorkingCalendar = ALWAYS_OPEN,
) -> WorkOrder:
    """The aggregate stored as ``data``, with the running configuration's ``policy`` and ``calendar``."""
    if data.get("codec") != CODEC_VERSION:
        raise UnknownSnapshotFormat(
            f"work order snapshot format {data.get('codec')!r} is not {CODEC_VERSION}: "
            "written by a newer release?"
        )
    incomplete = data["incomplete_reason"]
    return WorkOrder(
        id=data["id"],
        type=WorkOrderType(data["type"]),
        priority=Priority(data["priority"]),
        site=_site_of(data["site"]),
        product_line=data["product_line"],
        opened_at=_required_time(data["opened_at"]),
        deadlines=_deadlines_of(data["deadlines"]),
        ticket_id=data["ticket_id"],
        customer_id=data["customer_id"],
        unit=_unit_of(data["unit"]),
        required_skills=frozenset(Skill.parse(s) for s in data["required_skills"]),
        required_certifications=frozenset(data["required_certifications"]),
        needed_parts=tuple(PartNeed(p["part_number"], int(p["quantity"])) for p in data["needed_parts"]),
        estimated_minutes=int(data["estimated_minutes"]),
        availability=tuple(_window_of(w) for w in data["availability"]),
        billing=_billing_of(data["billing"]),
        follow_up_of=data["follow_up_of"],
        planned_until=_time_of(data["planned_until"]),
        maintenance_plan_id=data["maintenance_plan_id"],
        policy=policy,
        calendar=calendar,
        state=WorkOrderState(data["state"]),
        technician_id=data["technician_id"],
        appointment=_appointment_of(data["appointment"]),
        assignment=_assignment_of(data["assignment"]),
        locked=bool(data["locked"]),
        dealer_id=data["dealer_id"],
        dealer_centre_id=data["dealer_centre_id"],
        handed_to_dealer_at=_time_of(data["handed_to_dealer_at"]),
        dealer_accepted_at=_time_of(data["dealer_accepted_at"]),
        arranged_at=_time_of(data["arranged_at"]),
        remote_started_at=_time_of(data["remote_started_at"]),
        on_site_requested_at=_time_of(data["on_site_requested_at"]),
        arrived_at=_time_of(data["arrived_at"]),
        finished_at=_time_of(data["finished_at"]),
        report=_report_of(data["report"]),
        incomplete_reason=None if incomplete is None else IncompleteReason(incomplete),
        cancel_reason=data["cancel_reason"],
        loaner_requested_at=_time_of(data["loaner_requested_at"]),
        escalations=_escalations_of(data["escalations"]),
        history=_history_of(data["history"]),
        applied_updates={str(k): str(v) for k, v in data["applied_updates"].items()},
        version=int(data["version"]),
    )
