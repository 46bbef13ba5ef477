"""SLA timers, facts from other services and survey complaints, on the embedded (SQLite) storage."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from intake.app import timers
from intake.domain.common import Actor
from intake.domain.complaints import NegativeSurveyAnswer
from intake.domain.contact_points import ServiceTier
from intake.domain.sla_policy import (
    ClockKind,
    SlaPolicyBook,
    SlaRule,
    SlaTarget,
    TimeBasis,
    default_policy_book,
)
from intake.domain.ticket_values import AckMethod, Channel, TicketStatus, TicketType
from intake.domain.tickets import Ticket
from intake.events import ticket_events
from intake.operations import activity, complaints, tickets
from intake.operations.activity import WorkOrderFact, WorkStep
from intake.operations.tickets import OpenTicket
from intake.store import customers as customer_store
from intake.store import sla as sla_store
from intake.store import tickets as ticket_store
from kit.calendar import BusinessCalendar
from kit.clock import ManualClock
from kit.db import Database
from kit.scheduler import Scheduler


async def _outbox(db: Database, event_type: str) -> list[dict[str, object]]:
    async with db.transaction() as uow:
        outbox = uow.tables.outbox
        rows = (await uow.conn.execute(outbox.select().where(outbox.c.event_type == event_type))).all()
    return [json.loads(row.body)["data"] for row in rows]


async def _open(db: Database, **fields: object) -> Ticket:
    async with db.transaction() as uow:
        return await tickets.open_ticket(
            uow,
            actor=Actor.system("email"),
            command=OpenTicket(channel=Channel.EMAIL, contact_email="someone@example.com", **fields),  # type: ignore[arg-type]
        )


async def test_a_timer_warns_then_breaches_once_and_escalates(db: Database, clock: ManualClock) -> None:
    ticket = await _open(db)
    scheduler = Scheduler(db, timers, service="intake")
    clock.advance(timedelta(minutes=8, seconds=30))
    await scheduler.run_due()
    warnings = await _outbox(db, "intake.ticket.sla_warning.v1")
    assert sorted(w["target"] for w in warnings) == ["acknowledge", "first_response"]
    clock.advance(timedelta(hours=1))
    await scheduler.run_due()
    await scheduler.run_due()
    breaches = await _outbox(db, "intake.ticket.sla_breached.v1")
    assert sorted(b["target"] for b in breaches) == ["acknowledge", "first_response"]
    assert {b["escalated_to"] for b in breaches} == {"supervisor"}
    async with db.transaction() as uow:
        stored = await ticket_store.load_ticket(uow, ticket.id)
        found = await ticket_store.list_tickets(uow, ticket_store.TicketFilter(breached=True))
    kinds = [entry.kind for entry in stored.ticket.timeline]
    assert kinds.count("sla_breached") == 2 and kinds.count("escalated") == 2
    assert [s.ticket.id for s in found] == [ticket.id]


async def test_working_time_targets_wait_for_the_desk_to_open(db: Database, clock: ManualClock) -> None:
    office = BusinessCalendar("Europe/Berlin", {day: (time(8), time(18)) for day in range(5)})
    async with db.transaction() as uow:
        await sla_store.save_settings(
            uow, book=default_policy_book(), calendar=office, stored_version=0, by="test"
        )
    clock.set(clock.now().replace(hour=17, minute=55))  # 18:55 in Berlin: the desk is closed
    ticket = await _open(db)
    async with db.transaction() as uow:
        settings = await sla_store.load_settings(uow)
        sla = await sla_store.load_clocks(uow, ticket.id, settings)
    assert sla is not None
    due = sla.clocks[ClockKind.ACKNOWLEDGE].due_at
    assert due.isoformat() == "2026-03-10T07:10:00+00:00"  # 08:10 Berlin the next morning


def test_policy_and_calendar_survive_storage() -> None:
    book = SlaPolicyBook(
        (
            SlaRule("all", {ClockKind.RESOLVE: SlaTarget(timedelta(hours=48))}),
            SlaRule(
                "premium fax",
                {ClockKind.ACKNOWLEDGE: SlaTarget(timedelta(minutes=2), TimeBasis.WORKING, False)},
                channel=Channel.FAX,
                tier=ServiceTier.A,
            ),
        )
    )
    calendar = BusinessCalendar("Europe/Berlin", {0: (time(8), time(18))}, frozenset({date(2026, 12, 25)}))
    assert tuple(sla_store.rule_of(sla_store.rule_json(r)) for r in book.rules) == book.rules
    assert sla_store.calendar_of(sla_store.calendar_json(calendar)) == calendar


async def test_late_and_repeated_work_order_facts_leave_the_ticket_resolved(
    db: Database, agent: Actor
) -> None:
    async with db.transaction() as uow:
        ticket = await tickets.open_ticket(
            uow, actor=agent, command=OpenTicket(channel=Channel.PHONE, contact_name="W")
        )
    at = ticket.opened_at
    completed = WorkOrderFact("wo-1", ticket.id, WorkStep.COMPLETED, 5, at + timedelta(hours=3), "done")
    assigned = WorkOrderFact(
        "wo-1",
        ticket.id,
        WorkStep.ASSIGNED,
        2,
        at + timedelta(hours=1),
        "assigned",
        technician_name="Camille",
    )
    for fact in (completed, completed, assigned):
        async with db.transaction() as uow:
            await activity.work_order_changed(uow, fact)
    async with db.transaction() as uow:
        stored = await ticket_store.load_ticket(uow, ticket.id)
        [copy] = await ticket_store.work_orders_of(uow, ticket.id)
    assert stored.ticket.status is TicketStatus.RESOLVED
    assert [e.kind for e in stored.ticket.timeline].count("work_order_completed") == 1
    assert (copy["state"], copy["technician_name"], copy["version"]) == ("completed", "Camille", 5)
    assert len(await _outbox(db, "intake.ticket.resolved.v1")) == 1


async def test_a_negative_answer_opens_one_complaint_and_joins_an_open_one(
    db: Database, agent: Actor
) -> None:
    async with db.transaction() as uow:
        original = await tickets.open_ticket(
            uow, actor=agent, command=OpenTicket(channel=Channel.PHONE, contact_phone="+49301234567")
        )

    def answer(response_id: str) -> NegativeSurveyAnswer:
        return NegativeSurveyAnswer(
            response_id=response_id,
            invitation_id="inv",
            answered_at=original.opened_at,
            scores={"nps": 3},
            comment="too slow",
            ticket_id=original.id,
            customer_id=original.customer_id,
        )

    outcomes = []
    for response_id in ("r1", "r1", "r2"):
        async with db.transaction() as uow:
            outcomes.append(await complaints.complaint_for_negative_answer(uow, answer(response_id)))
    assert [o.opened for o in outcomes] == [True, False, False]
    assert len({o.ticket.id for o in outcomes}) == 1
    assert len(await _outbox(db, "intake.complaint.opened.v1")) == 1
    async with db.transaction() as uow:
        history = await customer_store.list_contacts(uow, original.customer_id)
    assert "follow_up_call" in {h.entry.kind.value for h in history}


def test_one_action_publishes_one_update_naming_every_changed_field(agent: Actor) -> None:
    ticket = Ticket.open(
        number="T-2026-000001",
        channel=Channel.EMAIL,
        type=TicketType.REPAIR,
        customer_id="c",
        at=datetime(2026, 3, 9, 9, tzinfo=UTC),
        actor=Actor.system(),
    )
    ticket.pull_events()
    ticket.acknowledge(actor=agent, at=ticket.opened_at, method=AckMethod.AGENT_REPLY)
    payloads = ticket_events(ticket, ticket.pull_events(), version=2, sla=None, at=ticket.opened_at)
    assert [p.event_type for p in payloads] == ["intake.ticket.acknowledged.v1", "intake.ticket.updated.v1"]
    assert payloads[1].changed_fields == ["owner_id", "status"]  # type: ignore[attr-defined]


def test_names_are_searched_with_and_without_umlauts() -> None:
    assert customer_store.search_key("Dr. Hans Müller") == "hans mueller muller"


async def test_an_agreed_appointment_meets_the_technician_contact_target(db: Database, agent: Actor) -> None:
    async with db.transaction() as uow:
        ticket = await tickets.open_ticket(
            uow,
            actor=agent,
            command=OpenTicket(channel=Channel.PHONE, contact_name="T", needs_on_site=True),
        )
    confirmed = WorkOrderFact(
        "wo-2",
        ticket.id,
        WorkStep.APPOINTMENT_CONFIRMED,
        0,
        ticket.opened_at + timedelta(minutes=3),
        "agreed",
    )
    async with db.transaction() as uow:
        await activity.work_order_changed(uow, confirmed)
        settings = await sla_store.load_settings(uow)
        sla = await sla_store.load_clocks(uow, ticket.id, settings)
    assert sla is not None
    report = sla.clock_report(ClockKind.TECHNICIAN_CONTACT, ticket.opened_at + timedelta(hours=1))
    assert report.outcome.value == "met" and report.stopped_at == confirmed.at
