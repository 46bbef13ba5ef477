"""The hotline's rules around the call-back list, the PBX's webhook body, and the channels' settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from intake.channels import Rejected
from intake.channels.cti_webhook import read_cti_request
from intake.channels.fax import HmacSignatureAuth, SharedTokenAuth
from intake.channels.settings import ChannelSettings
from intake.domain.callbacks import CallBackOutcome, CallBackStatus, CallBackTask
from intake.domain.common import Actor
from intake.domain.cti import CtiEvent, CtiEventKind, HangupCause
from intake.domain.hotline import CallOutcome, HotlineSettings
from intake.operations.channels.hotline import missed_outcome
from kit.domain import Conflict, Forbidden

T0 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # a Monday
RULES = HotlineSettings()
ANNA = Actor.user("anna", "agent")
CARL = Actor.user("carl", "agent")
SAM = Actor.user("sam", "supervisor")
RUNBOOK = Path(__file__).resolve().parents[4] / "docs" / "runbooks" / "operations.md"


def task(**overrides: object) -> CallBackTask:
    values: dict[str, object] = {
        "id": "cb-1",
        "call_id": "c-1",
        "number": "+49301234567",
        "owner": "hotline",
        "due_at": T0 + timedelta(hours=1),
        "created_at": T0,
    }
    values.update(overrides)
    return CallBackTask(**values)  # type: ignore[arg-type]


# --- the call-back list ----------------------------------------------------------------------------


def test_an_agent_takes_a_call_back_and_a_colleague_cannot_take_it_from_them() -> None:
    callback = task()
    callback.take(actor=ANNA, at=T0)
    assert (callback.owner, callback.taken_by) == ("anna", "anna")
    with pytest.raises(Conflict):
        callback.take(actor=CARL, at=T0)
    callback.take(actor=SAM, at=T0)  # a supervisor hands it on
    assert callback.owner == "sam"


def test_only_staff_take_call_backs() -> None:
    with pytest.raises(Forbidden):
        task().take(actor=Actor.system(), at=T0)


def test_reaching_the_customer_closes_the_call_back() -> None:
    callback = task()
    callback.record_outcome(
        CallBackOutcome.REACHED, actor=ANNA, at=T0 + timedelta(minutes=5), note="", settings=RULES
    )
    assert callback.status is CallBackStatus.DONE
    assert callback.outcome is CallBackOutcome.REACHED
    assert callback.closed_at == T0 + timedelta(minutes=5)


@pytest.mark.parametrize(
    "outcome", [CallBackOutcome.NO_ANSWER, CallBackOutcome.BUSY, CallBackOutcome.VOICEMAIL]
)
def test_not_reaching_the_customer_keeps_it_open_and_due_again_later(outcome: CallBackOutcome) -> None:
    callback = task()
    callback.record_outcome(outcome, actor=ANNA, at=T0 + timedelta(minutes=10), note="", settings=RULES)
    assert callback.status is CallBackStatus.OPEN
    assert callback.due_at == T0 + timedelta(minutes=10) + RULES.callback_retry_after
    assert [attempt.reached for attempt in callback.attempts] == [False]


@pytest.mark.parametrize("outcome", [CallBackOutcome.WRONG_NUMBER, CallBackOutcome.NOT_NEEDED])
def test_a_wrong_number_or_a_call_no_longer_needed_closes_it_without_a_conversation(
    outcome: CallBackOutcome,
) -> None:
    callback = task()
    callback.record_outcome(outcome, actor=ANNA, at=T0, note="moved abroad", settings=RULES)
    assert callback.status is CallBackStatus.CANCELLED
    assert callback.outcome is outcome


def test_a_call_back_someone_else_took_is_completed_by_them_or_a_supervisor() -> None:
    callback = task()
    callback.take(actor=ANNA, at=T0)
    with pytest.raises(Conflict):
        callback.record_outcome(CallBackOutcome.REACHED, actor=CARL, at=T0, note="", settings=RULES)
    callback.record_outcome(CallBackOutcome.REACHED, actor=SAM, at=T0, note="", settings=RULES)
    assert callback.status is CallBackStatus.DONE


def test_an_overdue_call_back_goes_to_the_supervisors_once_per_lapse() -> None:
    callback = task()
    callback.take(actor=ANNA, at=T0)
    assert not callback.escalate(to_owner="supervisors", at=T0 + timedelta(minutes=59))
    assert callback.escalate(to_owner="supervisors", at=T0 + timedelta(hours=1))
    assert (callback.owner, callback.taken_by, callback.escalation_level) == ("supervisors", None, 1)
    [escalated] = callback.pull_events()
    assert escalated.level == 1  # type: ignore[attr-defined]


def test_a_call_back_done_before_its_due_time_is_not_escalated() -> None:
    callback = task()
    callback.record_outcome(CallBackOutcome.REACHED, actor=ANNA, at=T0, note="", settings=RULES)
    assert not callback.escalate(to_owner="supervisors", at=T0 + timedelta(hours=2))
    assert callback.owner == "hotline"


# --- the contract's word for a missed call ------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "cause", "expected"),
    [
        (CallOutcome.ABANDONED, HangupCause.CANCEL, "abandoned"),
        (CallOutcome.OUT_OF_HOURS, HangupCause.NO_ANSWER, "out_of_hours"),
        (CallOutcome.MISSED, HangupCause.BUSY, "busy"),
        (CallOutcome.MISSED, HangupCause.NO_ANSWER, "no_answer"),
        (CallOutcome.MISSED, HangupCause.CONGESTION, "failed"),
        (CallOutcome.MISSED, HangupCause.NOT_FOUND, "failed"),
        (CallOutcome.MISSED, HangupCause.UNKNOWN, "no_answer"),
        (CallOutcome.MISSED, None, "no_answer"),
    ],
)
def test_a_missed_call_is_published_with_the_reason_nobody_answered(
    outcome: CallOutcome, cause: HangupCause | None, expected: str
) -> None:
    assert missed_outcome(outcome, cause) == expected


# --- the PBX's webhook body -----------------------------------------------------------------------------


def test_form_fields_with_repeated_users_make_one_event() -> None:
    body = b"event=newCall&callId=4711&from=0301234567&to=08001234567&direction=in&user%5B%5D=anna&user%5B%5D=ben"
    event = read_cti_request(body, "application/x-www-form-urlencoded", received_at=T0)
    assert isinstance(event, CtiEvent)
    assert (event.kind, event.call_id, event.users, event.at) == (
        CtiEventKind.NEW_CALL,
        "4711",
        ("anna", "ben"),
        T0,
    )


def test_a_json_event_with_its_own_timestamp_is_dated_by_it() -> None:
    body = json.dumps(
        {"event": "hangup", "callId": "9", "cause": "cancel", "timestamp": "2026-03-09T08:59:00Z"}
    )
    event = read_cti_request(body.encode(), "application/json; charset=utf-8", received_at=T0)
    assert isinstance(event, CtiEvent)
    assert event.cause is HangupCause.CANCEL
    assert event.at == T0 - timedelta(minutes=1)


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b"event=ring&callId=1", "application/x-www-form-urlencoded", "bad-cti-event"),
        (b"event=newCall", "application/x-www-form-urlencoded", "bad-cti-event"),
        (b"[1, 2]", "application/json", "bad-cti-event"),
        (b"{not json", "application/json", "bad-cti-event"),
        (b"<xml/>", "text/xml", "unsupported-media-type"),
        (b"event=newCall&callId=" + b"1" * 70_000, "application/x-www-form-urlencoded", "payload-too-large"),
        (b"&".join(b"f%d=1" % i for i in range(500)), "application/x-www-form-urlencoded", "bad-cti-event"),
    ],
)
def test_a_body_that_is_not_one_telephony_event_is_refused_with_the_body_kept(
    body: bytes, content_type: str, code: str
) -> None:
    refused = read_cti_request(body, content_type, received_at=T0)
    assert isinstance(refused, Rejected)
    assert refused.code == code
    assert refused.raw == body


# --- settings -------------------------------------------------------------------------------------------


def test_settings_read_lists_json_and_opening_hours_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INTAKE_CTI_TOKENS", "old-token, new-token")
    monkeypatch.setenv("INTAKE_CALLBACK_OWNERS_BY_QUEUE", '{"service": "team-service"}')
    monkeypatch.setenv(
        "INTAKE_IMAP_MAILBOXES",
        '[{"name": "support", "host": "imap.example.com", "username": "u", "password": "pw-1234"}]',
    )
    monkeypatch.setenv("INTAKE_HOTLINE_HOURS", "mon-fri 08:00-18:00,sat 09:00-12:00")
    monkeypatch.setenv("INTAKE_HOTLINE_TIMEZONE", "Europe/Berlin")
    settings = ChannelSettings()
    assert settings.cti_tokens == ("old-token", "new-token")
    assert isinstance(settings.cti_auth(), SharedTokenAuth)
    assert settings.hotline().callback_owner_by_queue == {"service": "team-service"}
    [mailbox] = settings.mailboxes()
    assert (mailbox.host, mailbox.port, mailbox.security) == ("imap.example.com", 993, "tls")
    calendar = settings.hotline_calendar()
    assert calendar.working_hours[5] == (time(9), time(12))
    assert 6 not in calendar.working_hours
    assert "pw-1234" not in repr(settings)


def test_signed_webhooks_win_over_tokens_and_nothing_configured_means_no_webhook() -> None:
    assert ChannelSettings().cti_auth() is None
    assert ChannelSettings().fax_auth() is None
    assert isinstance(ChannelSettings(cti_tokens=("t",), cti_secrets=("s",)).cti_auth(), HmacSignatureAuth)


def test_unreadable_opening_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="INTAKE_HOTLINE_HOURS"):
        ChannelSettings(hotline_hours=("weekdays nine to five",)).hotline_calendar()


def test_every_channel_setting_is_in_the_operations_runbook() -> None:
    text = RUNBOOK.read_text()
    names = [f"INTAKE_{name.upper()}" for name in ChannelSettings.model_fields]
    assert [name for name in names if f"`{name}`" not in text] == []


def test_every_channel_metric_is_in_the_operations_runbook() -> None:
    from prometheus_client.metrics import MetricWrapperBase

    from intake.channels import metrics

    text = RUNBOOK.read_text()
    exported = [value._name for value in vars(metrics).values() if isinstance(value, MetricWrapperBase)]
    assert len(exported) == 9
    assert [name for name in exported if f"`{name}" not in text] == []
