from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from kit.domain import DomainError, Forbidden, Money
from warranty.domain.claims import Claim, ClaimSettled, ClaimState, PartReturn, RepairRecord, ReplacedPart
from warranty.domain.policy import FaultCause
from warranty.domain.settlement import (
    SettlementPeriod,
    SettlementSchedule,
    SettlementStatement,
    build_statement,
    check_approver,
    needs_finance_approval,
    settle_claims,
    statement_from_json,
    statement_to_csv,
    statement_to_json,
)

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
APRIL = (date(2026, 4, 1), date(2026, 4, 30))


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


def _approved(make_claim, claim_id: str, *, repaired_on: date, approved_on: date, **kw) -> Claim:
    claim: Claim = make_claim(
        claim_id=claim_id,
        work_order_id=f"WO-{claim_id}",
        failed_on=repaired_on,
        repaired_on=repaired_on,
        parts=(ReplacedPart("CMP-100", eur("180.00"), old_part_serial=f"OLD-{claim_id}"),),
        **kw,
    )
    claim.start_review(at=_at(approved_on), actor="reviewer:R")
    claim.approve(at=_at(approved_on), actor="reviewer:R")
    return claim


def _statement(claims, returns=None, period=MARCH, statement_id="ST-03") -> SettlementStatement:
    return build_statement(
        statement_id=statement_id,
        dealer_id="D-1",
        period_start=period[0],
        period_end=period[1],
        issued_on=period[1],
        claims=claims,
        returns=returns or {},
    )


def test_a_statement_pays_the_dealers_claims_approved_by_the_end_of_the_period(make_claim) -> None:
    paid = _approved(make_claim, "CL-1", repaired_on=date(2026, 3, 2), approved_on=date(2026, 3, 5))
    missed_last_month = _approved(
        make_claim, "CL-2", repaired_on=date(2026, 2, 20), approved_on=date(2026, 2, 27)
    )
    next_month = _approved(make_claim, "CL-3", repaired_on=date(2026, 3, 20), approved_on=date(2026, 4, 1))
    other_dealer = _approved(
        make_claim, "CL-4", repaired_on=date(2026, 3, 2), approved_on=date(2026, 3, 5), dealer_id="D-2"
    )
    in_review = make_claim(claim_id="CL-5")
    returned = {"OLD-CL-2": PartReturn("OLD-CL-2", received_on=date(2026, 3, 1))}
    statement = _statement([paid, missed_last_month, next_month, other_dealer, in_review], returned)
    assert statement.claim_ids == ("CL-2", "CL-1")
    assert statement.deductions == ()
    assert statement.total("EUR").approved == eur("545.00")
    assert statement.total("EUR").net == eur("545.00")


def test_an_old_part_not_returned_by_its_deadline_is_deducted(make_claim) -> None:
    claim = _approved(make_claim, "CL-1", repaired_on=date(2026, 2, 2), approved_on=date(2026, 3, 5))
    statement = _statement([claim])
    (deduction,) = statement.deductions
    assert deduction.claim_id == "CL-1"
    assert deduction.old_part_serial == "OLD-CL-1"
    assert deduction.due_on == date(2026, 3, 4)
    assert deduction.amount == eur("180.00")
    assert deduction.reason == "Old part OLD-CL-1 was not returned by 4 March 2026."
    assert statement.total("EUR").net == eur("92.50")


def test_an_old_part_returned_on_its_deadline_is_not_deducted(make_claim) -> None:
    claim = _approved(make_claim, "CL-1", repaired_on=date(2026, 2, 2), approved_on=date(2026, 3, 5))
    returns = {"OLD-CL-1": PartReturn("OLD-CL-1", received_on=date(2026, 3, 4))}
    assert _statement([claim], returns).deductions == ()


def test_an_old_part_returned_after_its_deadline_is_deducted(make_claim) -> None:
    claim = _approved(make_claim, "CL-1", repaired_on=date(2026, 2, 2), approved_on=date(2026, 3, 5))
    returns = {"OLD-CL-1": PartReturn("OLD-CL-1", received_on=date(2026, 3, 5))}
    assert len(_statement([claim], returns).deductions) == 1


def test_a_part_not_yet_due_is_deducted_in_the_period_of_its_deadline_once(make_claim) -> None:
    claim = _approved(make_claim, "CL-1", repaired_on=date(2026, 3, 20), approved_on=date(2026, 3, 22))
    march = _statement([claim])
    assert march.deductions == ()
    settle_claims(march, [claim], at=_at(date(2026, 4, 1)), actor="finance:F")

    april = _statement([claim], period=APRIL, statement_id="ST-04")
    assert april.claim_ids == ()
    (deduction,) = april.deductions
    assert deduction.due_on == date(2026, 4, 19)
    assert april.total("EUR").net == eur("-180.00")

    may = _statement([claim], period=(date(2026, 5, 1), date(2026, 5, 31)), statement_id="ST-05")
    assert may.deductions == ()


