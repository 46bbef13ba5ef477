from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from kit.domain import DomainError, Money, NotFound
from warranty.domain.dates import add_months, day_number, last_day_within_days, require_utc, spoken_date
from warranty.domain.policy import (
    Exclusion,
    FaultCause,
    MaintenancePlan,
    OutOfWarrantyPricing,
    PartCost,
    ProductLine,
    ProductModel,
    StandardRepair,
    WarrantyPolicy,
    like_for_like_replacements,
    policy_in_force,
)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 3, 10), 24, date(2026, 3, 10)),
        (date(2024, 2, 29), 24, date(2026, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2023, 12, 31), 2, date(2024, 2, 29)),
        (date(2025, 8, 31), 24, date(2027, 8, 31)),
        (date(2025, 11, 15), -12, date(2024, 11, 15)),
    ],
)
def test_calendar_months_keep_the_day_or_clamp_to_a_shorter_month(
    start: date, months: int, expected: date
) -> None:
    assert add_months(start, months) == expected


def test_day_zero_is_the_start_date_and_a_15_day_window_ends_on_day_15() -> None:
    start = date(2026, 3, 1)
    assert day_number(start, start) == 0
    assert last_day_within_days(start, 15) == date(2026, 3, 16)
    assert day_number(start, date(2026, 3, 16)) == 15


def test_dates_are_spoken_in_words_whatever_the_locale() -> None:
    assert spoken_date(date(2026, 3, 10)) == "10 March 2026"


