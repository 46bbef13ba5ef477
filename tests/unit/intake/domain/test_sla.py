from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from intake.domain.common import Actor
from intake.domain.contact_points import ServiceTier
from intake.domain.sla import (
    ClockKind,
    ClockOutcome,
    ClockState,
    EscalatedToSupervisor,
    SlaAtRisk,
    SlaBreached,
    TicketSla,
    TimerDecision,
    TimerPurpose,
)
from intake.domain.sla_policy import (
    PolicyKey,
    SlaPolicyBook,
    SlaRule,
    SlaTarget,
    TimeBasis,
    default_policy_book,
    minutes,
)
from intake.domain.sla_report import ReportDimension, compliance_report
from intake.domain.ticket_values import AckMethod, CancelReason, Channel, Priority, Resolution, TicketType
from intake.domain.tickets import Ticket
from kit.calendar import BusinessCalendar
from kit.domain import DomainError

T0 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Monday
BOOK = default_policy_book()
ALWAYS = BusinessCalendar.always_open()
OFFICE = BusinessCalendar(
    timezone="Europe/Berlin", working_hours=dict.fromkeys(range(5), (time(8, 0), time(17, 0)))
)
NewTicket = Callable[..., Ticket]
K = ClockKind


def after(**delta: float) -> datetime:
    return T0 + timedelta(**delta)


def follow(ticket: Ticket, sla: TicketSla) -> None:
    """Feed the SLA the ticket's events, as the event handler does."""
    for event in ticket.pull_events():
        sla.observe(event)


def key(
    channel: Channel = Channel.EMAIL,
    type_: TicketType = TicketType.REPAIR,
    priority: Priority = Priority.NORMAL,
    tier: ServiceTier | None = None,
) -> PolicyKey:
    return PolicyKey(channel, type_, priority, tier)


# --- policies ------------------------------------------------------------------------------------


def test_defaults_answer_any_request_in_10_minutes_and_resolve_in_48_hours() -> None:
    policy = BOOK.policy_for(key(channel=Channel.WEB))
    assert policy.targets[K.ACKNOWLEDGE] == SlaTarget(timedelta(minutes=10), TimeBasis.WORKING)
    assert policy.targets[K.FIRST_RESPONSE] == SlaTarget(timedelta(minutes=10), TimeBasis.WORKING)
    assert policy.targets[K.RESOLVE] == SlaTarget(timedelta(hours=48))
    assert K.SUPERVISOR_REVIEW not in policy.targets


def test_fax_is_acknowledged_within_5_minutes_and_email_picked_up_within_10() -> None:
    assert BOOK.policy_for(key(channel=Channel.FAX)).targets[K.ACKNOWLEDGE].duration == timedelta(minutes=5)
    email = BOOK.policy_for(key(channel=Channel.EMAIL))
    assert email.targets[K.ACKNOWLEDGE].duration == timedelta(minutes=10)
    assert email.rule_names[K.ACKNOWLEDGE] == "email picked up within 10 minutes"


def test_premium_tier_resolves_faster_but_a_complaint_rule_outranks_the_tier() -> None:
    assert BOOK.policy_for(key(tier=ServiceTier.A)).targets[K.RESOLVE].duration == timedelta(hours=6)
    complaint = BOOK.policy_for(key(channel=Channel.FAX, type_=TicketType.COMPLAINT, tier=ServiceTier.A))
    assert complaint.targets[K.ACKNOWLEDGE].duration == timedelta(minutes=5)  # from the fax rule
    assert complaint.targets[K.FIRST_RESPONSE].duration == timedelta(hours=24)
    assert complaint.targets[K.RESOLVE].duration == timedelta(days=30)
    assert complaint.targets[K.SUPERVISOR_REVIEW].duration == timedelta(days=2)


def test_most_specific_rule_wins_per_target() -> None:
    book = SlaPolicyBook(
        (
            SlaRule("base", {K.RESOLVE: SlaTarget(timedelta(hours=48))}),
            SlaRule(
                "urgent email",
                {K.RESOLVE: SlaTarget(timedelta(hours=8))},
                channel=Channel.EMAIL,
                priority=Priority.URGENT,
            ),
            SlaRule("gold", {K.RESOLVE: SlaTarget(timedelta(hours=4))}, tier=ServiceTier.A),
            SlaRule(
                "gold installs",
                {K.RESOLVE: SlaTarget(timedelta(hours=24))},
                tier=ServiceTier.A,
                type=TicketType.INSTALLATION,
            ),
        )
    )

    def resolve_in(k: PolicyKey) -> str:
        return book.policy_for(k).rule_names[K.RESOLVE]

    assert resolve_in(key(priority=Priority.URGENT)) == "urgent email"
    assert resolve_in(key(priority=Priority.URGENT, tier=ServiceTier.A)) == "gold"
    assert resolve_in(key(type_=TicketType.INSTALLATION, tier=ServiceTier.A)) == "gold installs"
    assert resolve_in(key(channel=Channel.FAX, priority=Priority.URGENT)) == "base"


