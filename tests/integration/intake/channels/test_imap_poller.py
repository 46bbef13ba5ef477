"""The IMAP poller against a real Dovecot on loopback: each message once, failures retried, nothing lost."""

from __future__ import annotations

import imaplib
import itertools
import re

import pytest

from intake.channels import Rejected
from intake.channels.email import (
    EmailLimits,
    ImapMailbox,
    InboundEmail,
    MailboxMessage,
    parse_email,
    poll_mailbox,
)

pytestmark = pytest.mark.integration

_users = itertools.count(1)


def mailbox_for(server: object, **overrides: object) -> ImapMailbox:
    """A fresh mailbox (its own Dovecot user) so tests do not see each other's mail."""
    settings: dict[str, object] = {
        "name": "support",
        "host": server.host,  # type: ignore[attr-defined]
        "port": server.port,  # type: ignore[attr-defined]
        "security": "none",
        "username": f"support{next(_users)}",
        "password": server.password,  # type: ignore[attr-defined]
        "timeout_seconds": 10.0,
    }
    settings.update(overrides)
    return ImapMailbox(**settings)  # type: ignore[arg-type]


def client(mailbox: ImapMailbox) -> imaplib.IMAP4:
    connection = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=10)
    connection.login(mailbox.username, mailbox.password)
    return connection


def seed(mailbox: ImapMailbox, *subjects: str, body: str = "Please help.") -> None:
    connection = client(mailbox)
    try:
        for number, subject in enumerate(subjects):
            raw = (
                f"From: customer{number}@example.com\r\nTo: support@service.example\r\n"
                f"Subject: {subject}\r\nMessage-ID: <{subject.replace(' ', '-')}@example.com>\r\n"
                f"\r\n{body}\r\n"
            )
            status, _ = connection.append("INBOX", None, None, raw.encode())
            assert status == "OK"
    finally:
        connection.logout()


def unseen_subjects(mailbox: ImapMailbox, folder: str = "INBOX") -> list[str]:
    connection = client(mailbox)
    try:
        connection.select(folder)
        _, data = connection.uid("SEARCH", "UNSEEN")
        subjects = []
        for uid in (data[0] or b"").split():
            _, fetched = connection.uid("FETCH", uid.decode(), "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            header = fetched[0][1].decode()
            subjects.append(re.sub(r"^Subject:\s*", "", header.strip()))
        return subjects
    finally:
        connection.logout()


def message_count(mailbox: ImapMailbox, folder: str) -> int:
    connection = client(mailbox)
    try:
        status, data = connection.select(folder)
        assert status == "OK"
        return int(data[0] or 0)
    finally:
        connection.logout()


class Sink:
    def __init__(self, fail_subjects: set[str] | None = None) -> None:
        self.fail_subjects = fail_subjects or set()
        self.subjects: list[str] = []
        self.messages: list[MailboxMessage] = []

    async def __call__(self, message: MailboxMessage) -> None:
        email = parse_email(message.raw)
        assert isinstance(email, InboundEmail)
        if email.subject in self.fail_subjects:
            raise RuntimeError("database unavailable")
        self.subjects.append(email.subject)
        self.messages.append(message)


async def test_each_unseen_message_is_handed_over_once_and_then_marked_seen(imap_server: object) -> None:
    mailbox = mailbox_for(imap_server)
    seed(mailbox, "Oven broken", "Fridge noisy", "Washer leaking")
    sink = Sink()

    first = await poll_mailbox(mailbox, sink)
    second = await poll_mailbox(mailbox, sink)

    assert (first.delivered, first.failed, first.error) == (3, 0, None)
    assert (second.delivered, second.failed) == (0, 0)
    assert sink.subjects == ["Oven broken", "Fridge noisy", "Washer leaking"]
    assert [m.uid for m in sink.messages] == sorted(m.uid for m in sink.messages)
    assert all(m.uid_validity > 0 and not m.truncated for m in sink.messages)
    assert unseen_subjects(mailbox) == []


async def test_a_failing_sink_leaves_the_message_unseen_and_the_next_poll_takes_it(
    imap_server: object,
) -> None:
    mailbox = mailbox_for(imap_server)
    seed(mailbox, "Oven broken", "Fridge noisy")

    failing = Sink(fail_subjects={"Fridge noisy"})
    report = await poll_mailbox(mailbox, failing)
    assert (report.delivered, report.failed) == (1, 1)
    assert failing.subjects == ["Oven broken"]
    assert unseen_subjects(mailbox) == ["Fridge noisy"]

    recovered = Sink()
    report = await poll_mailbox(mailbox, recovered)
    assert (report.delivered, report.failed) == (1, 0)
    assert recovered.subjects == ["Fridge noisy"]
    assert unseen_subjects(mailbox) == []
    assert (await poll_mailbox(mailbox, recovered)).delivered == 0


async def test_processed_messages_are_moved_to_the_processed_folder(imap_server: object) -> None:
    mailbox = mailbox_for(imap_server, processed_folder="Processed")
    connection = client(mailbox)
    connection.create("Processed")
    connection.logout()
    seed(mailbox, "Oven broken", "Fridge noisy")

    report = await poll_mailbox(mailbox, Sink())

    assert report.delivered == 2
    assert message_count(mailbox, "INBOX") == 0
    assert message_count(mailbox, "Processed") == 2
    assert unseen_subjects(mailbox, "Processed") == []


async def test_an_oversized_message_is_handed_over_truncated_and_the_parser_quarantines_it(
    imap_server: object,
) -> None:
    mailbox = mailbox_for(imap_server, max_message_bytes=1000)
    seed(mailbox, "Huge attachment", body="x" * 5000)
    received: list[MailboxMessage] = []

    async def keep(message: MailboxMessage) -> None:
        received.append(message)

    report = await poll_mailbox(mailbox, keep)

    assert report.delivered == 1
    (message,) = received
    assert message.truncated
    assert message.size > 5000
    assert len(message.raw) == 1001
    outcome = parse_email(message.raw, EmailLimits(max_message_bytes=1000))
    assert isinstance(outcome, Rejected)
    assert outcome.code == "message-too-large"


async def test_a_mailbox_that_refuses_the_login_is_reported_not_raised(imap_server: object) -> None:
    mailbox = mailbox_for(imap_server, password="wrong")
    report = await poll_mailbox(mailbox, Sink())
    assert report.delivered == 0
    assert report.error is not None
