from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import pytest

from dispatch.domain.billing import Billing
from dispatch.domain.network import (
    DEFAULT_SERVICE_LEVELS,
    CentreKind,
    GradeServiceLevels,
    RegionGrade,
    ServiceCentre,
    ServiceLevelPolicy,
)
from dispatch.domain.sla import compute_deadlines
from dispatch.domain.values import Actor, Priority, Role, WorkOrderType
from dispatch.domain.work_orders import Site, WorkOrder
from kit.calendar import BusinessCalendar
from kit.domain import DomainError

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # a Tuesday
DISPATCHER = Actor("dispatcher-1", Role.DISPATCHER)
TECH = Actor("tech-1", Role.TECHNICIAN)


@pytest.mark.parametrize(
    ("grade", "on_site_within"),
    [
        (RegionGrade.A, timedelta(hours=2)),
        (RegionGrade.B, timedelta(hours=24)),
        (RegionGrade.C, timedelta(hours=24)),
    ],
)
def test_engineer_on_site_deadline_follows_the_region_grade(
    grade: RegionGrade,
    on_site_within: timedelta,
    new_order: Callable[..., WorkOrder],
    make_site: Callable[..., Site],
) -> None:
    order = new_order(site=make_site(grade))
    assert order.deadlines.on_site_by == T0 + on_site_within


def test_priority_requests_are_arranged_within_30_minutes_normal_ones_within_2_hours(
    new_order: Callable[..., WorkOrder],
) -> None:
    assert new_order(priority=Priority.URGENT).deadlines.arrange_by == T0 + timedelta(minutes=30)
    assert new_order(priority=Priority.HIGH).deadlines.arrange_by == T0 + timedelta(minutes=30)
    assert new_order(priority=Priority.NORMAL).deadlines.arrange_by == T0 + timedelta(hours=2)
    assert new_order().deadlines.supervisor_check_at == T0 + timedelta(hours=4)


def test_premium_grade_repair_is_fixed_within_4_hours_of_arrival(
    new_order: Callable[..., WorkOrder], make_site: Callable[..., Site]
) -> None:
    from dispatch.domain.appointments import Appointment

    order = new_order(site=make_site(RegionGrade.A))
    assert order.premium
    assert order.deadlines.fix_by is None
    order.assign("tech-1", Appointment.at(T0 + timedelta(hours=1), 60), at=T0, actor=DISPATCHER)
    order.accept(at=T0, actor=TECH)
    order.start_travel(at=T0, actor=TECH)
    order.arrive(at=T0 + timedelta(minutes=75), actor=TECH)
    assert order.deadlines.fix_by == T0 + timedelta(minutes=75 + 240)


def test_standard_repair_is_fixed_within_48_hours_of_opening(new_order: Callable[..., WorkOrder]) -> None:
    order = new_order()
    assert not order.premium
    assert order.deadlines.fix_by == T0 + timedelta(hours=48)


def test_premium_contract_makes_a_standard_region_repair_premium(new_order: Callable[..., WorkOrder]) -> None:
    order = new_order(billing=Billing.contract("c-1", premium=True))
    assert order.premium
    assert order.deadlines.on_site_by == T0 + timedelta(hours=24)
    assert order.deadlines.fix_by is None


def test_entitlement_arriving_later_tightens_the_fix_deadline(new_order: Callable[..., WorkOrder]) -> None:
    order = new_order(billing=None)
    order.apply_entitlement(
        Billing.contract("c-1", premium=True), at=T0 + timedelta(minutes=3), actor=DISPATCHER
    )
    assert order.premium


def test_a_dealer_who_receives_a_task_arranges_it_within_2_hours(new_order: Callable[..., WorkOrder]) -> None:
    order = new_order(priority=Priority.HIGH)
    handed = T0 + timedelta(minutes=20)
    order.hand_to_dealer(
        dealer_id="dealer-9",
        centre_id="sp-9",
        reason="no own technician in time",
        at=handed,
        actor=DISPATCHER,
    )
    assert order.deadlines.arrange_by == handed + timedelta(hours=2)


def test_remote_support_escalates_after_4_hours_and_has_no_on_site_deadline(
    new_order: Callable[..., WorkOrder],
) -> None:
    order = new_order(type=WorkOrderType.REMOTE_SUPPORT)
    assert order.deadlines.remote_escalation_at == T0 + timedelta(hours=4)
    assert order.deadlines.on_site_by is None


def test_service_levels_are_configuration() -> None:
    policy = ServiceLevelPolicy(
        grades={
            RegionGrade.A: GradeServiceLevels(timedelta(hours=1), premium=True),
            RegionGrade.B: GradeServiceLevels(timedelta(hours=8)),
            RegionGrade.C: GradeServiceLevels(timedelta(hours=48)),
        },
        arrange_normal_within=timedelta(hours=1),
    )
    deadlines = compute_deadlines(policy, opened_at=T0, grade=RegionGrade.C, priority=Priority.NORMAL)
    assert deadlines.on_site_by == T0 + timedelta(hours=48)
    assert deadlines.arrange_by == T0 + timedelta(hours=1)
    with pytest.raises(DomainError):
        ServiceLevelPolicy(grades={RegionGrade.A: GradeServiceLevels(timedelta(hours=1))})


def test_working_time_targets_skip_the_night_on_the_centres_calendar() -> None:
    office = BusinessCalendar("Europe/Paris", dict.fromkeys(range(5), (time(8), time(18))))
    policy = ServiceLevelPolicy(count_working_time_only=True)
    friday_evening = datetime(2026, 3, 13, 16, 0, tzinfo=UTC)  # 17:00 in Paris, one working hour left
    deadlines = compute_deadlines(
        policy, opened_at=friday_evening, grade=RegionGrade.B, priority=Priority.NORMAL, calendar=office
    )
    # one hour on Friday, the second on Monday from 08:00 Paris (07:00 UTC)
    assert deadlines.arrange_by == datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
    wall_clock = compute_deadlines(
        DEFAULT_SERVICE_LEVELS,
        opened_at=friday_evening,
        grade=RegionGrade.B,
        priority=Priority.NORMAL,
        calendar=office,
    )
    assert wall_clock.arrange_by == friday_evening + timedelta(hours=2)


def test_an_authorised_service_point_belongs_to_a_dealer() -> None:
    with pytest.raises(DomainError):
        ServiceCentre("sp-1", "Dealer point", CentreKind.SERVICE_POINT, frozenset({"r"}))
    point = ServiceCentre("sp-1", "Dealer point", CentreKind.SERVICE_POINT, frozenset({"r"}), dealer_id="d-1")
    assert point.is_dealer
    with pytest.raises(DomainError):
        ServiceCentre("rc-1", "Regional", CentreKind.REGIONAL_CENTRE, frozenset({"r"}), dealer_id="d-1")
