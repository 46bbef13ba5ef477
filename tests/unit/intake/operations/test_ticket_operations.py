"""Opening, finding and threading tickets through the use cases the channels build on."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from intake.domain.common import Actor
from intake.domain.contact_history import ContactKind
from intake.domain.ticket_values import (
    AckMethod,
    Channel,
    CloseReason,
    LinkKind,
    Priority,
    ProductRef,
    Resolution,
    TicketStatus,
    TicketType,
)
from intake.domain.tickets import Ticket
from intake.operations import customers, tickets
from intake.operations.tickets import OpenTicket, call_ref, message_ref
from intake.store import customers as customer_store
from kit import scheduler
from kit.clock import ManualClock
from kit.db import Database
from kit.domain import IllegalTransition


async def _event_types(db: Database) -> list[str]:
    async with db.transaction() as uow:
        rows = (await uow.conn.execute(uow.tables.outbox.select().order_by(uow.tables.outbox.c.seq))).all()
    return [row.event_type for row in rows]


async def _events(db: Database, event_type: str) -> list[dict[str, object]]:
    async with db.transaction() as uow:
        outbox = uow.tables.outbox
        rows = (await uow.conn.execute(outbox.select().where(outbox.c.event_type == event_type))).all()
    return [json.loads(row.body)["data"] for row in rows]


async def test_an_email_from_an_unknown_sender_opens_a_ticket_for_a_new_customer(
    db: Database, clock: ManualClock
) -> None:
    async with db.transaction() as uow:
        ticket = await tickets.open_ticket(
            uow,
            actor=Actor.system("email"),
            command=OpenTicket(
                channel=Channel.EMAIL,
                contact_name="Hans Müller",
                contact_email="Hans.Mueller@Example.DE",
                subject="Boiler leaks",
                fault_description="water under the boiler",
                product=ProductRef(model_code="WH-80", serial_number="SN-1"),
                source_reference=message_ref("<abc@mail.example>"),
            ),
        )
    assert ticket.number.startswith("T-2026-")
    assert ticket.owner_id is None and ticket.status is TicketStatus.NEW
    assert await _event_types(db) == ["intake.customer.created.v1", "intake.ticket.created.v1"]
    [created] = await _events(db, "intake.ticket.created.v1")
    targets = {t["name"]: t["due_at"] for t in created["sla_targets"]}  # type: ignore[union-attr, index]
    assert set(targets) == {"acknowledge", "first_response", "resolve"}
    async with db.transaction() as uow:
        match = await tickets.match_customer(uow, email="hans.mueller@example.de")
        assert match is not None and match.id == ticket.customer_id
        found = await tickets.find_ticket_by_external_ref(uow, message_ref("abc@mail.example"))
        assert found is not None and found.id == ticket.id
        assert (await tickets.find_ticket_by_number(uow, ticket.number)) is not None
        history = await customer_store.list_contacts(uow, ticket.customer_id)
        assert [h.entry.kind for h in history] == [ContactKind.TICKET]
        [timer] = await scheduler.pending(uow, key=ticket.id)
    assert timer.due_at == clock.now() + timedelta(minutes=8)  # the acknowledge target's warning


async def test_a_caller_is_matched_by_phone_whatever_the_format(db: Database) -> None:
    async with db.transaction() as uow:
        first = await tickets.open_ticket(
            uow,
            actor=Actor.user("anna", "agent"),
            command=OpenTicket(channel=Channel.PHONE, contact_name="Eva", contact_phone="030 1234567"),
        )
    async with db.transaction() as uow:
        card = await tickets.caller_card(uow, "+49 30 1234567")
        second = await tickets.open_ticket(
            uow,
            actor=Actor.user("anna", "agent"),
            command=OpenTicket(
                channel=Channel.PHONE, contact_phone="+49301234567", source_reference=call_ref("c-9")
            ),
        )
    assert card.customer is not None and card.customer.id == first.customer_id
    assert [t.number for t in card.open_tickets] == [first.number]
    assert second.customer_id == first.customer_id
    assert second.status is TicketStatus.ACKNOWLEDGED  # the agent on the phone acknowledged it


async def test_numbers_are_unique_and_increasing(db: Database) -> None:
    numbers = []
    for _ in range(3):
        async with db.transaction() as uow:
            ticket = await tickets.open_ticket(
                uow, actor=Actor.system(), command=OpenTicket(channel=Channel.API, contact_name="X")
            )
            numbers.append(ticket.number)
    assert numbers == sorted(set(numbers))


async def test_a_reply_threads_into_its_ticket_once_and_resumes_a_waiting_ticket(
    db: Database, clock: ManualClock, agent: Actor
) -> None:
    async with db.transaction() as uow:
        ticket = await tickets.open_ticket(
            uow, actor=agent, command=OpenTicket(channel=Channel.EMAIL, contact_email="a@b.example")
        )
    async with db.transaction() as uow:
        now = clock.now()

        def wait(t: Ticket) -> None:
            t.acknowledge(actor=agent, at=now, method=AckMethod.AGENT_REPLY)
            t.start_work(actor=agent, at=now)
            t.wait_for_customer(actor=agent, at=now, reason="which model?")

        await tickets.change_ticket(uow, ticket.id, wait)
    clock.advance(timedelta(hours=1))
    for _ in range(2):
        async with db.transaction() as uow:
            result = await tickets.record_customer_message(
                uow,
                ticket_id=ticket.id,
                via=Channel.EMAIL,
                body="It is a WH-80",
                reference=message_ref("r1@x"),
            )
    assert result.recorded is False  # the second delivery of the same mail
    assert result.ticket.status is TicketStatus.IN_PROGRESS
    async with db.transaction() as uow:
        history = await customer_store.list_contacts(uow, ticket.customer_id)
        assert [h.entry.kind for h in history] == [ContactKind.EMAIL, ContactKind.TICKET]
        assert (await tickets.find_ticket_by_external_ref(uow, message_ref("r1@x"))) is not None


async def test_a_message_for_a_closed_ticket_is_refused(
    db: Database, clock: ManualClock, agent: Actor
) -> None:
    async with db.transaction() as uow:
        ticket = await tickets.open_ticket(
            uow,
            actor=agent,
            command=OpenTicket(channel=Channel.PHONE, contact_name="Y", priority=Priority.HIGH),
        )
    async with db.transaction() as uow:
        now = clock.now()

        def finish(t: Ticket) -> None:
            t.start_work(actor=agent, at=now)
            t.resolve(actor=agent, at=now, resolution=Resolution.ANSWERED)
            t.close(actor=agent, at=now, reason=CloseReason.AGENT)

        await tickets.change_ticket(uow, ticket.id, finish)
    with pytest.raises(IllegalTransition):
        async with db.transaction() as uow:
            await tickets.record_customer_message(uow, ticket_id=ticket.id, via=Channel.FAX, body="hello")


async def test_record_contact_is_idempotent_per_source_record(db: Database, clock: ManualClock) -> None:
    async with db.transaction() as uow:
        ticket = await tickets.open_ticket(
            uow, actor=Actor.system(), command=OpenTicket(channel=Channel.FAX, contact_phone="+49301234567")
        )
    async with db.transaction() as uow:
        assert await customers.record_contact(
            uow, ticket.customer_id, ContactKind.FAX, "fax:1", clock.now(), "2 pages"
        )
        assert not await customers.record_contact(
            uow, ticket.customer_id, ContactKind.FAX, "fax:1", clock.now(), "2 pages"
        )


async def test_a_complaint_about_a_ticket_is_linked_both_ways(db: Database, agent: Actor) -> None:
    async with db.transaction() as uow:
        original = await tickets.open_ticket(
            uow, actor=agent, command=OpenTicket(channel=Channel.PHONE, contact_name="Z")
        )
    async with db.transaction() as uow:
        complaint = await tickets.open_ticket(
            uow,
            actor=agent,
            command=OpenTicket(
                channel=Channel.PHONE,
                type=TicketType.COMPLAINT,
                related_ticket_id=original.id,
                subject="Technician was late",
            ),
        )
    assert complaint.customer_id == original.customer_id
    [opened] = await _events(db, "intake.complaint.opened.v1")
    assert opened["original_ticket_id"] == original.id
    async with db.transaction() as uow:
        reloaded = await tickets.find_ticket_by_number(uow, original.number)
    assert reloaded is not None
    assert complaint.id in reloaded.linked(LinkKind.HAS_COMPLAINT)
