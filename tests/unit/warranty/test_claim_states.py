from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from kit.domain import DomainError, IllegalTransition, Money
from warranty.domain.claims import (
    Appraisal,
    AppraisalOutcome,
    Claim,
    ClaimApproved,
    ClaimRejected,
    ClaimReturnedForInformation,
    ClaimSettled,
    ClaimState,
    ClaimSubmitted,
    RepairRecord,
    ReplacedPart,
)
from warranty.domain.policy import FaultCause

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def _appraisal(claim, outcome: AppraisalOutcome, removed: dict[str, str] | None = None) -> Appraisal:
    return Appraisal(claim.claim_id, date(2026, 3, 2), outcome, (), claim.total, claim.total, removed or {})


def test_a_claim_opens_as_a_draft_and_totals_its_lines(make_claim) -> None:
    claim = make_claim(submit=False)
    assert claim.state is ClaimState.DRAFT
    assert [line.line_id for line in claim.lines] == ["labour", "travel", "part-1"]
    assert claim.total == eur("272.50")
    assert claim.allowed_actions() == ["submit"]


def test_submitting_raises_claim_submitted(make_claim) -> None:
    claim = make_claim(submit=False)
    claim.submit(at=T0, actor="dealer:D-1")
    assert claim.state is ClaimState.SUBMITTED
    (event,) = claim.pull_events()
    assert isinstance(event, ClaimSubmitted)
    assert event.claimed == eur("272.50")
    assert not event.resubmission


def test_approval_from_submitted_is_illegal_and_names_the_allowed_actions(make_claim) -> None:
    claim = make_claim()
    with pytest.raises(IllegalTransition) as raised:
        claim.approve(at=T0, actor="reviewer:R")
    assert raised.value.allowed == ["start_review"]
    assert claim.state is ClaimState.SUBMITTED


def test_a_settled_claim_allows_no_action(make_claim) -> None:
    claim = make_claim()
    claim.start_review(at=T0, actor="reviewer:R")
    claim.approve(at=T0, actor="reviewer:R")
    claim.settle(at=T0, actor="finance:F", statement_id="ST-1")
    with pytest.raises(IllegalTransition) as raised:
        claim.reject(at=T0, actor="reviewer:R", reasons=["late"])
    assert raised.value.allowed == []


def test_the_full_review_path_is_timestamped_with_actors(make_claim) -> None:
    claim = make_claim()
    claim.pull_events()
    claim.start_review(at=T0, actor="reviewer:R")
    claim.return_for_information(at=T0 + timedelta(hours=1), actor="reviewer:R", questions="Send the photo")
    claim.revise(at=T0 + timedelta(hours=2), actor="dealer:D-1", photo_refs=["photo/2.jpg"])
    claim.resubmit(at=T0 + timedelta(hours=3), actor="dealer:D-1", note="photo added")
    claim.start_review(at=T0 + timedelta(hours=4), actor="reviewer:R")
    claim.approve(at=T0 + timedelta(hours=5), actor="reviewer:R")
    claim.settle(at=T0 + timedelta(days=30), actor="finance:F", statement_id="ST-1")

    assert [(t.action, t.to_state) for t in claim.history] == [
        ("open", ClaimState.DRAFT),
        ("submit", ClaimState.SUBMITTED),
        ("start_review", ClaimState.UNDER_REVIEW),
        ("return_for_information", ClaimState.RETURNED_FOR_INFORMATION),
        ("revise", ClaimState.RETURNED_FOR_INFORMATION),
        ("resubmit", ClaimState.SUBMITTED),
        ("start_review", ClaimState.UNDER_REVIEW),
        ("approve", ClaimState.APPROVED),
        ("settle", ClaimState.SETTLED),
    ]
    assert claim.history[3].actor == "reviewer:R"
    assert claim.history[3].note == "Send the photo"
    assert claim.history[-1].at == T0 + timedelta(days=30)
    assert claim.photo_refs == ("photo/2.jpg",)
    assert claim.statement_id == "ST-1"
    assert [type(e) for e in claim.pull_events()] == [
        ClaimReturnedForInformation,
        ClaimSubmitted,
        ClaimApproved,
        ClaimSettled,
    ]


