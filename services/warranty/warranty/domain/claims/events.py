"""Domain events a claim raises; the store drains them into the outbox as contract events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kit.domain import Money


@dataclass(frozen=True)
class ClaimSubmitted:
    claim_id: str
    dealer_id: str
    serial: str
    claimed: Money
    resubmission: bool
    at: datetime
    actor: str


@dataclass(frozen=True)
class ClaimApproved:
    claim_id: str
    dealer_id: str
    serial: str
    claimed: Money
    approved: Money
    partial: bool
    #: ``(line id, reason)`` of every line not approved
    removed_lines: tuple[tuple[str, str], ...]
    at: datetime
    actor: str


@dataclass(frozen=True)
class ClaimRejected:
    claim_id: str
    dealer_id: str
    serial: str
    claimed: Money
    reasons: tuple[str, ...]
    at: datetime
    actor: str


@dataclass(frozen=True)
class ClaimReturnedForInformation:
    claim_id: str
    dealer_id: str
    questions: str
    at: datetime
    actor: str


@dataclass(frozen=True)
class ClaimSettled:
    claim_id: str
    dealer_id: str
    statement_id: str
    approved: Money
    at: datetime
    actor: str


ClaimEvent = ClaimSubmitted | ClaimApproved | ClaimRejected | ClaimReturnedForInformation | ClaimSettled
