"""The warranty claim aggregate and its state machine.

draft -> submitted -> under_review -> approved / partially_approved / rejected /
returned_for_information -> (resubmitted) -> submitted ...; approved and partially approved claims
are settled through a dealer's settlement statement. Every transition is checked against
:data:`CLAIM_STATES` (an illegal one raises ``IllegalTransition`` with the allowed actions) and
recorded with its time and actor.

A claim the appraisal leaves to a person must be decided within the review period (default
:data:`REVIEW_WITHIN`, counted from when it joined the reviewer queue); one still waiting after
its deadline is escalated once per stay in the queue, which flags it to reviewers and supervisors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from kit.domain import DomainError, IllegalTransition, Money, StateMachine
from warranty.domain.claims.events import (
    ClaimApproved,
    ClaimEvent,
    ClaimRejected,
    ClaimReturnedForInformation,
    ClaimSettled,
    ClaimSubmitted,
)
from warranty.domain.claims.findings import Appraisal, AppraisalOutcome
from warranty.domain.claims.records import ClaimLine, LineKind, RepairRecord, ReplacedPart
from warranty.domain.dates import require_utc


class ClaimState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    REJECTED = "rejected"
    RETURNED_FOR_INFORMATION = "returned_for_information"
    SETTLED = "settled"


_S = ClaimState
CLAIM_STATES: StateMachine[ClaimState] = StateMachine(
    "claim",
    {
        "submit": (frozenset({_S.DRAFT}), _S.SUBMITTED),
        "resubmit": (frozenset({_S.RETURNED_FOR_INFORMATION}), _S.SUBMITTED),
        "start_review": (frozenset({_S.SUBMITTED}), _S.UNDER_REVIEW),
        "approve": (frozenset({_S.UNDER_REVIEW}), _S.APPROVED),
        "partially_approve": (frozenset({_S.UNDER_REVIEW}), _S.PARTIALLY_APPROVED),
        "reject": (frozenset({_S.UNDER_REVIEW}), _S.REJECTED),
        "return_for_information": (frozenset({_S.UNDER_REVIEW}), _S.RETURNED_FOR_INFORMATION),
        "settle": (frozenset({_S.APPROVED, _S.PARTIALLY_APPROVED}), _S.SETTLED),
    },
)

#: states in which the dealer may still change what is claimed
EDITABLE_STATES = frozenset({ClaimState.DRAFT, ClaimState.RETURNED_FOR_INFORMATION})
#: states whose approved amount is owed to the dealer (until settled) or was paid
PAYABLE_STATES = frozenset({ClaimState.APPROVED, ClaimState.PARTIALLY_APPROVED, ClaimState.SETTLED})
#: how long a reviewer has to decide a claim from the moment it joins the queue
REVIEW_WITHIN = timedelta(days=5)


@dataclass(frozen=True)
class ClaimTransition:
    action: str
    from_state: ClaimState | None
    to_state: ClaimState
    at: datetime
    actor: str
    note: str = ""


@dataclass(eq=False)
class Claim:
    """A dealer's or service point's claim for one warranty repair. Create it with :meth:`open`."""

    claim_id: str
    dealer_id: str
    serial: str
    record: RepairRecord
    parts: tuple[ReplacedPart, ...]
    currency: str
    model_code: str | None = None
    customer_signature_ref: str | None = None
    photo_refs: tuple[str, ...] = ()
    state: ClaimState = ClaimState.DRAFT
    history: list[ClaimTransition] = field(default_factory=list)
    appraisals: list[Appraisal] = field(default_factory=list)
    #: line id -> reason, for lines not approved
    removed_lines: dict[str, str] = field(default_factory=dict)
    approved_amount: Money | None = None
    decided_at: datetime | None = None
    statement_id: str | None = None
    #: when a reviewer must have decided, set as the claim joins the reviewer queue
    review_due_at: datetime | None = None
    #: when the claim was escalated for waiting past ``review_due_at`` (this stay in the queue)
    escalated_at: datetime | None = None
    events: list[ClaimEvent] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        *,
        claim_id: str,
        dealer_id: str,
        serial: str,
        record: RepairRecord,
        parts: Sequence[ReplacedPart] = (),
        at: datetime,
        actor: str,
        model_code: str | None = None,
        customer_signature_ref: str | None = None,
        photo_refs: Sequence[str] = (),
    ) -> Claim:
        """A new draft claim; every amount must be in the labour amount's currency."""
        at = require_utc(at)
        currency = record.labour_amount.currency
        claim = cls(
            claim_id=claim_id,
            dealer_id=dealer_id,
            serial=serial,
            record=record,
            parts=tuple(parts),
            currency=currency,
            model_code=model_code,
            customer_signature_ref=customer_signature_ref,
            photo_refs=tuple(photo_refs),
        )
        claim._check_currency()
        claim.history.append(ClaimTransition("open", None, ClaimState.DRAFT, at, actor))
        return claim

    # --- what is claimed -------------------------------------------------------------------

    @property
    def lines(self) -> tuple[ClaimLine, ...]:
        lines = [ClaimLine("labour", LineKind.LABOUR, self.record.labour_amount)]
        if self.record.travel_amount is not None:
            lines.append(ClaimLine("travel", LineKind.TRAVEL, self.record.travel_amount))
        lines.extend(
            ClaimLine(f"part-{number}", LineKind.PART, part.amount, part)
            for number, part in enumerate(self.parts, start=1)
        )
        return tuple(lines)

    def line(self, line_id: str) -> ClaimLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise DomainError(f"claim {self.claim_id} has no line {line_id!r}", code="unknown-claim-line")

    @property
    def total(self) -> Money:
        return self._sum(self.lines)

    @property
    def approved_lines(self) -> tuple[ClaimLine, ...]:
        """The lines paid to the dealer (empty until the claim is approved)."""
        if self.state not in PAYABLE_STATES:
            return ()
        return tuple(line for line in self.lines if line.line_id not in self.removed_lines)

    @property
    def appraisal(self) -> Appraisal | None:
        """The latest appraisal."""
        return self.appraisals[-1] if self.appraisals else None

    @property
    def decided_on(self) -> date | None:
        return self.decided_at.date() if self.decided_at is not None else None

    @property
    def submitted_at(self) -> datetime | None:
        return next((t.at for t in reversed(self.history) if t.to_state is ClaimState.SUBMITTED), None)

    @property
    def in_review_queue(self) -> bool:
        return self.state is ClaimState.UNDER_REVIEW

    def review_overdue(self, now: datetime) -> bool:
        """Still in the reviewer queue on or after its review deadline."""
        return self.in_review_queue and self.review_due_at is not None and now >= self.review_due_at

    @property
    def escalated(self) -> bool:
        """Escalated during its current stay in the reviewer queue."""
        return self.in_review_queue and self.escalated_at is not None

    def allowed_actions(self) -> list[str]:
        return CLAIM_STATES.allowed_actions(self.state)

    def revise(
        self,
        *,
        at: datetime,
        actor: str,
        record: RepairRecord | None = None,
        parts: Sequence[ReplacedPart] | None = None,
        customer_signature_ref: str | None = None,
        photo_refs: Sequence[str] | None = None,
    ) -> None:
        """Change what is claimed; only while a draft or returned for information."""
        if self.state not in EDITABLE_STATES:
            raise IllegalTransition("claim", self.state, "revise", self.allowed_actions())
        at = require_utc(at)
        if record is not None and record.labour_amount.currency != self.currency:
            raise DomainError(f"claim {self.claim_id} is in {self.currency}", code="currency-mismatch")
        self.record = record or self.record
        self.parts = tuple(parts) if parts is not None else self.parts
        self.customer_signature_ref = customer_signature_ref or self.customer_signature_ref
        self.photo_refs = tuple(photo_refs) if photo_refs is not None else self.photo_refs
        self._check_currency()
        self.history.append(ClaimTransition("revise", self.state, self.state, at, actor))

    # --- transitions -------------------------------------------------------------------------

    def submit(self, *, at: datetime, actor: str) -> None:
        at = self._move("submit", at, actor)
        self.events.append(
            ClaimSubmitted(self.claim_id, self.dealer_id, self.serial, self.total, False, at, actor)
        )

    def resubmit(self, *, at: datetime, actor: str, note: str = "") -> None:
        """Send the claim back after answering a request for information; it is appraised again."""
        at = self._move("resubmit", at, actor, note)
        self.events.append(
            ClaimSubmitted(self.claim_id, self.dealer_id, self.serial, self.total, True, at, actor)
        )

    def start_review(self, *, at: datetime, actor: str, review_within: timedelta = REVIEW_WITHIN) -> None:
        """Put the claim in the reviewer queue, due for a decision ``review_within`` from now."""
        at = self._move("start_review", at, actor)
        self.review_due_at = at + review_within
        self.escalated_at = None

    def escalate_overdue_review(self, *, at: datetime, actor: str) -> bool:
        """Escalate the claim if it is still waiting for a reviewer past its deadline; True if it was.

        A claim is escalated once per stay in the queue; a decision, or a return to the dealer
        and a resubmission (which starts a new review period), ends the stay.
        """
        at = require_utc(at)
        if not self.review_overdue(at) or self.escalated_at is not None:
            return False
        assert self.review_due_at is not None
        self.escalated_at = at
        self.history.append(
            ClaimTransition(
                "escalate",
                self.state,
                self.state,
                at,
                actor,
                f"no review decision by {self.review_due_at.isoformat()}",
            )
        )
        return True

    def apply_appraisal(
        self, appraisal: Appraisal, *, at: datetime, actor: str, review_within: timedelta = REVIEW_WITHIN
    ) -> None:
        """Record an appraisal and act on it: approve, partially approve or reject automatically,
        or leave the claim in the reviewer queue (due for a decision within ``review_within``). A
        claim already under review can be appraised again (e.g. when its old part arrives); it
        keeps its deadline."""
        if appraisal.claim_id != self.claim_id:
            raise DomainError(
                f"appraisal of {appraisal.claim_id} applied to {self.claim_id}", code="wrong-claim"
            )
        if self.state is ClaimState.SUBMITTED:
            self.start_review(at=at, actor=actor, review_within=review_within)
        elif self.state is not ClaimState.UNDER_REVIEW:
            raise IllegalTransition("claim", self.state, "appraise", self.allowed_actions())
        self.appraisals.append(appraisal)
        if appraisal.outcome is AppraisalOutcome.AUTO_APPROVE:
            self.approve(at=at, actor=actor, note="automatic approval")
        elif appraisal.outcome is AppraisalOutcome.PARTIAL_APPROVE:
            self.partially_approve(at=at, actor=actor, removed_lines=appraisal.removed_lines)
        elif appraisal.outcome is AppraisalOutcome.REJECT:
            self.reject(at=at, actor=actor, reasons=[f.reason for f in appraisal.failures])

    def approve(self, *, at: datetime, actor: str, note: str = "") -> None:
        """Approve every line (a reviewer's approval overrides lines an appraisal removed)."""
        at = self._move("approve", at, actor, note)
        self.removed_lines = {}
        self._decide(at, actor, partial=False)

    def partially_approve(self, *, at: datetime, actor: str, removed_lines: Mapping[str, str]) -> None:
        """Approve the claim without ``removed_lines`` (line id -> reason the line is not paid)."""
        if not removed_lines:
            raise DomainError("a partial approval removes at least one line", code="nothing-removed")
        for line_id, reason in removed_lines.items():
            self.line(line_id)
            if not reason.strip():
                raise DomainError(f"say why line {line_id} is removed", code="reason-required")
        kept = [line for line in self.lines if line.line_id not in removed_lines]
        if not kept or self._sum(kept).amount <= 0:
            raise DomainError("nothing would be paid: reject the claim instead", code="nothing-approved")
        at = self._move("partially_approve", at, actor, "; ".join(removed_lines.values()))
        self.removed_lines = dict(removed_lines)
        self._decide(at, actor, partial=True)

    def reject(self, *, at: datetime, actor: str, reasons: Sequence[str]) -> None:
        if not any(reason.strip() for reason in reasons):
            raise DomainError("a rejection states its reasons", code="reason-required")
        at = self._move("reject", at, actor, "; ".join(reasons))
        self.decided_at = at
        self.approved_amount = Money.zero(self.currency)
        self.events.append(
            ClaimRejected(self.claim_id, self.dealer_id, self.serial, self.total, tuple(reasons), at, actor)
        )

    def return_for_information(self, *, at: datetime, actor: str, questions: str) -> None:
        if not questions.strip():
            raise DomainError("say what information is missing", code="reason-required")
        at = self._move("return_for_information", at, actor, questions)
        self.events.append(ClaimReturnedForInformation(self.claim_id, self.dealer_id, questions, at, actor))

    def settle(self, *, at: datetime, actor: str, statement_id: str) -> None:
        """Mark the claim paid through settlement statement ``statement_id``."""
        at = self._move("settle", at, actor, statement_id)
        self.statement_id = statement_id
        assert self.approved_amount is not None  # set by every approval
        self.events.append(
            ClaimSettled(self.claim_id, self.dealer_id, statement_id, self.approved_amount, at, actor)
        )

    def pull_events(self) -> list[ClaimEvent]:
        """The events raised since the last call, for the store to write to the outbox."""
        events, self.events = self.events, []
        return events

    # --- internals ---------------------------------------------------------------------------

    def _move(self, action: str, at: datetime, actor: str, note: str = "") -> datetime:
        at = require_utc(at)
        target = CLAIM_STATES.next_state(self.state, action)
        self.history.append(ClaimTransition(action, self.state, target, at, actor, note))
        self.state = target
        return at

    def _decide(self, at: datetime, actor: str, *, partial: bool) -> None:
        approved = self._sum(line for line in self.lines if line.line_id not in self.removed_lines)
        self.approved_amount = approved
        self.decided_at = at
        self.events.append(
            ClaimApproved(
                self.claim_id,
                self.dealer_id,
                self.serial,
                self.total,
                approved,
                partial,
                tuple(sorted(self.removed_lines.items())),
                at,
                actor,
            )
        )

    def _sum(self, lines: Iterable[ClaimLine]) -> Money:
        total = Money.zero(self.currency)
        for line in lines:
            total = total + line.amount
        return total

    def _check_currency(self) -> None:
        for line in self.lines:
            if line.amount.currency != self.currency:
                raise DomainError(
                    f"claim {self.claim_id} is in {self.currency}; "
                    f"line {line.line_id} is in {line.amount.currency}",
                    code="currency-mismatch",
                )
