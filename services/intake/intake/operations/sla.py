"""SLA use cases: the timer that warns and breaches, the policy settings, the compliance report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from intake import events
from intake.domain.common import Actor
from intake.domain.sla import EscalatedToSupervisor, SlaAtRisk, SlaBreached, TicketSla
from intake.domain.sla_policy import SlaPolicyBook
from intake.domain.sla_report import ComplianceRow, ReportDimension, compliance_report
from intake.store import sla as store
from intake.store import tickets as ticket_store
from intake.store.sla import SlaSettings
from kit.calendar import BusinessCalendar
from kit.concurrency import check_if_match
from kit.db import UnitOfWork
from kit.scheduler import Timer

SLA_ACTOR = Actor.system("sla")


async def fire_sla_timer(uow: UnitOfWork, timer: Timer) -> None:
    """A ticket's SLA timer is due: each clock that really is at risk or overdue now warns or breaches
    (a stale timer does nothing), breaches escalate to the supervisor, and the next timer is set."""
    ticket_id = str(timer.payload.get("ticket_id") or timer.key)
    stored = await ticket_store.find_ticket(uow, ticket_id, for_update=True)
    if stored is None:
        return
    settings = await store.load_settings(uow)
    sla = await store.load_clocks(uow, ticket_id, settings)
    if sla is None:
        return
    now = uow.now()
    for due in sla.timers():
        if due.due_at <= now:
            sla.on_timer(due, now)
    raised = sla.pull_events()
    ticket = stored.ticket
    for event in raised:
        if isinstance(event, SlaAtRisk):
            ticket.record_activity(
                kind="sla_at_risk",
                detail=f"{event.kind.value} due {event.due_at.isoformat()}",
                at=now,
                actor=SLA_ACTOR,
                reference=f"sla:{event.kind.value}:at_risk:{event.due_at.isoformat()}",
            )
        elif isinstance(event, SlaBreached):
            ticket.record_activity(
                kind="sla_breached",
                detail=f"{event.kind.value} was due {event.due_at.isoformat()}",
                at=now,
                actor=SLA_ACTOR,
                reference=f"sla:{event.kind.value}:breached:{event.due_at.isoformat()}",
            )
        elif isinstance(event, EscalatedToSupervisor):
            ticket.record_activity(
                kind="escalated",
                detail=f"to {event.to}: {event.reason}",
                at=now,
                actor=SLA_ACTOR,
                reference=f"sla:{event.kind.value}:escalated:{event.at.isoformat()}",
            )
    await store.save_clocks(uow, sla)
    version = stored.version
    if raised:
        version = await ticket_store.save_ticket(uow, ticket, stored_version=stored.version)
    events.stage_ticket_events(uow, ticket, raised, version=version, sla=sla)


async def clocks_of(uow: UnitOfWork, ticket_id: str) -> TicketSla | None:
    return await store.load_clocks(uow, ticket_id, await store.load_settings(uow))


async def settings(uow: UnitOfWork) -> SlaSettings:
    return await store.load_settings(uow)


async def change_settings(
    uow: UnitOfWork,
    *,
    book: SlaPolicyBook,
    calendar: BusinessCalendar,
    actor: Actor,
    if_match: str | None = None,
) -> SlaSettings:
    """Replace the policy book and calendar (for tickets opened from now on; open clocks keep theirs)."""
    current = await store.load_settings(uow)
    check_if_match(if_match, current.version)
    version = await store.save_settings(
        uow, book=book, calendar=calendar, stored_version=current.version, by=actor.ref
    )
    uow.audit(actor=actor.ref, action="sla.settings.changed", entity_type="sla_settings", entity_id="1")
    return SlaSettings(book, calendar, version, uow.now(), actor.ref)


async def compliance(
    uow: UnitOfWork,
    *,
    period_start: datetime,
    period_end: datetime,
    group_by: Sequence[ReportDimension],
) -> list[ComplianceRow]:
    """Met-on-time share per group and target for the clocks started in the period (as of now)."""
    facts = await store.clock_facts(uow, started_from=period_start, started_until=period_end, at=uow.now())
    return compliance_report(facts, period_start=period_start, period_end=period_end, group_by=group_by)


__all__ = [
    "change_settings",
    "clocks_of",
    "compliance",
    "fire_sla_timer",
    "settings",
]
