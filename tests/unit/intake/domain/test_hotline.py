from datetime import UTC, datetime, time, timedelta

import pytest

from intake.domain.callbacks import CallBackCompleted, CallBackStatus, CallBackTask
from intake.domain.common import Actor
from intake.domain.hotline import (
    Call,
    CallAnswered,
    CallDirection,
    CallEnded,
    CallMissed,
    CallOutcome,
    CtiEvent,
    CtiEventKind,
    HangupCause,
    HotlineSettings,
)
from kit.calendar import BusinessCalendar
from kit.domain import Conflict, DomainError

T0 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Monday
SETTINGS = HotlineSettings(callback_owner_by_queue={"service": "team-service"})
CALLER = "+49301234567"


def after(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def cti(
    kind: CtiEventKind,
    seconds: float,
    *,
    call_id: str = "c-1",
    cause: HangupCause | None = None,
    direction: CallDirection = CallDirection.IN,
    caller: str | None = "030 1234567",
    users: tuple[str, ...] = ("anna",),
    queue: str | None = None,
) -> CtiEvent:
    inbound = direction is CallDirection.IN
    return CtiEvent(
        kind=kind,
        call_id=call_id,
        direction=direction,
        at=after(seconds),
        from_number=caller if inbound else "0800 1234567",
        to_number="0800 1234567" if inbound else caller,
        users=users,
        queue=queue,
        cause=cause,
    )


def play(*events: CtiEvent, settings: HotlineSettings = SETTINGS) -> Call:
    call = Call.from_event(events[0], settings)
    for event in events[1:]:
        call.apply(event, settings)
    return call


def answered_call(ring_seconds: float) -> Call:
    return play(
        cti(CtiEventKind.NEW_CALL, 0),
        cti(CtiEventKind.ANSWER, ring_seconds),
        cti(CtiEventKind.HANGUP, ring_seconds + 120, cause=HangupCause.NORMAL_CLEARING),
    )


# --- the CTI shape -------------------------------------------------------------------------------


def test_generic_cti_form_fields_are_read_with_repeated_users() -> None:
    event = CtiEvent.from_params(
        {
            "event": "newCall",
            "from": "493055571600",
            "to": "4930123",
            "direction": "in",
            "callId": "abc",
            "user[]": ["Anna Agent", "Ben Agent"],
            "queue": "helpdesk",
        },
        received_at=T0,
    )
    assert (event.kind, event.call_id, event.direction, event.at) == (
        CtiEventKind.NEW_CALL,
        "abc",
        CallDirection.IN,
        T0,
    )
    assert event.users == ("Anna Agent", "Ben Agent")
    assert event.queue == "helpdesk"


def test_hangup_cause_and_pbx_timestamp_are_taken_and_unknown_causes_kept_as_unknown() -> None:
    hangup = CtiEvent.from_params(
        {"event": "hangup", "callId": "abc", "cause": "noAnswer", "timestamp": "2026-03-09T10:00:05+01:00"},
        received_at=after(99),
    )
    assert (hangup.cause, hangup.at, hangup.direction) == (HangupCause.NO_ANSWER, after(5), CallDirection.IN)
    odd = CtiEvent.from_params(
        {"event": "hangup", "callId": "abc", "cause": "gremlins", "timestamp": 1773046800},
        received_at=after(99),
    )
    assert (odd.cause, odd.at) == (HangupCause.UNKNOWN, T0)


@pytest.mark.parametrize(
    "params",
    [
        {"event": "ring", "callId": "a"},
        {"event": "newCall"},
        {"event": "newCall", "callId": "x" * 251},
        {"event": "answer", "callId": "a", "direction": "sideways"},
    ],
)
def test_malformed_cti_events_are_refused(params: dict[str, object]) -> None:
    with pytest.raises(DomainError) as refused:
        CtiEvent.from_params(params, received_at=T0)
    assert refused.value.code == "bad-cti-event"


# --- the three-ring target -----------------------------------------------------------------------


def test_call_answered_at_exactly_15_seconds_meets_the_three_ring_target() -> None:
    call = answered_call(15)
    assert call.outcome is CallOutcome.ANSWERED
    assert call.ring_time == timedelta(seconds=15)
    assert call.answered_within_target(SETTINGS) is True
    answered = [e for e in call.events if isinstance(e, CallAnswered)]
    assert [(a.agent, a.within_target) for a in answered] == [("anna", True)]
    assert not any(isinstance(e, CallMissed) for e in call.events)


def test_call_answered_at_16_seconds_misses_the_target_without_a_call_back() -> None:
    call = answered_call(16)
    assert call.answered_within_target(SETTINGS) is False
    assert not any(isinstance(e, CallMissed) for e in call.events)


def test_target_seconds_are_configuration() -> None:
    call = answered_call(16)
    assert call.answered_within_target(HotlineSettings(answer_target=timedelta(seconds=20))) is True


def test_caller_who_hangs_up_within_the_target_is_abandoned_not_counted_and_called_back() -> None:
    call = play(cti(CtiEventKind.NEW_CALL, 0), cti(CtiEventKind.HANGUP, 10, cause=HangupCause.CANCEL))
    assert call.outcome is CallOutcome.ABANDONED
    assert call.answered_within_target(SETTINGS) is None
    missed = next(e for e in call.events if isinstance(e, CallMissed))
    assert (missed.outcome, missed.customer_number, missed.ring_time) == (
        CallOutcome.ABANDONED,
        CALLER,
        timedelta(seconds=10),
    )
    assert (missed.callback_owner, missed.callback_due_at) == ("anna", after(10) + timedelta(hours=1))


def test_caller_who_waits_past_the_target_and_gives_up_counts_against_it() -> None:
    call = play(cti(CtiEventKind.NEW_CALL, 0), cti(CtiEventKind.HANGUP, 40, cause=HangupCause.CANCEL))
    assert (call.outcome, call.answered_within_target(SETTINGS)) == (CallOutcome.ABANDONED, False)


def test_unanswered_queue_call_is_missed_and_the_queue_owner_calls_back() -> None:
    call = play(
        cti(CtiEventKind.NEW_CALL, 0, users=("anna", "ben"), queue="service"),
        cti(CtiEventKind.HANGUP, 30, cause=HangupCause.NO_ANSWER),
    )
    assert (call.outcome, call.answered_within_target(SETTINGS)) == (CallOutcome.MISSED, False)
    missed = next(e for e in call.events if isinstance(e, CallMissed))
    assert missed.callback_owner == "team-service"
    task = CallBackTask.for_missed_call(missed)
    assert task is not None
    assert (task.number, task.owner, task.due_at, task.status) == (
        CALLER,
        "team-service",
        after(30) + timedelta(hours=1),
        CallBackStatus.OPEN,
    )


def test_withheld_number_is_reported_missed_but_gets_no_call_back_task() -> None:
    call = play(
        cti(CtiEventKind.NEW_CALL, 0, caller="anonymous"),
        cti(CtiEventKind.HANGUP, 20, cause=HangupCause.BUSY),
    )
    missed = next(e for e in call.events if isinstance(e, CallMissed))
    assert missed.caller_number == "anonymous"
    assert missed.customer_number is None
    assert CallBackTask.for_missed_call(missed) is None


def test_call_outside_working_hours_is_out_of_hours_and_due_after_opening() -> None:
    office = BusinessCalendar(timezone="UTC", working_hours=dict.fromkeys(range(5), (time(8), time(17))))
    settings = HotlineSettings(calendar=office)
    saturday = datetime(2026, 3, 14, 11, 0, tzinfo=UTC)
    call = play(
        CtiEvent(CtiEventKind.NEW_CALL, "c-9", CallDirection.IN, saturday, from_number="030 1234567"),
        CtiEvent(
            CtiEventKind.HANGUP,
            "c-9",
            CallDirection.IN,
            saturday + timedelta(seconds=30),
            cause=HangupCause.NO_ANSWER,
        ),
        settings=settings,
    )
    assert call.outcome is CallOutcome.OUT_OF_HOURS
    assert call.answered_within_target(settings) is None
    missed = next(e for e in call.events if isinstance(e, CallMissed))
    assert missed.callback_due_at == datetime(2026, 3, 16, 9, 0, tzinfo=UTC)  # Monday, an hour after opening


def test_unanswered_outbound_call_needs_no_call_back() -> None:
    call = play(
        cti(CtiEventKind.NEW_CALL, 0, direction=CallDirection.OUT),
        cti(CtiEventKind.HANGUP, 30, direction=CallDirection.OUT, cause=HangupCause.NO_ANSWER),
    )
    assert call.customer_number == CALLER
    assert not any(isinstance(e, CallMissed) for e in call.events)


# --- replays and disorder ------------------------------------------------------------------------


def test_replayed_events_change_nothing() -> None:
    events = (cti(CtiEventKind.NEW_CALL, 0), cti(CtiEventKind.HANGUP, 10, cause=HangupCause.CANCEL))
    call = play(*events)
    version, raised = call.version, list(call.events)
    assert not call.apply(events[0], SETTINGS)
    assert not call.apply(events[1], SETTINGS)
    assert (call.version, call.events) == (version, raised)
    assert sum(isinstance(e, CallMissed) for e in call.events) == 1


def test_hangup_that_overtakes_the_answer_is_reconciled_when_the_answer_arrives() -> None:
    call = play(
        cti(CtiEventKind.NEW_CALL, 0), cti(CtiEventKind.HANGUP, 60, cause=HangupCause.NORMAL_CLEARING)
    )
    assert call.outcome is CallOutcome.ANSWERED  # normal clearing: someone talked
    assert not any(isinstance(e, CallMissed | CallAnswered) for e in call.events)
    assert call.apply(cti(CtiEventKind.ANSWER, 12), SETTINGS)
    answered = next(e for e in call.events if isinstance(e, CallAnswered))
    assert (answered.ring_time, answered.within_target) == (timedelta(seconds=12), True)


def test_answer_received_after_the_hangup_is_dated_no_later_than_the_hangup() -> None:
    call = play(
        cti(CtiEventKind.NEW_CALL, 0),
        cti(CtiEventKind.HANGUP, 60, cause=HangupCause.NORMAL_CLEARING),
        cti(CtiEventKind.ANSWER, 61),
    )
    assert call.answered_at == after(60)


def test_answer_before_its_new_call_waits_for_the_ring_start() -> None:
    call = play(cti(CtiEventKind.ANSWER, 14))
    assert not any(isinstance(e, CallAnswered) for e in call.events)
    call.apply(cti(CtiEventKind.NEW_CALL, 0), SETTINGS)
    answered = next(e for e in call.events if isinstance(e, CallAnswered))
    assert (answered.started_at, answered.ring_time, answered.within_target) == (
        T0,
        timedelta(seconds=14),
        True,
    )


def test_late_new_call_never_makes_the_ring_negative() -> None:
    call = play(cti(CtiEventKind.ANSWER, 5), cti(CtiEventKind.NEW_CALL, 7))
    assert (call.started_at, call.ring_time) == (after(5), timedelta(0))


def test_answer_after_a_caller_gave_up_does_not_cancel_the_call_back() -> None:
    call = play(cti(CtiEventKind.NEW_CALL, 0), cti(CtiEventKind.HANGUP, 20, cause=HangupCause.CANCEL))
    assert not call.apply(cti(CtiEventKind.ANSWER, 21), SETTINGS)
    assert call.outcome is CallOutcome.ABANDONED
    assert call.answered_at is None


def test_hangup_alone_is_enough_to_record_a_missed_call() -> None:
    call = play(cti(CtiEventKind.HANGUP, 20, cause=HangupCause.NO_ANSWER))
    missed = next(e for e in call.events if isinstance(e, CallMissed))
    assert missed.started_at == missed.ended_at == after(20)
    assert [type(e) for e in call.events] == [CallMissed, CallEnded]


# --- call-backs and tickets ----------------------------------------------------------------------


def missed_task() -> CallBackTask:
    call = play(cti(CtiEventKind.NEW_CALL, 0), cti(CtiEventKind.HANGUP, 20, cause=HangupCause.NO_ANSWER))
    task = CallBackTask.for_missed_call(next(e for e in call.events if isinstance(e, CallMissed)))
    assert task is not None
    return task


def test_call_back_not_reaching_the_customer_stays_open_and_falls_due_again() -> None:
    task = missed_task()
    task.record_attempt(
        actor=Actor.user("anna"), at=after(600), reached=False, note="voicemail", settings=SETTINGS
    )
    assert (task.status, task.due_at, len(task.attempts)) == (
        CallBackStatus.OPEN,
        after(600) + timedelta(hours=1),
        1,
    )
    task.record_attempt(
        actor=Actor.user("anna"), at=after(4000), reached=True, note="booked a visit", settings=SETTINGS
    )
    assert task.status is CallBackStatus.DONE
    assert [e.how for e in task.events if isinstance(e, CallBackCompleted)] == ["reached"]
    with pytest.raises(Conflict):
        task.record_attempt(
            actor=Actor.user("anna"), at=after(5000), reached=True, note="", settings=SETTINGS
        )


def test_customer_calling_again_and_getting_through_closes_the_call_back() -> None:
    task = missed_task()
    again = play(
        cti(CtiEventKind.NEW_CALL, 300, call_id="c-2", caller="+49 30 1234567"),
        cti(CtiEventKind.ANSWER, 305, call_id="c-2"),
    )
    other_caller = play(
        cti(CtiEventKind.NEW_CALL, 300, call_id="c-3", caller="030 7654321"),
        cti(CtiEventKind.ANSWER, 305, call_id="c-3"),
    )
    assert not task.close_by_call(other_caller, after(306))
    assert task.close_by_call(again, after(306))
    assert task.status is CallBackStatus.DONE


def test_agent_links_the_ticket_opened_during_the_call() -> None:
    call = answered_call(5)
    call.link_ticket("t-1")
    call.link_ticket("t-1")
    with pytest.raises(Conflict):
        call.link_ticket("t-2")
