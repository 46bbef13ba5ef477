"""Service-level deadlines of one work order, computed from its region grade and the policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.domain.calendar import ALWAYS_OPEN, WorkingCalendar
from dispatch.domain.network import FixClockStart, RegionGrade, ServiceLevelPolicy
from dispatch.domain.values import Priority, ensure_utc


@dataclass(frozen=True)
class SlaDeadlines:
    """When each promise falls due. ``None`` where the clock has not started (no on-site deadline while a
    job is handled remotely; no premium fix deadline before the technician arrives)."""

    arrange_by: datetime
    supervisor_check_at: datetime
    on_site_by: datetime | None
    fix_by: datetime | None
    remote_escalation_at: datetime | None
    premium: bool


def compute_deadlines(
    policy: ServiceLevelPolicy,
    *,
    opened_at: datetime,
    grade: RegionGrade,
    priority: Priority,
    premium_contract: bool = False,
    remote: bool = False,
    on_site_clock_from: datetime | None = None,
    dealer_received_at: datetime | None = None,
    arrived_at: datetime | None = None,
    planned_until: datetime | None = None,
    calendar: WorkingCalendar = ALWAYS_OPEN,
) -> SlaDeadlines:
    """The deadlines for a work order opened at ``opened_at``.

    ``on_site_clock_from`` moves the start of the arranging and on-site clocks (a remote case escalated to
    on site starts them at the escalation); ``dealer_received_at`` gives a job handed to a dealer its own
    time to arrange it. ``planned_until`` marks planned work (a maintenance visit weeks ahead): it is due
    on site by then, and must be arranged a day before (but not sooner than a request would be).
    """

    def after(start: datetime, duration: timedelta) -> datetime:
        start = ensure_utc(start)
        if policy.count_working_time_only:
            return ensure_utc(calendar.add_working_time(start, duration))
        return start + duration

    levels = policy.for_grade(grade)
    within_normal = policy.arrange_normal_within
    premium = levels.premium or premium_contract
    # an escalated remote case is a new on-site request: arranging and the on-site clock start again
    requested_at = on_site_clock_from or opened_at
    if dealer_received_at is not None:
        arrange_by = after(dealer_received_at, policy.dealer_arranges_within)
    else:
        within = policy.arrange_priority_within if priority.is_priority else policy.arrange_normal_within
        arrange_by = after(requested_at, within)

    on_site_by = None if remote else after(requested_at, levels.on_site_within)
    supervisor_check_at = after(requested_at, policy.supervisor_check_after)
    if planned_until is not None and not remote:
        planned_until = ensure_utc(planned_until)
        on_site_by = planned_until
        arrange_by = max(arrange_by, planned_until - timedelta(days=1))
        supervisor_check_at = max(
            supervisor_check_at, arrange_by + policy.supervisor_check_after - within_normal
        )

    fix_within = policy.premium_fix_within if premium else policy.standard_fix_within
    fix_clock = policy.premium_fix_clock if premium else policy.standard_fix_clock
    fix_from = opened_at if fix_clock is FixClockStart.OPENING else arrived_at
    fix_by = None if remote or fix_from is None else after(fix_from, fix_within)

    return SlaDeadlines(
        arrange_by=arrange_by,
        supervisor_check_at=supervisor_check_at,
        on_site_by=on_site_by,
        fix_by=fix_by,
        remote_escalation_at=after(opened_at, policy.remote_support_escalates_after) if remote else None,
        premium=premium,
    )
