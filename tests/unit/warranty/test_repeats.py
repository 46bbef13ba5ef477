from __future__ import annotations

from datetime import date, timedelta

from warranty.domain.policy import RepeatFailureRule
from warranty.domain.repeats import (
    RepairEvent,
    first_replacement_eligibility,
    repairs_in_window,
    replacement_earned_by,
)

RULE = RepeatFailureRule()
FIRST = date(2026, 3, 1)


def _repair(day: int, fault: str = "E4", work_order: str | None = None) -> RepairEvent:
    return RepairEvent(FIRST + timedelta(days=day), fault, work_order or f"WO-{fault}-{day}")


def test_third_repair_of_the_same_fault_on_day_30_earns_replacement() -> None:
    earned = replacement_earned_by([_repair(0), _repair(12)], _repair(30), RULE)
    assert earned is not None
    assert earned.fault_code == "E4"
    assert earned.repairs_counted == 3
    assert earned.first_repair_on == FIRST
    assert earned.earned_on == date(2026, 3, 31)


def test_third_repair_of_the_same_fault_on_day_31_does_not_earn_replacement() -> None:
    assert replacement_earned_by([_repair(0), _repair(12)], _repair(31), RULE) is None


def test_second_repair_does_not_earn_replacement() -> None:
    assert replacement_earned_by([_repair(0)], _repair(1), RULE) is None


def test_repairs_of_other_faults_do_not_count() -> None:
    assert replacement_earned_by([_repair(0, "E4"), _repair(5, "E7")], _repair(10, "E4"), RULE) is None


def test_a_work_order_reported_twice_counts_once() -> None:
    history = [_repair(0, work_order="WO-1"), _repair(0, work_order="WO-1")]
    assert replacement_earned_by(history, _repair(5, work_order="WO-2"), RULE) is None
    assert replacement_earned_by([_repair(0, work_order="WO-1")], _repair(0, work_order="WO-1"), RULE) is None


def test_the_window_slides_so_the_first_repair_can_fall_out() -> None:
    history = [_repair(0), _repair(20), _repair(40)]
    assert replacement_earned_by(history[:2], history[2], RULE) is None
    earned = replacement_earned_by(history, _repair(50), RULE)
    assert earned is not None
    assert [r.repaired_on for r in earned.repairs] == [FIRST + timedelta(days=d) for d in (20, 40, 50)]


def test_repairs_on_the_same_day_both_count() -> None:
    same_day = [_repair(0, work_order="WO-1"), _repair(0, work_order="WO-2")]
    assert replacement_earned_by(same_day, _repair(0, work_order="WO-3"), RULE) is not None


def test_the_first_eligibility_in_a_history_is_found_per_fault() -> None:
    history = [_repair(0, "E7"), _repair(3), _repair(10), _repair(11, "E7"), _repair(25), _repair(26, "E7")]
    earned = first_replacement_eligibility(history, RULE)
    assert earned is not None
    assert earned.fault_code == "E4"
    assert earned.earned_on == FIRST + timedelta(days=25)
    e7 = first_replacement_eligibility(history, RULE, fault_code="E7")
    assert e7 is not None
    assert e7.earned_on == FIRST + timedelta(days=26)
    assert first_replacement_eligibility(history, RULE, fault_code="E9") is None


def test_the_repeat_rule_is_configuration() -> None:
    strict = RepeatFailureRule(repairs=2, within_days=7)
    assert replacement_earned_by([_repair(0)], _repair(7), strict) is not None
    assert replacement_earned_by([_repair(0)], _repair(8), strict) is None


def test_repairs_in_window_counts_from_day_minus_30_inclusive() -> None:
    history = [_repair(0), _repair(1), _repair(31)]
    window = repairs_in_window(history, fault_code="E4", ending_on=FIRST + timedelta(days=31), rule=RULE)
    assert [r.repaired_on for r in window] == [FIRST + timedelta(days=1), FIRST + timedelta(days=31)]