def test_a_resubmission_is_marked_as_such(make_claim) -> None:
    claim = make_claim()
    claim.start_review(at=T0, actor="reviewer:R")
    claim.return_for_information(at=T0, actor="reviewer:R", questions="Which compressor?")
    claim.pull_events()
    claim.resubmit(at=T0, actor="dealer:D-1")
    (event,) = claim.pull_events()
    assert isinstance(event, ClaimSubmitted)
    assert event.resubmission


def test_a_submitted_claim_cannot_be_revised(make_claim) -> None:
    claim = make_claim()
    with pytest.raises(IllegalTransition):
        claim.revise(at=T0, actor="dealer:D-1", photo_refs=["x"])


def test_partial_approval_pays_the_claim_without_the_removed_lines(make_claim) -> None:
    claim = make_claim()
    claim.start_review(at=T0, actor="reviewer:R")
    claim.pull_events()
    claim.partially_approve(
        at=T0, actor="reviewer:R", removed_lines={"part-1": "not in the bill of materials"}
    )
    assert claim.state is ClaimState.PARTIALLY_APPROVED
    assert claim.approved_amount == eur("92.50")
    assert [line.line_id for line in claim.approved_lines] == ["labour", "travel"]
    (event,) = claim.pull_events()
    assert isinstance(event, ClaimApproved)
    assert event.partial
    assert event.removed_lines == (("part-1", "not in the bill of materials"),)


def test_partial_approval_needs_known_lines_with_reasons_and_something_left_to_pay(make_claim) -> None:
    claim = make_claim(labour="0.00", travel=None)
    claim.start_review(at=T0, actor="reviewer:R")
    with pytest.raises(DomainError):
        claim.partially_approve(at=T0, actor="reviewer:R", removed_lines={})
    with pytest.raises(DomainError):
        claim.partially_approve(at=T0, actor="reviewer:R", removed_lines={"part-9": "no such line"})
    with pytest.raises(DomainError):
        claim.partially_approve(at=T0, actor="reviewer:R", removed_lines={"part-1": " "})
    with pytest.raises(DomainError):
        claim.partially_approve(at=T0, actor="reviewer:R", removed_lines={"part-1": "implausible"})
    assert claim.state is ClaimState.UNDER_REVIEW


def test_a_rejection_states_its_reasons(make_claim) -> None:
    claim = make_claim()
    claim.start_review(at=T0, actor="reviewer:R")
    with pytest.raises(DomainError):
        claim.reject(at=T0, actor="reviewer:R", reasons=[])
    claim.pull_events()
    claim.reject(at=T0, actor="reviewer:R", reasons=["outside coverage"])
    assert claim.approved_amount == eur("0.00")
    (event,) = claim.pull_events()
    assert isinstance(event, ClaimRejected)
    assert event.reasons == ("outside coverage",)


def test_a_rejected_claim_cannot_be_settled(make_claim) -> None:
    claim = make_claim()
    claim.start_review(at=T0, actor="reviewer:R")
    claim.reject(at=T0, actor="reviewer:R", reasons=["duplicate"])
    with pytest.raises(IllegalTransition):
        claim.settle(at=T0, actor="finance:F", statement_id="ST-1")


def test_an_automatic_approval_moves_the_claim_through_review_to_approved(make_claim) -> None:
    claim = make_claim()
    claim.apply_appraisal(_appraisal(claim, AppraisalOutcome.AUTO_APPROVE), at=T0, actor="appraisal")
    assert claim.state is ClaimState.APPROVED
    assert [t.action for t in claim.history[-2:]] == ["start_review", "approve"]
    assert claim.appraisal is not None


def test_an_appraisal_for_review_leaves_the_claim_in_the_reviewer_queue(make_claim) -> None:
    claim = make_claim()
    claim.apply_appraisal(_appraisal(claim, AppraisalOutcome.REVIEW), at=T0, actor="appraisal")
    assert claim.in_review_queue
    claim.apply_appraisal(_appraisal(claim, AppraisalOutcome.AUTO_APPROVE), at=T0, actor="appraisal")
    assert claim.state is ClaimState.APPROVED
    assert len(claim.appraisals) == 2


def test_a_draft_cannot_be_appraised(make_claim) -> None:
    claim = make_claim(submit=False)
    with pytest.raises(IllegalTransition):
        claim.apply_appraisal(_appraisal(claim, AppraisalOutcome.AUTO_APPROVE), at=T0, actor="appraisal")


