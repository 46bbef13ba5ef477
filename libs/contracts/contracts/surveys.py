"""Events produced by the surveys service: call-back invitations and customers' answers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from contracts.common import Actor, Code, ContractModel, Id, LongText, ShortText, UtcDateTime
from contracts.envelope import EventPayload
from contracts.registry import event

InvitationKind = Literal["callback", "first_follow_up", "second_follow_up", "annual", "complaint_follow_up"]
SurveyChannel = Literal["phone", "email", "sms", "link"]


class QuestionScore(ContractModel):
    """The answer to one scored question."""

    question_id: Code
    scale: Literal["nps", "csat", "ces", "yes_no"]
    score: int = Field(ge=0, le=10, description="NPS 0-10, CSAT 1-5, CES 1-7, yes/no as 1/0")


class Scores(ContractModel):
    """The headline scores of an answer plus every scored question."""

    nps: int | None = Field(default=None, ge=0, le=10)
    csat: int | None = Field(default=None, ge=1, le=5, description="The overall satisfaction question")
    questions: list[QuestionScore] = Field(default_factory=list, max_length=50)


@event("surveys.invitation.created.v1", subject="invitation_id")
class InvitationCreated(EventPayload):
    """A customer is to be asked about a job: a phone call-back task or a survey link.

    Emitted by surveys when a follow-up plan schedules a contact (after ``dispatch.work_order.completed.v1``
    or ``intake.ticket.resolved.v1``, and for the yearly survey). Intake puts phone call-backs on
    an agent's list; webhooks lets a dealer run its own call-back.
    """

    invitation_id: Id
    plan_id: Id | None = None
    template_id: Id
    kind: InvitationKind
    channel: SurveyChannel
    ticket_id: Id | None = None
    work_order_id: Id | None = None
    customer_id: Id
    technician_id: Id | None = None
    dealer_id: Id | None = None
    attempt: int = Field(default=1, ge=1, le=20)
    due_at: UtcDateTime
    expires_at: UtcDateTime | None = None
    created_at: UtcDateTime


@event("surveys.invitation.expired.v1", subject="invitation_id")
class InvitationExpired(EventPayload):
    """An invitation ran out without an answer.

    Emitted by surveys' scheduler. It counts against the 100% call-back target; the plan may
    schedule another attempt.
    """

    invitation_id: Id
    kind: InvitationKind
    channel: SurveyChannel
    ticket_id: Id | None = None
    work_order_id: Id | None = None
    customer_id: Id
    dealer_id: Id | None = None
    attempts: int = Field(ge=1)
    next_invitation_id: Id | None = None
    expired_at: UtcDateTime


class _Response(EventPayload):
    response_id: Id
    invitation_id: Id | None = Field(default=None, description="None for an unsolicited answer")
    kind: InvitationKind
    channel: SurveyChannel
    ticket_id: Id | None = None
    work_order_id: Id | None = None
    customer_id: Id
    technician_id: Id | None = None
    dealer_id: Id | None = None
    scores: Scores
    comment: LongText | None = None
    recorded_by: Actor = Field(description="The agent on a call-back, or the customer through a link")
    received_at: UtcDateTime


@event("surveys.response.received.v1", subject="response_id")
class ResponseReceived(_Response):
    """A customer answered a survey (through a link or on a call-back recorded by an agent).

    Emitted by surveys for every answer. Reports compute the satisfaction index and call-back
    rate; dispatch credits the technician's ratings.
    """

    negative: bool = Field(description="Also emitted as surveys.response.negative.v1")


@event("surveys.response.negative.v1", subject="response_id")
class ResponseNegative(_Response):
    """A customer's answer was negative enough to become a complaint.

    Emitted by surveys beside ``surveys.response.received.v1`` when a threshold is crossed
    (default: NPS <= 6 or any CSAT <= 2). Intake opens a complaint ticket linked to the original.
    """

    triggers: list[ShortText] = Field(min_length=1, max_length=20, description='e.g. "nps 4 <= 6"')