def test_naive_timestamps_are_refused_and_others_become_utc() -> None:
    with pytest.raises(DomainError):
        require_utc(datetime(2026, 1, 1, 9, 0))
    local = datetime(2026, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert require_utc(local) == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def test_policy_defaults_are_the_three_guarantees() -> None:
    policy = WarrantyPolicy("P", 1, date(2020, 1, 1), "AC")
    assert (policy.return_days, policy.exchange_days, policy.repair_months) == (15, 30, 24)
    assert policy.registration_days == 20
    assert (policy.repeat_failure.repairs, policy.repeat_failure.within_days) == (3, 30)
    assert policy.exclusions == frozenset(Exclusion)
    assert policy.covers_parts
    assert policy.covers_labour
    assert policy.covers_travel


def test_misuse_unauthorised_work_and_force_majeure_are_excluded() -> None:
    policy = WarrantyPolicy("P", 1, date(2020, 1, 1), "AC")
    assert policy.excludes(FaultCause.MISUSE) is Exclusion.MISUSE
    assert policy.excludes(FaultCause.UNAUTHORISED_REPAIR) is Exclusion.UNAUTHORISED_REPAIR_OR_MODIFICATION
    assert policy.excludes(FaultCause.MODIFICATION) is Exclusion.UNAUTHORISED_REPAIR_OR_MODIFICATION
    for cause in (FaultCause.FIRE, FaultCause.LIGHTNING, FaultCause.FLOOD):
        assert policy.excludes(cause) is Exclusion.FORCE_MAJEURE
    assert policy.excludes(FaultCause.PRODUCT_DEFECT) is None
    assert policy.excludes(FaultCause.INSTALLATION) is None


def test_a_line_can_drop_an_exclusion_by_configuration() -> None:
    lenient = WarrantyPolicy("P", 1, date(2020, 1, 1), "AC", exclusions=frozenset({Exclusion.MISUSE}))
    assert lenient.excludes(FaultCause.LIGHTNING) is None


def _versions() -> list[WarrantyPolicy]:
    return [
        WarrantyPolicy("AC-STD", 1, date(2020, 1, 1), "AC", repair_months=24),
        WarrantyPolicy("AC-STD", 2, date(2025, 7, 1), "AC", repair_months=36),
    ]


def test_a_unit_keeps_the_policy_in_force_on_its_sale_date() -> None:
    assert policy_in_force(_versions(), date(2025, 6, 30)).version == 1
    assert policy_in_force(_versions(), date(2025, 7, 1)).version == 2
    assert policy_in_force(_versions(), date(2026, 1, 1)).repair_months == 36


def test_no_policy_in_force_before_the_first_version_is_not_found() -> None:
    with pytest.raises(NotFound):
        policy_in_force(_versions(), date(2019, 12, 31))


def test_a_model_policy_overrides_its_line_and_other_lines_do_not_apply() -> None:
    model = ProductModel("AC-9000", "Big AC", "AC", "9kW")
    policies = [
        *_versions(),
        WarrantyPolicy("AC-9000", 1, date(2024, 1, 1), "AC", model_code="AC-9000", repair_months=60),
        WarrantyPolicy("WH-STD", 1, date(2020, 1, 1), "WH", repair_months=12),
    ]
    assert policy_in_force(policies, date(2026, 1, 1), model=model).policy_id == "AC-9000"
    assert policy_in_force(policies, date(2023, 1, 1), model=model).policy_id == "AC-STD"
    other = ProductModel("AC-2500", "Small AC", "AC", "2.5kW")
    assert policy_in_force(policies, date(2026, 1, 1), model=other).version == 2


def test_out_of_warranty_price_is_parts_at_cost_plus_labour_and_travel() -> None:
    pricing = OutOfWarrantyPricing(
        labour_rate_per_hour=eur("60.00"), travel_flat=eur("20.00"), travel_per_km=eur("0.50")
    )
    estimate = pricing.estimate(
        [PartCost("CMP-100", eur("180.00")), PartCost("FAN-20", eur("15.00"), 2)], 90, Decimal(10)
    )
    assert estimate.parts == eur("210.00")
    assert estimate.labour == eur("90.00")
    assert estimate.travel == eur("25.00")
    assert estimate.total == eur("325.00")


def test_a_parts_markup_is_configuration() -> None:
    pricing = OutOfWarrantyPricing(parts_markup=Decimal("0.10"))
    assert pricing.estimate([PartCost("P", eur("100.00"))], 0).parts == eur("110.00")


def test_pricing_refuses_amounts_in_another_currency() -> None:
    with pytest.raises(DomainError):
        OutOfWarrantyPricing(currency="USD")


def test_quarterly_maintenance_visits_run_while_under_warranty_without_month_end_drift() -> None:
    visits = MaintenancePlan(every_months=3).visit_dates(date(2025, 8, 31), add_months(date(2025, 8, 31), 24))
    assert len(visits) == 8
    assert visits[:3] == [date(2025, 11, 30), date(2026, 2, 28), date(2026, 5, 31)]
    assert visits[-1] == date(2027, 8, 31)


def test_like_for_like_replacement_is_the_same_line_and_grade() -> None:
    model = ProductModel("AC-3500", "AC", "AC", "3.5kW")
    catalogue = [
        model,
        ProductModel("AC-3500B", "AC newer", "AC", "3.5kW"),
        ProductModel("AC-5000", "AC bigger", "AC", "5kW"),
        ProductModel("HP-3500", "Heat pump", "HP", "3.5kW"),
    ]
    assert [m.code for m in like_for_like_replacements(model, catalogue)] == ["AC-3500", "AC-3500B"]


def test_a_model_standard_repair_overrides_the_line_standard() -> None:
    line = ProductLine(
        "AC", "AC", standard_repairs={"E4": StandardRepair("E4", 90), "E5": StandardRepair("E5", 30)}
    )
    model = ProductModel("AC-3500", "AC", "AC", "3.5kW", standard_repairs={"E4": StandardRepair("E4", 120)})
    assert (std := model.standard_repair("E4", line)) is not None
    assert std.standard_minutes == 120
    assert (std := model.standard_repair("E5", line)) is not None
    assert std.standard_minutes == 30
    assert model.standard_repair("E9", line) is None