def test_a_reviewer_can_override_lines_an_appraisal_removed(make_claim) -> None:
    claim = make_claim()
    claim.apply_appraisal(
        _appraisal(claim, AppraisalOutcome.REVIEW, {"part-1": "implausible"}), at=T0, actor="a"
    )
    claim.approve(at=T0, actor="reviewer:R", note="part confirmed by engineering")
    assert claim.approved_amount == claim.total


def test_claim_amounts_must_share_one_currency() -> None:
    with pytest.raises(DomainError):
        Claim.open(
            claim_id="CL-X",
            dealer_id="D-1",
            serial="SN-1",
            record=RepairRecord(
                "E4", FaultCause.PRODUCT_DEFECT, date(2026, 2, 1), date(2026, 2, 1), 60, eur("45")
            ),
            parts=[ReplacedPart("CMP-100", Money(Decimal("10"), "USD"))],
            at=T0,
            actor="dealer:D-1",
        )


def test_a_repair_cannot_precede_the_failure() -> None:
    with pytest.raises(DomainError):
        RepairRecord("E4", FaultCause.PRODUCT_DEFECT, date(2026, 2, 2), date(2026, 2, 1), 60, eur("45"))


def test_transitions_need_timezone_aware_timestamps(make_claim) -> None:
    claim = make_claim(submit=False)
    with pytest.raises(DomainError):
        claim.submit(at=datetime(2026, 3, 2, 8, 0), actor="dealer:D-1")
    assert claim.state is ClaimState.DRAFT


# --- the review deadline ---------------------------------------------------------------------------


def _in_review(make_claim, within: timedelta = timedelta(days=5)) -> Claim:
    claim = make_claim()
    claim.apply_appraisal(
        _appraisal(claim, AppraisalOutcome.REVIEW), at=T0, actor="warranty", review_within=within
    )
    return claim


def test_a_claim_left_to_a_reviewer_is_due_for_a_decision_within_five_days(make_claim) -> None:
    claim = _in_review(make_claim)
    assert claim.in_review_queue
    assert claim.review_due_at == T0 + timedelta(days=5)


def test_the_review_period_is_configuration(make_claim) -> None:
    assert _in_review(make_claim, timedelta(days=2)).review_due_at == T0 + timedelta(days=2)


def test_a_claim_is_not_escalated_before_its_deadline(make_claim) -> None:
    claim = _in_review(make_claim)
    assert not claim.escalate_overdue_review(
        at=T0 + timedelta(days=5) - timedelta(seconds=1), actor="warranty"
    )
    assert not claim.escalated


def test_a_claim_still_waiting_at_its_deadline_is_escalated_once(make_claim) -> None:
    claim = _in_review(make_claim)
    due = T0 + timedelta(days=5)
    assert claim.escalate_overdue_review(at=due, actor="warranty")
    assert claim.escalated
    assert claim.escalated_at == due
    assert claim.history[-1].action == "escalate"
    assert not claim.escalate_overdue_review(at=due + timedelta(days=1), actor="warranty")
    assert claim.state is ClaimState.UNDER_REVIEW


def test_a_decided_claim_is_never_escalated(make_claim) -> None:
    claim = _in_review(make_claim)
    claim.approve(at=T0 + timedelta(days=1), actor="reviewer:R")
    assert not claim.escalate_overdue_review(at=T0 + timedelta(days=6), actor="warranty")
    assert not claim.escalated


def test_a_resubmitted_claim_gets_a_new_review_period_and_loses_its_escalation(make_claim) -> None:
    claim = _in_review(make_claim)
    claim.escalate_overdue_review(at=T0 + timedelta(days=5), actor="warranty")
    claim.return_for_information(
        at=T0 + timedelta(days=6), actor="reviewer:R", questions="photo of the label?"
    )
    resubmitted_at = T0 + timedelta(days=8)
    claim.resubmit(at=resubmitted_at, actor="dealer:D-1")
    claim.apply_appraisal(_appraisal(claim, AppraisalOutcome.REVIEW), at=resubmitted_at, actor="warranty")
    assert claim.review_due_at == resubmitted_at + timedelta(days=5)
    assert not claim.escalated
