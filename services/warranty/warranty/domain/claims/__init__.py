"""Warranty claims of dealers and service points: the aggregate, its events, and appraisal."""

from warranty.domain.claims.appraisal import (
    AppraisalContext,
    ClaimRules,
    PartReturn,
    ReturnOutcome,
    appraise,
    old_part_due_on,
    returned_on_time,
)
from warranty.domain.claims.claim import (
    CLAIM_STATES,
    EDITABLE_STATES,
    PAYABLE_STATES,
    Claim,
    ClaimState,
    ClaimTransition,
)
from warranty.domain.claims.events import (
    ClaimApproved,
    ClaimEvent,
    ClaimRejected,
    ClaimReturnedForInformation,
    ClaimSettled,
    ClaimSubmitted,
)
from warranty.domain.claims.findings import Appraisal, AppraisalOutcome, Finding, FindingCode, Severity
from warranty.domain.claims.records import ClaimLine, LineKind, RepairRecord, ReplacedPart

__all__ = [
    "CLAIM_STATES",
    "EDITABLE_STATES",
    "PAYABLE_STATES",
    "Appraisal",
    "AppraisalContext",
    "AppraisalOutcome",
    "Claim",
    "ClaimApproved",
    "ClaimEvent",
    "ClaimLine",
    "ClaimRejected",
    "ClaimReturnedForInformation",
    "ClaimRules",
    "ClaimSettled",
    "ClaimState",
    "ClaimSubmitted",
    "ClaimTransition",
    "Finding",
    "FindingCode",
    "LineKind",
    "PartReturn",
    "RepairRecord",
    "ReplacedPart",
    "ReturnOutcome",
    "Severity",
    "appraise",
    "old_part_due_on",
    "returned_on_time",
]