def test_a_deduction_taken_with_the_payment_is_not_taken_again(make_claim) -> None:
    claim = _approved(make_claim, "CL-1", repaired_on=date(2026, 2, 2), approved_on=date(2026, 3, 5))
    march = _statement([claim])
    settle_claims(march, [claim], at=_at(date(2026, 4, 1)), actor="finance:F")
    assert _statement([claim], period=APRIL, statement_id="ST-04").deductions == ()


def test_a_line_removed_at_approval_is_neither_paid_nor_deducted(make_claim) -> None:
    claim = make_claim(claim_id="CL-1", repaired_on=date(2026, 2, 2))
    claim.start_review(at=_at(date(2026, 3, 5)), actor="reviewer:R")
    claim.partially_approve(
        at=_at(date(2026, 3, 5)), actor="reviewer:R", removed_lines={"part-1": "implausible"}
    )
    statement = _statement([claim])
    assert statement.lines[0].approved == eur("92.50")
    assert statement.deductions == ()


def test_totals_are_kept_per_currency(make_claim) -> None:
    euro = _approved(make_claim, "CL-1", repaired_on=date(2026, 3, 2), approved_on=date(2026, 3, 5))
    usd = Claim.open(
        claim_id="CL-US",
        dealer_id="D-1",
        serial="SN-9",
        record=RepairRecord(
            "E4", FaultCause.PRODUCT_DEFECT, date(2026, 3, 2), date(2026, 3, 2), 60, Money(Decimal(50), "USD")
        ),
        at=_at(date(2026, 3, 2)),
        actor="dealer:D-1",
    )
    usd.submit(at=_at(date(2026, 3, 2)), actor="dealer:D-1")
    usd.start_review(at=_at(date(2026, 3, 3)), actor="reviewer:R")
    usd.approve(at=_at(date(2026, 3, 3)), actor="reviewer:R")
    statement = _statement([euro, usd])
    assert [t.currency for t in statement.totals] == ["EUR", "USD"]
    assert statement.total("USD").net == Money(Decimal(50), "USD")
    assert statement.total("EUR").net == eur("272.50")


def test_settling_marks_each_paid_claim_settled_with_the_statement(make_claim) -> None:
    claim = _approved(make_claim, "CL-1", repaired_on=date(2026, 3, 2), approved_on=date(2026, 3, 5))
    claim.pull_events()
    statement = _statement([claim])
    settle_claims(statement, [claim], at=_at(date(2026, 4, 1)), actor="finance:F")
    assert claim.state is ClaimState.SETTLED
    (event,) = claim.pull_events()
    assert isinstance(event, ClaimSettled)
    assert event.statement_id == "ST-03"
    assert event.approved == eur("272.50")


def test_settling_needs_every_claim_of_the_statement(make_claim) -> None:
    claim = _approved(make_claim, "CL-1", repaired_on=date(2026, 3, 2), approved_on=date(2026, 3, 5))
    with pytest.raises(DomainError):
        settle_claims(_statement([claim]), [], at=_at(date(2026, 4, 1)), actor="finance:F")


def test_a_statement_is_issued_only_after_its_period(make_claim) -> None:
    with pytest.raises(DomainError):
        build_statement(
            statement_id="ST",
            dealer_id="D-1",
            period_start=MARCH[0],
            period_end=MARCH[1],
            issued_on=date(2026, 3, 30),
            claims=[],
            returns={},
        )


def test_the_csv_export_lists_claims_deductions_and_totals(make_claim) -> None:
    claim = _approved(make_claim, "CL-1", repaired_on=date(2026, 2, 2), approved_on=date(2026, 3, 5))
    rows = list(csv.DictReader(io.StringIO(statement_to_csv(_statement([claim])))))
    assert [(r["kind"], r["claim_id"], r["amount"]) for r in rows] == [
        ("claim", "CL-1", "272.50"),
        ("deduction", "CL-1", "-180.00"),
        ("total_approved", "", "272.50"),
        ("total_deducted", "", "-180.00"),
        ("net", "", "92.50"),
    ]
    assert {r["statement_id"] for r in rows} == {"ST-03"}
    assert rows[1]["old_part_serial"] == "OLD-CL-1"


