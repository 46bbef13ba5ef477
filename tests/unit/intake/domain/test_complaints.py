from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from intake.domain.common import Actor
from intake.domain.complaints import (
    ComplaintOpened,
    ComplaintOrigin,
    NegativeSurveyAnswer,
    complaint_from_survey,
    open_complaint,
    survey_ref,
)
from intake.domain.contact_points import Address, ServiceTier
from intake.domain.sla import ClockKind, ClockOutcome, TicketSla
from intake.domain.sla_policy import default_policy_book
from intake.domain.ticket_values import (
    CancelReason,
    Channel,
    CloseReason,
    LinkKind,
    ProductRef,
    Resolution,
    TicketStatus,
    TicketType,
    format_ticket_number,
)
from intake.domain.tickets import Ticket
from kit.calendar import BusinessCalendar
from kit.domain import Conflict, DomainError

T0 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=10)
NewTicket = Callable[..., Ticket]
ANNA = Actor.user("anna")
SITE = Address("Hauptstraße 5", "Berlin", "DE", postal_code="10115", region_code="BER")


@pytest.fixture
def original(new_ticket: NewTicket) -> Ticket:
    ticket = new_ticket(
        channel=Channel.PHONE,
        actor=ANNA,
        product=ProductRef(model_code="AC-12", serial_number="SN1"),
        site_address=SITE,
        customer_tier=ServiceTier.B,
    )
    ticket.start_work(actor=ANNA, at=T0 + timedelta(hours=1))
    ticket.resolve(actor=ANNA, at=T0 + timedelta(days=2), resolution=Resolution.REPAIRED)
    ticket.close(actor=ANNA, at=T0 + timedelta(days=3), reason=CloseReason.AGENT)
    ticket.pull_events()
    return ticket


def answer(response_id: str = "resp-1", original_id: str | None = None) -> NegativeSurveyAnswer:
    return NegativeSurveyAnswer(
        response_id=response_id,
        invitation_id="inv-1",
        answered_at=LATER,
        scores={"nps": 3, "csat": 2},
        comment="Technician came two hours late",
        ticket_id=original_id,
        customer_id="cust-1",
    )


def test_agent_opens_a_complaint_linked_both_ways_to_the_original(original: Ticket) -> None:
    complaint = open_complaint(
        number=format_ticket_number(2026, 900),
        summary="Unit still noisy",
        at=LATER,
        actor=Actor.user("ben"),
        origin=ComplaintOrigin.AGENT,
        channel=Channel.PHONE,
        original=original,
    )
    assert complaint.type is TicketType.COMPLAINT
    assert complaint.linked(LinkKind.COMPLAINT_ABOUT) == [original.id]
    assert original.linked(LinkKind.HAS_COMPLAINT) == [complaint.id]  # linking works on a closed ticket
    assert (complaint.customer_id, complaint.product, complaint.site_address) == (
        original.customer_id,
        original.product,
        original.site_address,
    )
    assert complaint.owner_id == "ben"
    assert "anna" in complaint.watchers
    opened = [e for e in complaint.events if isinstance(e, ComplaintOpened)]
    assert [(e.origin, e.original_ticket_id) for e in opened] == [(ComplaintOrigin.AGENT, original.id)]


def test_complaint_runs_its_own_sla(original: Ticket) -> None:
    complaint = open_complaint(
        number=format_ticket_number(2026, 901),
        summary="Late technician",
        at=LATER,
        actor=Actor.partner("dealer-7"),
        origin=ComplaintOrigin.API,
        channel=Channel.API,
        original=original,
    )
    sla = TicketSla.start(complaint, default_policy_book(), BusinessCalendar.always_open())
    due = {kind: clock.due_at for kind, clock in sla.clocks.items()}
    assert due[ClockKind.FIRST_RESPONSE] == LATER + timedelta(hours=24)
    assert due[ClockKind.SUPERVISOR_REVIEW] == LATER + timedelta(days=2)
    assert due[ClockKind.RESOLVE] == LATER + timedelta(days=30)
    complaint.reply_to_customer(
        actor=ANNA, at=LATER + timedelta(hours=20), body="We are sorry …", via=Channel.EMAIL
    )
    for event in complaint.pull_events():
        sla.observe(event)
    assert sla.clock_report(ClockKind.FIRST_RESPONSE, LATER + timedelta(days=1)).outcome is ClockOutcome.MET