def test_two_rules_for_the_same_tickets_and_a_bad_threshold_are_refused() -> None:
    with pytest.raises(DomainError, match="name the same tickets"):
        SlaPolicyBook((SlaRule("a", {}, channel=Channel.FAX), SlaRule("b", {}, channel=Channel.FAX)))
    with pytest.raises(DomainError, match="threshold"):
        SlaPolicyBook((), at_risk_ratio=1.0)


# --- clocks --------------------------------------------------------------------------------------


def test_fax_on_friday_afternoon_is_due_monday_morning_across_the_clock_change(new_ticket: NewTicket) -> None:
    friday = datetime(2026, 3, 27, 16, 58, tzinfo=ZoneInfo("Europe/Berlin"))
    sla = TicketSla.start(new_ticket(channel=Channel.FAX, at=friday), BOOK, OFFICE)
    # 2 working minutes on Friday, 3 more from Monday's opening at 08:00 CEST (06:00 UTC).
    assert sla.clocks[K.ACKNOWLEDGE].due_at == datetime(2026, 3, 30, 6, 3, tzinfo=UTC)
    sunday = sla.clock_report(K.ACKNOWLEDGE, datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
    assert (sunday.outcome, sunday.counted) == (
        ClockOutcome.ON_TRACK,
        timedelta(minutes=2),
    )  # the weekend is free
    assert sla.clocks[K.ACKNOWLEDGE].at_risk_at == datetime(2026, 3, 30, 6, 2, tzinfo=UTC)


def test_hotline_ticket_opened_by_an_agent_has_met_its_response_targets(new_ticket: NewTicket) -> None:
    ticket = new_ticket(channel=Channel.PHONE, actor=Actor.user("anna"))
    sla = TicketSla.start(ticket, BOOK, ALWAYS)
    assert sla.clocks[K.ACKNOWLEDGE].state is ClockState.MET
    assert sla.clocks[K.FIRST_RESPONSE].state is ClockState.MET
    assert K.TECHNICIAN_CONTACT not in sla.clocks  # nobody needs to go on site


def test_technician_must_call_within_5_minutes_of_a_hotline_ticket_for_an_on_site_job(
    new_ticket: NewTicket,
) -> None:
    sla = TicketSla.start(
        new_ticket(channel=Channel.PHONE, needs_on_site=True, actor=Actor.user("a")), BOOK, ALWAYS
    )
    assert sla.clocks[K.TECHNICIAN_CONTACT].due_at == after(minutes=5)
    sla.technician_contacted(after(minutes=4))
    assert sla.clock_report(K.TECHNICIAN_CONTACT, after(hours=1)).outcome is ClockOutcome.MET


def test_waiting_on_the_customer_pauses_the_clock_and_resuming_moves_the_due_time(
    new_ticket: NewTicket, agent: Actor
) -> None:
    ticket = new_ticket(channel=Channel.PHONE, actor=agent)
    sla = TicketSla.start(ticket, BOOK, ALWAYS)
    follow(ticket, sla)
    assert sla.clocks[K.RESOLVE].due_at == after(hours=48)
    ticket.start_work(actor=agent, at=after(hours=1))
    ticket.wait_for_customer(actor=agent, at=after(hours=10), reason="needs the serial number")
    follow(ticket, sla)
    paused = sla.clock_report(K.RESOLVE, after(hours=30))
    assert (paused.state, paused.due_at, paused.counted) == (ClockState.PAUSED, None, timedelta(hours=10))
    ticket.record_customer_message(at=after(hours=34), via=Channel.EMAIL, summary="serial: X1")
    follow(ticket, sla)
    assert sla.clocks[K.RESOLVE].due_at == after(hours=72)  # 24 hours of waiting added
    assert sla.clock_report(K.RESOLVE, after(hours=40)).counted == timedelta(hours=16)


def test_pause_in_working_time_shifts_the_due_time_by_working_hours_only(new_ticket: NewTicket) -> None:
    calendar_rules = SlaPolicyBook(
        (SlaRule("base", {K.RESOLVE: SlaTarget(timedelta(hours=4), TimeBasis.WORKING)}),)
    )
    ticket = new_ticket(
        channel=Channel.PHONE, actor=Actor.user("a"), at=datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
    )
    sla = TicketSla.start(ticket, calendar_rules, OFFICE)  # 14:00 Berlin on a Monday
    assert sla.clocks[K.RESOLVE].due_at == datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # 3 h today + 1 h Tuesday
    ticket.start_work(actor=Actor.user("a"), at=datetime(2026, 3, 9, 13, 0, tzinfo=UTC))
    ticket.wait_for_customer(actor=Actor.user("a"), at=datetime(2026, 3, 9, 15, 0, tzinfo=UTC), reason="r")
    ticket.resume(actor=Actor.user("a"), at=datetime(2026, 3, 10, 9, 0, tzinfo=UTC))  # Tuesday 10:00 Berlin
    follow(ticket, sla)
    # 2 working hours counted before the pause; the remaining 2 run from Tuesday 10:00 to 12:00 Berlin.
    assert sla.clocks[K.RESOLVE].due_at == datetime(2026, 3, 10, 11, 0, tzinfo=UTC)


def test_clock_is_at_risk_from_80_percent_of_the_target(new_ticket: NewTicket) -> None:
    sla = TicketSla.start(new_ticket(), BOOK, ALWAYS)
    assert sla.clock_report(K.ACKNOWLEDGE, after(minutes=7, seconds=59)).outcome is ClockOutcome.ON_TRACK
    assert sla.clock_report(K.ACKNOWLEDGE, after(minutes=8)).outcome is ClockOutcome.AT_RISK
    assert sla.clock_report(K.ACKNOWLEDGE, after(minutes=10)).outcome is ClockOutcome.BREACHED
    at_risk = [t for t in sla.timers() if t.kind is K.ACKNOWLEDGE and t.purpose is TimerPurpose.AT_RISK]
    assert [t.due_at for t in at_risk] == [after(minutes=8)]


def test_at_risk_threshold_is_configuration(new_ticket: NewTicket) -> None:
    sla = TicketSla.start(new_ticket(), SlaPolicyBook(BOOK.rules, at_risk_ratio=0.5), ALWAYS)
    assert sla.clocks[K.ACKNOWLEDGE].at_risk_at == after(minutes=5)


def test_at_risk_timer_warns_once(new_ticket: NewTicket) -> None:
    ticket = new_ticket()
    sla = TicketSla.start(ticket, BOOK, ALWAYS)
    timer = next(t for t in sla.timers() if t.kind is K.ACKNOWLEDGE and t.purpose is TimerPurpose.AT_RISK)
    assert sla.on_timer(timer, after(minutes=8)) is TimerDecision.WARNED
    assert sla.on_timer(timer, after(minutes=8, seconds=1)) is TimerDecision.STALE
    warnings = [e for e in sla.pull_events() if isinstance(e, SlaAtRisk)]
    assert [(w.kind, w.remaining, w.due_at) for w in warnings] == [
        (K.ACKNOWLEDGE, timedelta(minutes=2), after(minutes=10))
    ]
    assert timer not in sla.timers()


def test_breach_escalates_to_the_supervisor_once(new_ticket: NewTicket) -> None:
    sla = TicketSla.start(new_ticket(), BOOK, ALWAYS)
    timer = next(t for t in sla.timers() if t.kind is K.FIRST_RESPONSE and t.purpose is TimerPurpose.BREACH)
    assert sla.on_timer(timer, after(minutes=10)) is TimerDecision.BREACHED
    assert sla.on_timer(timer, after(minutes=11)) is TimerDecision.STALE  # a replayed timer
    events = sla.pull_events()
    breaches = [e for e in events if isinstance(e, SlaBreached)]
    escalations = [e for e in events if isinstance(e, EscalatedToSupervisor)]
    assert [(b.kind, b.due_at, b.overdue) for b in breaches] == [
        (K.FIRST_RESPONSE, after(minutes=10), timedelta(0))
    ]
    assert [(e.to, e.reason) for e in escalations] == [
        ("supervisor", "no first response within 10 working minutes")
    ]


def test_timer_made_stale_by_a_met_target_does_nothing(new_ticket: NewTicket, agent: Actor) -> None:
    ticket = new_ticket()
    sla = TicketSla.start(ticket, BOOK, ALWAYS)
    breach = next(t for t in sla.timers() if t.kind is K.FIRST_RESPONSE and t.purpose is TimerPurpose.BREACH)
    ticket.reply_to_customer(actor=agent, at=after(minutes=6), body="On it", via=Channel.EMAIL)
    follow(ticket, sla)
    assert sla.on_timer(breach, after(minutes=10)) is TimerDecision.STALE
    assert sla.pull_events() == []
    assert {t.kind for t in sla.timers()} == {K.RESOLVE}


def test_timer_made_stale_by_a_pause_fires_again_at_the_new_due_time(
    new_ticket: NewTicket, agent: Actor
) -> None:
    ticket = new_ticket(channel=Channel.PHONE, actor=agent)
    sla = TicketSla.start(ticket, BOOK, ALWAYS)
    old = next(t for t in sla.timers() if t.kind is K.RESOLVE and t.purpose is TimerPurpose.BREACH)
    ticket.start_work(actor=agent, at=after(hours=1))
    ticket.wait_for_customer(actor=agent, at=after(hours=2), reason="r")
    follow(ticket, sla)
    assert sla.on_timer(old, after(hours=48)) is TimerDecision.STALE  # paused: nothing runs
    ticket.resume(actor=agent, at=after(hours=50))
    follow(ticket, sla)
    assert sla.on_timer(old, after(hours=50)) is TimerDecision.STALE  # due moved out to 96 h
    new = next(t for t in sla.timers() if t.kind is K.RESOLVE and t.purpose is TimerPurpose.BREACH)
    assert new.due_at == after(hours=96)
    assert sla.on_timer(new, new.due_at) is TimerDecision.BREACHED


def test_met_exactly_at_the_due_time_is_on_time_and_a_minute_later_is_a_breach(new_ticket: NewTicket) -> None:
    on_time, late = new_ticket(), new_ticket()
    on_time_sla, late_sla = TicketSla.start(on_time, BOOK, ALWAYS), TicketSla.start(late, BOOK, ALWAYS)
    on_time.acknowledge(actor=Actor.system(), at=after(minutes=10), method=AckMethod.AUTO_EMAIL)
    late.acknowledge(actor=Actor.system(), at=after(minutes=11), method=AckMethod.AUTO_EMAIL)
    follow(on_time, on_time_sla)
    follow(late, late_sla)
    assert on_time_sla.clock_report(K.ACKNOWLEDGE, after(days=1)).outcome is ClockOutcome.MET
    assert late_sla.clock_report(K.ACKNOWLEDGE, after(days=1)).outcome is ClockOutcome.BREACHED


def test_complaint_unresolved_after_2_days_goes_to_the_supervisor(
    new_ticket: NewTicket, agent: Actor
) -> None:
    complaint = new_ticket(type=TicketType.COMPLAINT, channel=Channel.PHONE, actor=agent)
    sla = TicketSla.start(complaint, BOOK, ALWAYS)
    review = next(
        t for t in sla.timers() if t.kind is K.SUPERVISOR_REVIEW and t.purpose is TimerPurpose.BREACH
    )
    assert review.due_at == after(days=2)
    complaint.start_work(actor=agent, at=after(hours=1))
    complaint.wait_for_customer(actor=agent, at=after(hours=2), reason="asked for photos")
    follow(complaint, sla)  # waiting on the customer does not hold off the supervisor
    assert sla.on_timer(review, after(days=2)) is TimerDecision.BREACHED
    escalation = next(e for e in sla.pull_events() if isinstance(e, EscalatedToSupervisor))
    assert (escalation.kind, escalation.reason) == (K.SUPERVISOR_REVIEW, "unresolved after 2 days")


def test_complaint_resolved_within_2_days_never_reaches_the_supervisor(
    new_ticket: NewTicket, agent: Actor
) -> None:
    complaint = new_ticket(type=TicketType.COMPLAINT, channel=Channel.PHONE, actor=agent)
    sla = TicketSla.start(complaint, BOOK, ALWAYS)
    review = next(t for t in sla.timers() if t.kind is K.SUPERVISOR_REVIEW)
    complaint.resolve(actor=agent, at=after(days=1), resolution=Resolution.COMPLAINT_RESOLVED)
    follow(complaint, sla)
    assert sla.on_timer(review, after(days=2)) is TimerDecision.STALE
    assert sla.pull_events() == []


def test_reopened_ticket_counts_on_from_where_resolution_stopped(new_ticket: NewTicket, agent: Actor) -> None:
    ticket = new_ticket(channel=Channel.PHONE, actor=agent)
    sla = TicketSla.start(ticket, BOOK, ALWAYS)
    ticket.resolve(actor=agent, at=after(hours=20), resolution=Resolution.REPAIRED)
    ticket.reopen(actor=agent, at=after(hours=30), reason="fault is back")
    follow(ticket, sla)
    report = sla.clock_report(K.RESOLVE, after(hours=31))
    assert (report.state, report.counted, report.due_at) == (
        ClockState.RUNNING,
        timedelta(hours=21),
        after(hours=58),
    )


def test_priority_or_tier_change_retargets_running_clocks_keeping_time_counted(new_ticket: NewTicket) -> None:
    ticket = new_ticket()
    sla = TicketSla.start(ticket, BOOK, ALWAYS)
    sla.retarget(BOOK, key(tier=ServiceTier.A), after(hours=2))
    assert sla.clocks[K.RESOLVE].due_at == after(hours=6)
    assert sla.clocks[K.RESOLVE].at_risk_at == after(hours=4, minutes=48)


def test_cancelled_ticket_stops_its_clocks_and_leaves_no_timers(new_ticket: NewTicket, agent: Actor) -> None:
    ticket = new_ticket()
    sla = TicketSla.start(ticket, BOOK, ALWAYS)
    ticket.cancel(actor=agent, at=after(minutes=3), reason=CancelReason.DUPLICATE)
    follow(ticket, sla)
    assert {clock.state for clock in sla.clocks.values()} == {ClockState.CANCELLED}
    assert sla.timers() == []


# --- compliance ----------------------------------------------------------------------------------


def test_compliance_report_per_channel_and_agent_counts_decided_clocks(new_ticket: NewTicket) -> None:
    anna, ben = Actor.user("anna"), Actor.user("ben")
    slas: list[TicketSla] = []
    # Email: Anna replies in 5 min (met), Ben in 15 min (late); a third is still open after 20 min (breached).
    for replier, minute in ((anna, 5), (ben, 15), (None, None)):
        ticket = new_ticket(channel=Channel.EMAIL)
        sla = TicketSla.start(ticket, BOOK, ALWAYS)
        if replier is not None and minute is not None:
            ticket.reply_to_customer(actor=replier, at=after(minutes=minute), body="hi", via=Channel.EMAIL)
        follow(ticket, sla)
        slas.append(sla)
    # A fax nobody touched yet, 2 minutes in: on track.
    slas.append(TicketSla.start(new_ticket(channel=Channel.FAX), BOOK, ALWAYS))
    facts = [
        fact
        for sla in slas
        for fact in sla.facts(after(minutes=20) if sla is not slas[-1] else after(minutes=2))
    ]
    rows = compliance_report(facts, period_start=T0, period_end=after(days=1))
    first_response = {row.group: row for row in rows if row.kind is K.FIRST_RESPONSE}
    email = first_response[((ReportDimension.CHANNEL, "email"),)]
    assert (email.total, email.met_on_time, email.met_late, email.open_breached) == (3, 1, 1, 1)
    assert str(email.compliance_percent) == "33.3"
    fax = first_response[((ReportDimension.CHANNEL, "fax"),)]
    assert (fax.open_on_track, fax.compliance_percent) == (1, None)
    by_agent = compliance_report(
        facts, period_start=T0, period_end=after(days=1), group_by=[ReportDimension.AGENT]
    )
    agents = {row.group[0][1]: row for row in by_agent if row.kind is K.FIRST_RESPONSE}
    assert agents["anna"].met_on_time == 1
    assert agents["ben"].met_late == 1
    assert agents["unassigned"].total == 2


def test_compliance_report_counts_only_clocks_started_in_the_period(new_ticket: NewTicket) -> None:
    sla = TicketSla.start(new_ticket(), BOOK, ALWAYS)
    facts = sla.facts(after(hours=1))
    assert compliance_report(facts, period_start=after(days=1), period_end=after(days=2)) == []
    assert compliance_report(facts, period_start=T0, period_end=after(days=1))
    with pytest.raises(DomainError):
        compliance_report(facts, period_start=T0, period_end=T0)


def test_cancelled_clocks_are_left_out_of_compliance(new_ticket: NewTicket, agent: Actor) -> None:
    ticket = new_ticket()
    sla = TicketSla.start(ticket, BOOK, ALWAYS)
    ticket.cancel(actor=agent, at=after(minutes=1), reason=CancelReason.RAISED_IN_ERROR)
    follow(ticket, sla)
    assert compliance_report(sla.facts(after(days=3)), period_start=T0, period_end=after(days=1)) == []


def test_working_minutes_helper_counts_working_time() -> None:
    assert minutes(5).basis is TimeBasis.WORKING
