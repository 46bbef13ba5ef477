"""Dealer settlement statements: what a dealer is paid for a period, less unreturned old parts.

A statement covers one dealer and one period (both ends inclusive) and is issued after the period
ends. It pays every claim approved (fully or partly) up to the end of the period and not yet
settled, and deducts the amount paid for each old part that did not come back by its deadline.

A deduction is taken exactly once, assuming statements of one dealer cover back-to-back periods:
in the statement whose period holds the part's deadline, or, for a claim approved after its
deadline had passed, in the statement that pays the claim.

Statements are issued on a schedule (:class:`SettlementSchedule`: by default every calendar
month, on the 1st of the next month), at most one per dealer and period. Finance may require its
approval of statements above an amount before they are issued (:func:`needs_finance_approval`);
whoever prepared a statement cannot approve it (:func:`check_approver`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from kit.domain import DomainError, Forbidden, Money
from warranty.domain.claims import (
    Claim,
    ClaimRules,
    ClaimState,
    PartReturn,
    old_part_due_on,
    returned_on_time,
)
from warranty.domain.claims.records import LineKind
from warranty.domain.dates import add_months, spoken_date

_PAYABLE = frozenset({ClaimState.APPROVED, ClaimState.PARTIALLY_APPROVED})


@dataclass(frozen=True)
class StatementLine:
    """One claim paid in the statement."""

    claim_id: str
    serial: str
    work_order_id: str | None
    approved_on: date
    claimed: Money
    approved: Money


@dataclass(frozen=True)
class Deduction:
    """An old part paid for but not returned by its deadline, taken back from the dealer."""

    claim_id: str
    line_id: str
    part_number: str
    old_part_serial: str | None
    due_on: date
    amount: Money
    reason: str


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    approved: Money
    deducted: Money

    @property
    def net(self) -> Money:
        return self.approved - self.deducted


@dataclass(frozen=True)
class SettlementStatement:
    statement_id: str
    dealer_id: str
    period_start: date
    period_end: date
    issued_on: date
    lines: tuple[StatementLine, ...]
    deductions: tuple[Deduction, ...]
    totals: tuple[CurrencyTotal, ...]

    @property
    def claim_ids(self) -> tuple[str, ...]:
        """The claims this statement pays (and settles)."""
        return tuple(line.claim_id for line in self.lines)

    def total(self, currency: str) -> CurrencyTotal:
        for total in self.totals:
            if total.currency == currency:
                return total
        return CurrencyTotal(currency, Money.zero(currency), Money.zero(currency))


def build_statement(
    *,
    statement_id: str,
    dealer_id: str,
    period_start: date,
    period_end: date,
    issued_on: date,
    claims: Iterable[Claim],
    returns: Mapping[str, PartReturn],
    rules: ClaimRules | None = None,
) -> SettlementStatement:
    """The dealer's statement for ``period_start``..``period_end`` from its claims and part returns.

    ``claims`` may hold any claims (other dealers' and unapproved ones are skipped); ``returns``
    maps an old-part serial to what inventory reported about it.
    """
    rules = rules or ClaimRules()
    if period_end < period_start:
        raise DomainError("a settlement period cannot end before it starts", code="bad-period")
    if issued_on < period_end:
        raise DomainError("a statement is issued after its period ends", code="statement-too-early")
    own = [c for c in claims if c.dealer_id == dealer_id]
    paying = sorted(
        (c for c in own if c.state in _PAYABLE and c.decided_on is not None and c.decided_on <= period_end),
        key=lambda c: (c.decided_on or period_end, c.claim_id),
    )
    paying_ids = {c.claim_id for c in paying}
    lines = tuple(
        StatementLine(
            claim_id=c.claim_id,
            serial=c.serial,
            work_order_id=c.record.work_order_id,
            approved_on=c.decided_on or period_end,
            claimed=c.total,
            approved=c.approved_amount or Money.zero(c.currency),
        )
        for c in paying
    )
    deductions: list[Deduction] = []
    for claim in sorted(own, key=lambda c: c.claim_id):
        paid_now = claim.claim_id in paying_ids
        if not paid_now and claim.state is not ClaimState.SETTLED:
            continue
        due_on = old_part_due_on(claim, rules)
        if due_on > period_end:
            continue  # not due yet: a later statement takes it if the part does not come back
        if not paid_now and due_on < period_start:
            continue  # paid and due in an earlier period, whose statement took it
        for line in claim.approved_lines:
            if line.kind is not LineKind.PART or line.part is None:
                continue
            serial = line.part.old_part_serial
            if returned_on_time(returns.get(serial) if serial is not None else None, due_on):
                continue
            deductions.append(
                Deduction(
                    claim_id=claim.claim_id,
                    line_id=line.line_id,
                    part_number=line.part.part_number,
                    old_part_serial=serial,
                    due_on=due_on,
                    amount=line.amount,
                    reason=f"Old part {serial or line.part.part_number} was not returned by "
                    f"{spoken_date(due_on)}.",
                )
            )
    return SettlementStatement(
        statement_id=statement_id,
        dealer_id=dealer_id,
        period_start=period_start,
        period_end=period_end,
        issued_on=issued_on,
        lines=lines,
        deductions=tuple(deductions),
        totals=_totals(lines, deductions),
    )


def _totals(lines: Iterable[StatementLine], deductions: Iterable[Deduction]) -> tuple[CurrencyTotal, ...]:
    approved: dict[str, Money] = {}
    deducted: dict[str, Money] = {}
    for line in lines:
        currency = line.approved.currency
        approved[currency] = approved.get(currency, Money.zero(currency)) + line.approved
    for deduction in deductions:
        currency = deduction.amount.currency
        deducted[currency] = deducted.get(currency, Money.zero(currency)) + deduction.amount
    return tuple(
        CurrencyTotal(c, approved.get(c, Money.zero(c)), deducted.get(c, Money.zero(c)))
        for c in sorted(approved.keys() | deducted.keys())
    )


def deductions_of(statement: SettlementStatement, claim_id: str) -> tuple[Deduction, ...]:
    """The deductions the statement takes from one claim."""
    return tuple(d for d in statement.deductions if d.claim_id == claim_id)


# --- the schedule -----------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class SettlementPeriod:
    """A settlement period, both ends inclusive."""

    start: date
    end: date

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


@dataclass(frozen=True)
class SettlementSchedule:
    """When statements are issued: periods of ``period_months`` calendar months counted from
    January (1 = every month, 3 = every quarter), each settled on day ``issue_day`` of the month
    after it ends, at ``issue_time`` UTC."""

    period_months: int = 1
    issue_day: int = 1
    issue_time: time = time(2, 0)

    def __post_init__(self) -> None:
        if self.period_months not in (1, 2, 3, 4, 6, 12):
            raise DomainError(
                "a settlement period is 1, 2, 3, 4, 6 or 12 months (whole parts of a year)",
                code="bad-settlement-period",
            )
        if not 1 <= self.issue_day <= 28:
            raise DomainError(
                "statements are issued on day 1 to 28 of a month (every month has it)",
                code="bad-settlement-day",
            )

    def period_containing(self, on: date) -> SettlementPeriod:
        first_month = (on.month - 1) // self.period_months * self.period_months + 1
        start = date(on.year, first_month, 1)
        return SettlementPeriod(start, add_months(start, self.period_months) - timedelta(days=1))

    def following(self, period: SettlementPeriod) -> SettlementPeriod:
        return self.period_containing(period.end + timedelta(days=1))

    def issue_at(self, period: SettlementPeriod) -> datetime:
        """When the statements of ``period`` are due: day ``issue_day`` of the month after it."""
        month_after = period.end + timedelta(days=1)
        day = month_after.replace(day=self.issue_day)
        return datetime.combine(day, self.issue_time, tzinfo=UTC)

    def next_due(self, now: datetime) -> SettlementPeriod:
        """The first period whose statements fall due at or after ``now``."""
        period = self.period_containing(now.astimezone(UTC).date())
        previous = self.period_containing(period.start - timedelta(days=1))
        return previous if self.issue_at(previous) >= now else period


# --- finance approval ---------------------------------------------------------------------------


class StatementStatus(StrEnum):
    #: prepared, above the approval limit: waits for a finance approval; nothing is paid yet
    AWAITING_APPROVAL = "awaiting_approval"
    #: issued: its claims are settled and the dealer is paid the net amount
    ISSUED = "issued"


def needs_finance_approval(statement: SettlementStatement, approval_above: Decimal | None) -> bool:
    """Whether finance must approve the statement first: it pays more than ``approval_above``
    (in any one currency, net of deductions). ``None`` means no statement needs approval."""
    if approval_above is None:
        return False
    return any(total.net.amount > approval_above for total in statement.totals)


def check_approver(*, prepared_by: str, approver: str) -> None:
    """Four eyes: the person who prepared a statement cannot also approve it."""
    if prepared_by == approver:
        raise Forbidden(
            "a statement is approved by someone other than the person who prepared it",
            code="same-preparer-and-approver",
        )


def settle_claims(
    statement: SettlementStatement, claims: Iterable[Claim], *, at: datetime, actor: str
) -> None:
    """Mark every claim the statement pays as settled (each raises ``ClaimSettled``)."""
    by_id = {c.claim_id: c for c in claims}
    missing = [claim_id for claim_id in statement.claim_ids if claim_id not in by_id]
    if missing:
        raise DomainError(f"claims missing for statement {statement.statement_id}: {', '.join(missing)}")
    for claim_id in statement.claim_ids:
        by_id[claim_id].settle(at=at, actor=actor, statement_id=statement.statement_id)


CSV_COLUMNS = (
    "statement_id",
    "dealer_id",
    "period_start",
    "period_end",
    "kind",
    "claim_id",
    "serial",
    "work_order_id",
    "date",
    "part_number",
    "old_part_serial",
    "currency",
    "amount",
    "description",
)


def statement_to_csv(statement: SettlementStatement) -> str:
    """The statement as CSV for finance: one row per paid claim, per deduction (negative amount)
    and per currency total (``total_approved``, ``total_deducted``, ``net``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    head = [
        statement.statement_id,
        statement.dealer_id,
        statement.period_start.isoformat(),
        statement.period_end.isoformat(),
    ]
    for line in statement.lines:
        writer.writerow(
            [
                *head,
                "claim",
                line.claim_id,
                line.serial,
                line.work_order_id or "",
                line.approved_on.isoformat(),
                "",
                "",
                line.approved.currency,
                str(line.approved.amount),
                f"claimed {line.claimed}",
            ]
        )
    for deduction in statement.deductions:
        writer.writerow(
            [
                *head,
                "deduction",
                deduction.claim_id,
                "",
                "",
                deduction.due_on.isoformat(),
                deduction.part_number,
                deduction.old_part_serial or "",
                deduction.amount.currency,
                str(-deduction.amount.amount),
                deduction.reason,
            ]
        )
    for total in statement.totals:
        for kind, amount in (
            ("total_approved", total.approved.amount),
            ("total_deducted", -total.deducted.amount),
            ("net", total.net.amount),
        ):
            writer.writerow(
                [
                    *head,
                    kind,
                    "",
                    "",
                    "",
                    statement.issued_on.isoformat(),
                    "",
                    "",
                    total.currency,
                    str(amount),
                    "",
                ]
            )
    return buffer.getvalue()


def _money(amount: Money) -> dict[str, str]:
    return {"amount": str(amount.amount), "currency": amount.currency}


def _money_of(data: Mapping[str, str]) -> Money:
    return Money(Decimal(data["amount"]), data["currency"])


def statement_to_json(statement: SettlementStatement) -> dict[str, object]:
    """The statement as a JSON-ready dict: dates ISO-8601, money as decimal strings with a currency."""
    return {
        "statement_id": statement.statement_id,
        "dealer_id": statement.dealer_id,
        "period_start": statement.period_start.isoformat(),
        "period_end": statement.period_end.isoformat(),
        "issued_on": statement.issued_on.isoformat(),
        "claims": [
            {
                "claim_id": line.claim_id,
                "serial": line.serial,
                "work_order_id": line.work_order_id,
                "approved_on": line.approved_on.isoformat(),
                "claimed": _money(line.claimed),
                "approved": _money(line.approved),
            }
            for line in statement.lines
        ],
        "deductions": [
            {
                "claim_id": d.claim_id,
                "line_id": d.line_id,
                "part_number": d.part_number,
                "old_part_serial": d.old_part_serial,
                "due_on": d.due_on.isoformat(),
                "amount": _money(d.amount),
                "reason": d.reason,
            }
            for d in statement.deductions
        ],
        "totals": [
            {
                "currency": t.currency,
                "approved": str(t.approved.amount),
                "deducted": str(t.deducted.amount),
                "net": str(t.net.amount),
            }
            for t in statement.totals
        ],
    }


def statement_from_json(data: Mapping[str, Any]) -> SettlementStatement:
    """A statement back from :func:`statement_to_json` (for one prepared earlier and issued later)."""
    lines = tuple(
        StatementLine(
            claim_id=line["claim_id"],
            serial=line["serial"],
            work_order_id=line["work_order_id"],
            approved_on=date.fromisoformat(line["approved_on"]),
            claimed=_money_of(line["claimed"]),
            approved=_money_of(line["approved"]),
        )
        for line in data["claims"]
    )
    deductions = tuple(
        Deduction(
            claim_id=d["claim_id"],
            line_id=d["line_id"],
            part_number=d["part_number"],
            old_part_serial=d["old_part_serial"],
            due_on=date.fromisoformat(d["due_on"]),
            amount=_money_of(d["amount"]),
            reason=d["reason"],
        )
        for d in data["deductions"]
    )
    return SettlementStatement(
        statement_id=data["statement_id"],
        dealer_id=data["dealer_id"],
        period_start=date.fromisoformat(data["period_start"]),
        period_end=date.fromisoformat(data["period_end"]),
        issued_on=date.fromisoformat(data["issued_on"]),
        lines=lines,
        deductions=deductions,
        totals=_totals(lines, deductions),
    )