def test_the_json_export_uses_decimal_strings_and_iso_dates(make_claim) -> None:
    claim = _approved(make_claim, "CL-1", repaired_on=date(2026, 2, 2), approved_on=date(2026, 3, 5))
    document = statement_to_json(_statement([claim]))
    assert json.loads(json.dumps(document)) == document
    assert document["period_start"] == "2026-03-01"
    assert document["claims"] == [
        {
            "claim_id": "CL-1",
            "serial": "SN-1",
            "work_order_id": "WO-CL-1",
            "approved_on": "2026-03-05",
            "claimed": {"amount": "272.50", "currency": "EUR"},
            "approved": {"amount": "272.50", "currency": "EUR"},
        }
    ]
    assert document["totals"] == [
        {"currency": "EUR", "approved": "272.50", "deducted": "180.00", "net": "92.50"}
    ]


# --- the schedule ----------------------------------------------------------------------------------

MONTHLY = SettlementSchedule()


def test_monthly_statements_of_january_are_issued_on_the_1st_of_february() -> None:
    january = MONTHLY.period_containing(date(2026, 1, 17))
    assert january == SettlementPeriod(date(2026, 1, 1), date(2026, 1, 31))
    assert MONTHLY.issue_at(january) == datetime(2026, 2, 1, 2, 0, tzinfo=UTC)
    assert MONTHLY.following(january) == SettlementPeriod(date(2026, 2, 1), date(2026, 2, 28))


def test_the_next_run_is_the_period_just_ended_until_its_issue_time_passes() -> None:
    january = SettlementPeriod(date(2026, 1, 1), date(2026, 1, 31))
    february = SettlementPeriod(date(2026, 2, 1), date(2026, 2, 28))
    assert MONTHLY.next_due(datetime(2026, 2, 1, 2, 0, tzinfo=UTC)) == january
    assert MONTHLY.next_due(datetime(2026, 2, 1, 2, 1, tzinfo=UTC)) == february
    assert MONTHLY.next_due(datetime(2026, 1, 20, 12, 0, tzinfo=UTC)) == january


def test_quarterly_statements_on_the_5th_cover_calendar_quarters() -> None:
    quarterly = SettlementSchedule(period_months=3, issue_day=5)
    q2 = quarterly.period_containing(date(2026, 5, 20))
    assert q2 == SettlementPeriod(date(2026, 4, 1), date(2026, 6, 30))
    assert quarterly.issue_at(q2) == datetime(2026, 7, 5, 2, 0, tzinfo=UTC)
    assert quarterly.following(SettlementPeriod(date(2026, 10, 1), date(2026, 12, 31))) == SettlementPeriod(
        date(2027, 1, 1), date(2027, 3, 31)
    )


@pytest.mark.parametrize(("months", "day"), [(5, 1), (1, 29), (1, 0)])
def test_a_schedule_needs_whole_parts_of_a_year_and_a_day_every_month_has(months: int, day: int) -> None:
    with pytest.raises(DomainError):
        SettlementSchedule(period_months=months, issue_day=day)


# --- finance approval --------------------------------------------------------------------------------


def test_a_statement_paying_more_than_the_limit_waits_for_finance_and_one_at_the_limit_does_not(
    make_claim,
) -> None:
    statement = _statement(
        [_approved(make_claim, "A", repaired_on=date(2026, 3, 2), approved_on=date(2026, 3, 3))]
    )
    net = statement.total("EUR").net.amount
    assert needs_finance_approval(statement, net - Decimal("0.01"))
    assert not needs_finance_approval(statement, net)
    assert not needs_finance_approval(statement, None)


def test_the_limit_applies_to_what_is_paid_after_deductions(make_claim) -> None:
    claim = _approved(make_claim, "A", repaired_on=date(2026, 3, 1), approved_on=date(2026, 3, 2))
    statement = _statement([claim])  # the old part, due 31 March, never came back
    total = statement.total("EUR")
    assert total.deducted.amount > 0
    assert not needs_finance_approval(statement, total.net.amount)
    assert needs_finance_approval(statement, total.net.amount - Decimal("0.01"))


def test_whoever_prepared_a_statement_cannot_approve_it() -> None:
    with pytest.raises(Forbidden):
        check_approver(prepared_by="finance-ann", approver="finance-ann")
    check_approver(prepared_by="finance-ann", approver="finance-bob")
    check_approver(prepared_by="warranty", approver="finance-ann")


def test_a_held_statement_reads_back_from_its_json_unchanged(make_claim) -> None:
    claim = _approved(make_claim, "A", repaired_on=date(2026, 3, 1), approved_on=date(2026, 3, 2))
    statement = _statement([claim])
    assert statement_from_json(json.loads(json.dumps(statement_to_json(statement)))) == statement
