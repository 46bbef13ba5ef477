"""Complaints: tickets of type complaint, linked to the request they are about, with their own SLA.

A complaint is opened by an agent, through the API, or automatically when a survey answer is
negative. Its targets (answered within 24 hours, supervisor after 2 days unresolved, resolved within
a month) come from the complaint rule of the SLA policy book. The survey path is idempotent: the same
survey response never opens a second complaint, and a further negative answer about a ticket that
already has an open complaint is added to that complaint instead of opening another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from intake.domain.common import Actor, DomainEvent, utc
from intake.domain.contact_points import ServiceTier
from intake.domain.ticket_values import Channel, LinkKind, Priority, TicketType
from intake.domain.tickets import Ticket
from kit.domain import Conflict, DomainError

MAX_SUMMARY = 500


class ComplaintOrigin(StrEnum):
    AGENT = "agent"
    API = "api"
    SURVEY = "survey"
    EMAIL = "email"
    PHONE = "phone"
    PARTNER = "partner"


class ComplaintCategory(StrEnum):
    SERVICE_QUALITY = "service_quality"
    TECHNICIAN_CONDUCT = "technician_conduct"
    LATENESS = "lateness"
    REPEAT_FAILURE = "repeat_failure"
    PRODUCT_QUALITY = "product_quality"
    BILLING = "billing"
    OTHER = "other"


@dataclass(frozen=True, kw_only=True)
class ComplaintOpened(DomainEvent):
    ticket_id: str
    original_ticket_id: str | None
    survey_response_id: str | None
    work_order_id: str | None
    origin: ComplaintOrigin
    category: ComplaintCategory
    summary: str
    actor: Actor


def open_complaint(
    *,
    number: str,
    summary: str,
    at: datetime,
    actor: Actor,
    origin: ComplaintOrigin,
    channel: Channel,
    original: Ticket | None = None,
    customer_id: str | None = None,
    category: ComplaintCategory = ComplaintCategory.OTHER,
    detail: str | None = None,
    priority: Priority = Priority.NORMAL,
    customer_tier: ServiceTier | None = None,
    work_order_id: str | None = None,
    survey_response_id: str | None = None,
    ticket_id: str | None = None,
) -> Ticket:
    """A complaint ticket, linked both ways to ``original`` when it is about an earlier request.

    The complaint is the original's customer's; it copies the unit and site so nobody has to ask
    again, and whoever owned the original watches it.
    """
    if original is not None and customer_id is not None and customer_id != original.customer_id:
        raise Conflict(
            "a complaint belongs to the customer of the ticket it is about", code="complaint-customer"
        )
    customer = customer_id or (original.customer_id if original else None)
    if customer is None:
        raise DomainError("a complaint needs a customer or the ticket it is about", code="complaint-customer")
    at = utc(at, "at")
    complaint = Ticket.open(
        number=number,
        channel=channel,
        type=TicketType.COMPLAINT,
        customer_id=customer,
        at=at,
        actor=actor,
        priority=priority,
        customer_tier=customer_tier or (original.customer_tier if original else None),
        product=original.product if original else None,
        subject=summary[:MAX_SUMMARY],
        fault_description=detail,
        site_address=original.site_address if original else None,
        dealer_id=original.dealer_id if original else None,
        source_reference=survey_ref(survey_response_id) if survey_response_id else None,
        ticket_id=ticket_id,
    )
    if survey_response_id is not None:
        complaint.add_external_ref(survey_ref(survey_response_id))
    if original is not None:
        complaint.link(original.id, LinkKind.COMPLAINT_ABOUT, actor=actor, at=at)
        original.link(complaint.id, LinkKind.HAS_COMPLAINT, actor=actor, at=at)
        if original.owner_id is not None and original.owner_id != complaint.owner_id:
            complaint.watch(original.owner_id, actor=actor, at=at)
    complaint._record(
        ComplaintOpened(
            at=at,
            ticket_id=complaint.id,
            original_ticket_id=original.id if original else None,
            survey_response_id=survey_response_id,
            work_order_id=work_order_id,
            origin=origin,
            category=category,
            summary=complaint.subject or summary,
            actor=actor,
        )
    )
    return complaint


# --- from a negative survey answer ---------------------------------------------------------------


@dataclass(frozen=True)
class NegativeSurveyAnswer:
    """What ``surveys.response.negative.v1`` tells intake."""

    response_id: str
    invitation_id: str
    answered_at: datetime
    scores: Mapping[str, int] = field(default_factory=dict)
    comment: str | None = None
    ticket_id: str | None = None
    work_order_id: str | None = None
    customer_id: str | None = None
    technician_id: str | None = None

    def summary(self) -> str:
        scores = ", ".join(f"{name} {value}" for name, value in sorted(self.scores.items()))
        text = f"Negative survey answer ({scores})" if scores else "Negative survey answer"
        return f"{text}: {self.comment.strip()}" if self.comment and self.comment.strip() else text


def survey_ref(response_id: str) -> str:
    """The key a survey response leaves on the complaint it caused, so a replay finds it."""
    return f"survey-response:{response_id}"


@dataclass(frozen=True)
class SurveyComplaint:
    """The complaint that handles a survey answer; ``opened`` is False when it already existed."""

    ticket: Ticket
    opened: bool


def complaint_from_survey(
    answer: NegativeSurveyAnswer,
    *,
    number: str,
    at: datetime,
    original: Ticket | None,
    already_handled_by: Ticket | None = None,
    open_complaint_about_original: Ticket | None = None,
    priority: Priority = Priority.NORMAL,
    ticket_id: str | None = None,
) -> SurveyComplaint:
    """Open (or find) the complaint for a negative survey answer.

    The store passes ``already_handled_by``, the ticket carrying this response's :func:`survey_ref`
    if any (a replayed event: nothing changes), and ``open_complaint_about_original``, an open
    complaint linked to the same original (the answer is added to it). Otherwise a new complaint is
    opened by the system, linked to the original ticket, unowned until an agent takes it.
    """
    ref = survey_ref(answer.response_id)
    if already_handled_by is not None:
        if ref not in already_handled_by.external_refs:
            raise ValueError(
                f"ticket {already_handled_by.number} did not handle survey response {answer.response_id}"
            )
        return SurveyComplaint(already_handled_by, opened=False)
    system = Actor.system("surveys")
    if open_complaint_about_original is not None and open_complaint_about_original.is_open:
        complaint = open_complaint_about_original
        if original is not None and original.id not in complaint.linked(LinkKind.COMPLAINT_ABOUT):
            raise Conflict("that complaint is about another ticket", code="complaint-original")
        complaint.add_external_ref(ref)
        complaint.record_activity(
            kind="survey_answer", detail=answer.summary(), at=at, actor=system, reference=ref
        )
        return SurveyComplaint(complaint, opened=False)
    complaint = open_complaint(
        number=number,
        summary=answer.summary(),
        at=at,
        actor=system,
        origin=ComplaintOrigin.SURVEY,
        channel=Channel.SURVEY,
        original=original,
        customer_id=None if original else answer.customer_id,
        category=ComplaintCategory.SERVICE_QUALITY,
        detail=answer.comment,
        priority=priority,
        work_order_id=answer.work_order_id,
        survey_response_id=answer.response_id,
        ticket_id=ticket_id,
    )
    return SurveyComplaint(complaint, opened=True)