def test_complaint_belongs_to_the_customer_of_the_original(original: Ticket) -> None:
    with pytest.raises(Conflict):
        open_complaint(
            number=format_ticket_number(2026, 902),
            summary="x",
            at=LATER,
            actor=ANNA,
            origin=ComplaintOrigin.AGENT,
            channel=Channel.PHONE,
            original=original,
            customer_id="cust-9",
        )
    with pytest.raises(DomainError, match="needs a customer"):
        open_complaint(
            number=format_ticket_number(2026, 903),
            summary="x",
            at=LATER,
            actor=ANNA,
            origin=ComplaintOrigin.AGENT,
            channel=Channel.PHONE,
        )


def test_negative_survey_answer_opens_an_unowned_complaint_about_the_original(original: Ticket) -> None:
    result = complaint_from_survey(
        answer(original_id=original.id), number=format_ticket_number(2026, 904), at=LATER, original=original
    )
    complaint = result.ticket
    assert result.opened
    assert (complaint.type, complaint.channel, complaint.status, complaint.owner_id) == (
        TicketType.COMPLAINT,
        Channel.SURVEY,
        TicketStatus.NEW,
        None,
    )
    assert complaint.subject == "Negative survey answer (csat 2, nps 3): Technician came two hours late"
    assert survey_ref("resp-1") in complaint.external_refs
    assert complaint.linked(LinkKind.COMPLAINT_ABOUT) == [original.id]
    opened = next(e for e in complaint.events if isinstance(e, ComplaintOpened))
    assert (opened.origin, opened.survey_response_id, opened.actor.ref) == (
        ComplaintOrigin.SURVEY,
        "resp-1",
        "system:surveys",
    )


def test_the_same_survey_response_never_opens_a_second_complaint(original: Ticket) -> None:
    first = complaint_from_survey(
        answer(), number=format_ticket_number(2026, 905), at=LATER, original=original
    )
    first.ticket.pull_events()
    version = first.ticket.version
    again = complaint_from_survey(
        answer(),
        number=format_ticket_number(2026, 906),
        at=LATER,
        original=original,
        already_handled_by=first.ticket,
    )
    assert not again.opened
    assert again.ticket is first.ticket
    assert again.ticket.version == version
    assert again.ticket.events == []


def test_another_negative_answer_about_the_same_request_joins_the_open_complaint(original: Ticket) -> None:
    first = complaint_from_survey(
        answer("resp-1"), number=format_ticket_number(2026, 907), at=LATER, original=original
    )
    second = complaint_from_survey(
        answer("resp-2"),
        number=format_ticket_number(2026, 908),
        at=LATER,
        original=original,
        open_complaint_about_original=first.ticket,
    )
    assert not second.opened
    assert second.ticket is first.ticket
    assert {survey_ref("resp-1"), survey_ref("resp-2")} <= first.ticket.external_refs
    assert [e.kind for e in first.ticket.timeline].count("survey_answer") == 1


def test_negative_answer_after_the_complaint_was_closed_opens_a_new_one(original: Ticket) -> None:
    first = complaint_from_survey(
        answer("resp-1"), number=format_ticket_number(2026, 909), at=LATER, original=original
    ).ticket
    first.cancel(actor=Actor.user("sue", "supervisor"), at=LATER, reason=CancelReason.RAISED_IN_ERROR)
    second = complaint_from_survey(
        answer("resp-2"),
        number=format_ticket_number(2026, 910),
        at=LATER,
        original=original,
        open_complaint_about_original=first,
    )
    assert second.opened
    assert second.ticket is not first
    assert original.linked(LinkKind.HAS_COMPLAINT) == [first.id, second.ticket.id]


def test_survey_answer_without_an_original_ticket_uses_the_customer_it_names() -> None:
    result = complaint_from_survey(answer(), number=format_ticket_number(2026, 911), at=LATER, original=None)
    assert result.ticket.customer_id == "cust-1"
    assert result.ticket.links == []


def test_replay_check_refuses_a_ticket_that_did_not_handle_the_response(original: Ticket) -> None:
    unrelated = complaint_from_survey(
        answer("resp-1"), number=format_ticket_number(2026, 912), at=LATER, original=original
    ).ticket
    with pytest.raises(ValueError, match="did not handle"):
        complaint_from_survey(
            answer("resp-3"),
            number=format_ticket_number(2026, 913),
            at=LATER,
            original=original,
            already_handled_by=unrelated,
        )
