"""Complaints opened automatically from negative survey answers (agents and the API open them as
tickets of type complaint, see :func:`intake.operations.tickets.open_ticket`)."""

from __future__ import annotations

from intake.domain.common import Actor
from intake.domain.complaints import NegativeSurveyAnswer, SurveyComplaint, complaint_from_survey, survey_ref
from intake.domain.contact_history import ContactKind
from intake.operations.customers import record_contact
from intake.operations.tickets import add_new_ticket, next_number, save_changed
from intake.store import customers as customer_store
from intake.store import sla as sla_store
from intake.store import tickets as store
from intake.store.tickets import StoredTicket
from kit.clock import Clock
from kit.db import UnitOfWork


async def complaint_for_negative_answer(
    uow: UnitOfWork, answer: NegativeSurveyAnswer, *, clock: Clock | None = None
) -> SurveyComplaint:
    """Open the complaint a negative survey answer calls for, linked to the ticket it is about.

    Idempotent: the same response never opens a second complaint; a further negative answer about a
    ticket that already has an open complaint goes on that complaint's timeline instead.
    """
    now = (clock or uow.clock).now()
    handled_id = await store.ticket_id_by_ref(uow, survey_ref(answer.response_id))
    if handled_id is not None:
        handled = await store.load_ticket(uow, handled_id, for_update=False)
        return complaint_from_survey(
            answer, number=handled.ticket.number, at=now, original=None, already_handled_by=handled.ticket
        )
    original = await _original(uow, answer)
    open_one: StoredTicket | None = None
    if original is not None:
        complaint_id = await store.open_complaint_about(uow, original.ticket.id)
        open_one = await store.load_ticket(uow, complaint_id) if complaint_id else None
    settings = await sla_store.load_settings(uow)
    number = open_one.ticket.number if open_one else await next_number(uow, now)
    result = complaint_from_survey(
        answer,
        number=number,
        at=now,
        original=original.ticket if original else None,
        open_complaint_about_original=open_one.ticket if open_one else None,
    )
    if not result.opened:
        assert open_one is not None
        await save_changed(uow, open_one.ticket, open_one.version, settings)
        return result
    complaint = result.ticket
    if complaint.customer_tier is None:
        customer = await customer_store.find_customer(uow, complaint.customer_id)
        complaint.customer_tier = customer.customer.tier if customer else None
    await add_new_ticket(uow, complaint, settings=settings, actor=Actor.system("surveys"), original=original)
    await _note_answer(uow, answer, complaint.customer_id, complaint.id)
    return result


async def _original(uow: UnitOfWork, answer: NegativeSurveyAnswer) -> StoredTicket | None:
    ticket_id = answer.ticket_id
    if ticket_id is None and answer.work_order_id is not None:
        copy = await store.work_order_copy(uow, answer.work_order_id)
        ticket_id = copy["ticket_id"] if copy else None
    if ticket_id is None:
        return None
    return await store.find_ticket(uow, await store.surviving_ticket_id(uow, ticket_id), for_update=True)


async def _note_answer(
    uow: UnitOfWork, answer: NegativeSurveyAnswer, customer_id: str, ticket_id: str
) -> None:
    if await customer_store.find_customer(uow, customer_id) is None:
        return  # a customer intake does not hold (yet): the complaint still stands
    await record_contact(
        uow,
        customer_id,
        ContactKind.FOLLOW_UP_CALL,
        survey_ref(answer.response_id),
        answer.answered_at,
        answer.summary(),
        actor=Actor.system("surveys"),
        ticket_id=ticket_id,
    )
