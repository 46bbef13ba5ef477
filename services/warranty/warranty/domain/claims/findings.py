"""The result of appraising a claim: one finding per check, and the outcome they lead to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from kit.domain import Money


class Severity(StrEnum):
    PASS = "pass"  # noqa: S105 - a severity, not a password
    WARN = "warn"
    FAIL = "fail"


class FindingCode(StrEnum):
    UNIT_REGISTERED = "unit_registered"
    REGISTERED_ON_TIME = "registered_on_time"
    FAILURE_IN_COVERAGE = "failure_in_coverage"
    EXCLUSION = "exclusion"
    DUPLICATE_WORK = "duplicate_work"
    DUPLICATE_OLD_PART = "duplicate_old_part"
    LABOUR_TIME = "labour_time"
    PART_PLAUSIBLE = "part_plausible"
    OLD_PART_RETURNED = "old_part_returned"
    CUSTOMER_SIGNATURE = "customer_signature"
    AUTO_APPROVAL_LIMIT = "auto_approval_limit"


@dataclass(frozen=True)
class Finding:
    """One check. A failing finding with a ``line_id`` removes that line; without one it rejects."""

    code: FindingCode
    severity: Severity
    reason: str
    line_id: str | None = None

    @property
    def rejects_claim(self) -> bool:
        return self.severity is Severity.FAIL and self.line_id is None

    @property
    def removes_line(self) -> bool:
        return self.severity is Severity.FAIL and self.line_id is not None


class AppraisalOutcome(StrEnum):
    #: every check passed and the amount is within the automatic approval limit
    AUTO_APPROVE = "auto_approve"
    #: only line checks failed: the other lines are approved, the failing ones removed
    PARTIAL_APPROVE = "partial_approve"
    #: something needs a person: the claim waits in the reviewer queue
    REVIEW = "review"
    #: a hard failure (outside coverage, excluded, duplicate work)
    REJECT = "reject"


@dataclass(frozen=True)
class Appraisal:
    claim_id: str
    appraised_on: date
    outcome: AppraisalOutcome
    findings: tuple[Finding, ...]
    claimed: Money
    #: what would be paid if the outcome stands: the claim less the removed lines
    approvable: Money
    #: line id -> why it is removed
    removed_lines: Mapping[str, str] = field(default_factory=dict)

    @property
    def failures(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.FAIL)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARN)

    def of(self, code: FindingCode) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.code is code)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The sentences behind the outcome: every failure, then every warning."""
        return tuple(f.reason for f in (*self.failures, *self.warnings))
