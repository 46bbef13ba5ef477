"""Machine-sent mail is never answered: auto-replies, bounces, lists and our own loops."""

from __future__ import annotations

import pytest

from intake.channels.email import InboundEmail, MailKind, classify_email, parse_email

OWN = ("support@service.example",)


def mail(headers: bytes, body: bytes = b"hello\r\n") -> InboundEmail:
    outcome = parse_email(b"Message-ID: <c@example.com>\r\n" + headers + b"\r\n" + body)
    assert isinstance(outcome, InboundEmail), outcome
    return outcome


def test_a_customers_message_may_be_acknowledged() -> None:
    result = classify_email(mail(b"From: anna@example.com\r\nSubject: Oven broken\r\n"), own_addresses=OWN)
    assert result.kind is MailKind.PERSONAL
    assert result.may_auto_respond


@pytest.mark.parametrize(
    "header",
    [
        b"Auto-Submitted: auto-replied\r\n",
        b"Auto-Submitted: auto-generated; owner-email=x@example.com\r\n",
        b"X-Autoreply: yes\r\n",
        b"X-Autorespond: vacation\r\n",
        b"Precedence: auto_reply\r\n",
        b"Return-Path: <>\r\n",
    ],
)
def test_auto_replies_are_never_answered(header: bytes) -> None:
    result = classify_email(mail(b"From: anna@example.com\r\nSubject: Re: your request\r\n" + header))
    assert result.kind is MailKind.AUTO_REPLY
    assert not result.may_auto_respond
    assert result.reasons


def test_auto_submitted_no_is_a_person() -> None:
    result = classify_email(mail(b"From: anna@example.com\r\nSubject: x\r\nAuto-Submitted: no\r\n"))
    assert result.may_auto_respond


@pytest.mark.parametrize(
    "subject", [b"Out of Office: Re: Oven", b"Automatic reply: Oven", b"Abwesenheitsnotiz: Herd"]
)
def test_out_of_office_subjects_are_auto_replies(subject: bytes) -> None:
    result = classify_email(mail(b"From: anna@example.com\r\nSubject: " + subject + b"\r\n"))
    assert result.kind is MailKind.AUTO_REPLY


def test_a_delivery_status_report_is_a_bounce() -> None:
    dsn = mail(
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=R\r\n",
        b"--R\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        b"--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
        b"Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--R--\r\n",
    )
    result = classify_email(dsn)
    assert result.kind is MailKind.BOUNCE
    assert not result.may_auto_respond
    assert "carries a delivery-status report" in result.reasons


@pytest.mark.parametrize(
    "headers",
    [
        b"From: postmaster@example.net\r\nSubject: Problem\r\n",
        b"From: a@example.net\r\nSubject: x\r\nX-Failed-Recipients: gone@example.com\r\n",
        b"From: a@example.net\r\nSubject: Delivery Status Notification (Failure)\r\n",
    ],
)
def test_bounces_by_sender_header_or_subject(headers: bytes) -> None:
    assert classify_email(mail(headers)).kind is MailKind.BOUNCE


@pytest.mark.parametrize(
    "header",
    [
        b"List-Id: <owners.example.org>\r\n",
        b"List-Unsubscribe: <mailto:leave@example.org>\r\n",
        b"Precedence: bulk\r\n",
        b"Precedence: list\r\n",
        b"Precedence: junk\r\n",
    ],
)
def test_list_and_bulk_mail_is_never_answered(header: bytes) -> None:
    result = classify_email(mail(b"From: news@example.org\r\nSubject: Newsletter\r\n" + header))
    assert result.kind is MailKind.BULK
    assert not result.may_auto_respond


def test_a_sender_asking_for_no_auto_response_is_a_person_not_answered() -> None:
    result = classify_email(
        mail(b"From: a@example.com\r\nSubject: x\r\nX-Auto-Response-Suppress: OOF, AutoReply\r\n")
    )
    assert result.kind is MailKind.PERSONAL
    assert not result.may_auto_respond


def test_mail_from_our_own_mailbox_is_a_loop() -> None:
    result = classify_email(
        mail(b"From: Support <SUPPORT@service.example>\r\nSubject: x\r\n"), own_addresses=OWN
    )
    assert result.kind is MailKind.LOOP
    assert not result.may_auto_respond


def test_mail_carrying_our_x_loop_is_a_loop() -> None:
    result = classify_email(
        mail(b"From: relay@example.com\r\nSubject: x\r\nX-Loop: support@service.example\r\n"),
        own_addresses=OWN,
    )
    assert result.kind is MailKind.LOOP
