"""The email channel of the served intake on PostgreSQL and RabbitMQ, with a real Dovecot IMAP mailbox, a
real SMTP client delivering to intake's SMTP receiver, and a real SMTP peer taking the acknowledgments.

Every message is recorded once, threaded into its ticket or opening one; machines are never answered;
hostile messages end in quarantine with their reason while the service keeps serving."""

from __future__ import annotations

import asyncio
import imaplib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiosmtplib
import httpx
import pytest
from intake_channels_harness import (
    AGENT,
    SUPERVISOR,
    SUPPORT,
    IntakeUnderTest,
    Served,
    SmtpPeer,
    eventually,
    of_type,
    running_intake,
    smtp_peer,
)

from intake.channels.email import InboundEmail, imap_poller, parse_email
from intake.channels.workers import smtp_receiver_port

pytestmark = pytest.mark.integration

LIMIT = 200_000  # bytes of one message, for the hostile-input tests
MAILBOX = f"support-{uuid.uuid4().hex[:6]}"  # a fresh Dovecot user: an empty mailbox


@pytest.fixture(scope="module")
async def peer() -> AsyncIterator[SmtpPeer]:
    async with smtp_peer() as recording:
        yield recording


@pytest.fixture(scope="module")
async def intake(imap_server: Any, peer: SmtpPeer) -> AsyncIterator[IntakeUnderTest]:
    async with running_intake() as under_test:
        yield under_test


def channel_settings(intake: IntakeUnderTest, server: Any, peer: SmtpPeer, **extra: Any) -> dict[str, Any]:
    return {
        "imap_mailboxes": [
            {
                "name": "support",
                "host": server.host,
                "port": server.port,
                "security": "none",
                "username": MAILBOX,
                "password": server.password,
            }
        ],
        "imap_interval_seconds": 0.3,
        "smtp_receiver_port": 0,
        "smtp_host": "127.0.0.1",
        "smtp_port": peer.port,
        "smtp_security": "none",
        "smtp_timeout_seconds": 5,
        "email_max_message_bytes": LIMIT,
        **extra,
    }


@pytest.fixture
async def served(intake: IntakeUnderTest, imap_server: Any, peer: SmtpPeer) -> AsyncIterator[Served]:
    intake.configure(**channel_settings(intake, imap_server, peer))
    peer.reply = "250 OK"
    async with intake.serve() as running:
        yield running


def mail(sender: str, subject: str, body: str, *, message_id: str | None = None, extra: str = "") -> bytes:
    message_id = message_id or f"<{uuid.uuid4().hex}@example.com>"
    return (
        f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
        f"Date: Mon, 09 Mar 2026 09:00:00 +0000\r\n{extra}\r\n{body}\r\n"
    ).encode()


def append_to_mailbox(server: Any, user: str, raw: bytes) -> None:
    connection = imaplib.IMAP4(server.host, server.port, timeout=10)
    try:
        connection.login(user, server.password)
        status, _ = connection.append("INBOX", None, None, raw)
        assert status == "OK"
    finally:
        connection.logout()


def unseen_in_mailbox(server: Any, user: str) -> int:
    connection = imaplib.IMAP4(server.host, server.port, timeout=10)
    try:
        connection.login(user, server.password)
        connection.select("INBOX")
        _, data = connection.uid("SEARCH", "UNSEEN")
        return len((data[0] or b"").split())
    finally:
        connection.logout()


async def emails(served: Served, intake: IntakeUnderTest, **filters: str) -> list[dict[str, Any]]:
    response = await served.client.get(
        f"{intake.prefix}/emails", params={"limit": 200, **filters}, headers=intake.auth(*AGENT)
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def with_message_id(message_id: str) -> Any:
    return lambda items: [item for item in items if item["message_id"] == message_id]


async def recorded_email(served: Served, intake: IntakeUnderTest, message_id: str) -> dict[str, Any]:
    """The one email recorded with this Message-ID, once it is there."""
    items = await eventually(
        lambda: emails(served, intake), until=with_message_id(message_id), what=f"{message_id} to be recorded"
    )
    [found] = with_message_id(message_id)(items)
    return found


async def upload(served: Served, intake: IntakeUnderTest, raw: bytes) -> httpx.Response:
    return await served.client.post(
        f"{intake.prefix}/emails",
        content=raw,
        headers={**intake.auth(*AGENT), "Content-Type": "message/rfc822"},
    )


async def test_mailbox_mail_opens_a_ticket_is_acknowledged_and_the_reply_threads_into_it(
    intake: IntakeUnderTest, imap_server: Any, peer: SmtpPeer, served: Served
) -> None:
    user = MAILBOX
    first_id = f"<{uuid.uuid4().hex}@example.com>"
    sender = f"anna.{uuid.uuid4().hex[:6]}@example.com"
    request = mail(
        f"Anna Berg <{sender}>",
        "Dishwasher leaking",
        "Hello,\r\nmy dishwasher is leaking water.\r\nSerial No: SN-4711-ABC-0042\r\n",
        message_id=first_id,
    )
    sent_before = len(peer.received)
    await asyncio.to_thread(append_to_mailbox, imap_server, user, request)

    recorded = await recorded_email(served, intake, first_id)
    assert recorded["status"] == "ticket_opened"
    ticket_id = recorded["ticket_id"]
    created = await intake.next_event(of_type("intake.ticket.created.v1", ticket_id=ticket_id))
    assert created["data"]["details"]["channel"] == "email"
    assert created["data"]["details"]["product"]["serial_number"] == "SN-4711-ABC-0042"
    assert "leaking water" in created["data"]["details"]["fault_description"]
    number = created["data"]["ticket_number"]

    # the acknowledgment goes out over SMTP with the ticket number, threaded to the customer's mail
    await eventually(lambda: len(peer.received), until=lambda n: n > sent_before, what="the ack")
    envelope_from, recipients, raw_ack = peer.received[-1]
    assert envelope_from == SUPPORT
    ack = parse_email(raw_ack)
    assert isinstance(ack, InboundEmail)
    assert recipients == [sender]
    assert ack.subject == f"[#{number}] Re: Dishwasher leaking"
    assert ack.in_reply_to == first_id
    assert number in ack.text
    detail = await eventually(
        lambda: served.client.get(f"{intake.prefix}/emails/{recorded['id']}", headers=intake.auth(*AGENT)),
        until=lambda r: r.json()["acknowledgment"]["status"] == "sent",
        what="the acknowledgment to be marked sent",
    )
    assert detail.json()["acknowledgment"]["message_id"] == ack.message_id
    acknowledged = await intake.next_event(of_type("intake.ticket.acknowledged.v1", ticket_id=ticket_id))
    assert acknowledged["data"]["method"] == "auto_email"

    # the customer answers the acknowledgment: the reply joins the ticket, and is not acknowledged again
    reply_id = f"<{uuid.uuid4().hex}@example.com>"
    reply = mail(
        sender,
        f"Re: {ack.subject}",
        f"It is still leaking.\r\n\r\nOn Monday you wrote:\r\n> Thank you for your message {number}",
        message_id=reply_id,
        extra=f"In-Reply-To: {ack.message_id}\r\nReferences: {first_id} {ack.message_id}\r\n",
    )
    await asyncio.to_thread(append_to_mailbox, imap_server, user, reply)
    threaded = await recorded_email(served, intake, reply_id)
    assert threaded["status"] == "threaded"
    assert threaded["ticket_id"] == ticket_id
    timeline = await served.client.get(
        f"{intake.prefix}/tickets/{ticket_id}/timeline", headers=intake.auth(*AGENT)
    )
    [message] = [step for step in timeline.json()["items"] if step["kind"] == "customer_message"]
    assert "It is still leaking." in message["detail"]
    assert "wrote" not in message["detail"], "the quoted history is cut away"

    # the same message delivered again is recorded once; the mailbox is left with nothing unseen
    await asyncio.to_thread(append_to_mailbox, imap_server, user, request)
    await eventually(
        lambda: asyncio.to_thread(unseen_in_mailbox, imap_server, user),
        until=lambda n: n == 0,
        what="polling",
    )
    assert len(with_message_id(first_id)(await emails(served, intake))) == 1
    await asyncio.sleep(0.5)
    assert len(peer.received) == sent_before + 1


async def test_mail_delivered_over_smtp_is_taken_and_machines_are_never_answered(
    intake: IntakeUnderTest, peer: SmtpPeer, served: Served
) -> None:
    port = await eventually(lambda: smtp_receiver_port(intake.name), until=bool, what="SMTP")
    sent_before = len(peer.received)
    personal_id = f"<{uuid.uuid4().hex}@example.com>"
    holiday_id = f"<{uuid.uuid4().hex}@example.com>"
    personal = mail("carl@example.com", "Oven broken", "The oven does not heat.", message_id=personal_id)
    holiday = mail(
        "dora@example.com",
        "Out of office",
        "I am away until Monday.",
        message_id=holiday_id,
        extra="Auto-Submitted: auto-replied\r\n",
    )
    for raw in (personal, holiday):
        _, answer = await aiosmtplib.send(
            raw, sender="x@example.com", recipients=[SUPPORT], hostname="127.0.0.1", port=port, timeout=10
        )
        assert answer.startswith("2.0.0"), answer

    by_id = {item["message_id"]: item for item in await emails(served, intake)}
    assert by_id[personal_id]["status"] == "ticket_opened"
    assert by_id[personal_id]["source"] == "smtp"
    assert by_id[holiday_id]["status"] == "not_a_request"
    assert by_id[holiday_id]["kind"] == "auto-reply"
    assert by_id[holiday_id]["ticket_id"] is None
    await eventually(lambda: len(peer.received), until=lambda n: n == sent_before + 1, what="ack")
    await asyncio.sleep(0.5)
    assert [recipients for _, recipients, _ in peer.received[sent_before:]] == [["carl@example.com"]]


async def test_an_acknowledgment_the_server_refuses_for_now_is_sent_later(
    intake: IntakeUnderTest, peer: SmtpPeer, served: Served
) -> None:
    peer.reply = "451 4.3.0 Try again later"
    sent_before = len(peer.received)
    response = await upload(served, intake, mail("erik@example.com", "Fridge noisy", "It hums all night."))
    assert response.status_code == 201, response.text
    email_id = response.json()["email_id"]
    pending = await eventually(
        lambda: served.client.get(f"{intake.prefix}/emails/{email_id}", headers=intake.auth(*AGENT)),
        until=lambda r: r.json()["acknowledgment"]["attempts"] >= 1,
        what="a first delivery attempt",
    )
    assert pending.json()["acknowledgment"]["status"] == "pending"
    assert pending.json()["acknowledgment"]["last_error"] == "recipient refused"

    peer.reply = "250 OK"
    await asyncio.sleep(0.5)  # the sender looks again meanwhile: not due yet, nothing is sent
    assert len(peer.received) == sent_before
    served.clock.advance(timedelta(minutes=2))  # past the first back-off (1 minute)
    sent = await eventually(
        lambda: served.client.get(f"{intake.prefix}/emails/{email_id}", headers=intake.auth(*AGENT)),
        until=lambda r: r.json()["acknowledgment"]["status"] != "pending",
        what="the second attempt",
    )
    assert sent.json()["acknowledgment"]["status"] == "sent"
    assert sent.json()["acknowledgment"]["attempts"] == 2
    assert len(peer.received) == sent_before + 1


def nested(depth: int) -> bytes:
    opening = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return b"Subject: nest\r\n" + opening + b"Content-Type: text/plain\r\n\r\nhi" + closing


def hostile(kind: str) -> bytes:
    head = f"From: mallory@example.com\r\nTo: {SUPPORT}\r\nMessage-ID: <{uuid.uuid4().hex}@example.com>\r\n".encode()
    if kind == "oversized":
        return head + b"Subject: big\r\n\r\n" + b"x" * (LIMIT + 1000)
    if kind == "thousands of parts":
        parts = b"".join(b"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(3000))
        return (
            head
            + b"Subject: parts\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
            + parts
            + b"--B--\r\n"
        )
    if kind == "deep nesting":
        return head + nested(40)
    if kind == "endless header":
        return head + b"Subject: start\r\n" + b" more\r\n" * 8000 + b"\r\nbody\r\n"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("oversized", "message-too-large"),
        ("thousands of parts", "too-many-parts"),
        ("deep nesting", "nesting-too-deep"),
        ("endless header", "header-too-long"),
    ],
)
async def test_hostile_mail_is_quarantined_with_its_reason_and_the_service_carries_on(
    intake: IntakeUnderTest, served: Served, kind: str, reason: str
) -> None:
    raw = hostile(kind)
    refused = await upload(served, intake, raw)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["type"].endswith(reason)
    item = await served.client.get(
        f"{intake.prefix}/quarantine/{problem['quarantine_id']}", headers=intake.auth(*SUPERVISOR)
    )
    assert item.json()["reason_code"] == reason
    assert item.json()["status"] == "held"
    kept = await served.client.get(
        f"{intake.prefix}/quarantine/{problem['quarantine_id']}/raw", headers=intake.auth(*SUPERVISOR)
    )
    assert kept.content == raw, "nothing is lost"
    assert kept.headers["content-type"] == "application/octet-stream"
    quarantined = await intake.next_event(
        of_type("intake.message.quarantined.v1", message_id=problem["quarantine_id"])
    )
    assert quarantined["data"]["reasons"][0]["code"] == reason

    fine = await upload(served, intake, mail("frank@example.com", "Still there?", "A normal request."))
    assert fine.status_code == 201


async def test_the_email_upload_has_its_own_body_limit_and_other_routes_keep_theirs(
    intake: IntakeUnderTest, served: Served
) -> None:
    """A message over the channel's limit but within its margin is read and quarantined with its reason,
    even above MAX_BODY_BYTES (1 MiB); beyond the margin it is refused unread; a JSON route keeps 1 MiB."""
    big = 1_100_000
    head = f"From: big@example.com\r\nTo: {SUPPORT}\r\nSubject: photos\r\n\r\n".encode()
    kept = await upload(served, intake, head + b"x" * big)
    assert kept.status_code == 422, kept.text
    assert kept.json()["type"].endswith("message-too-large")
    refused = await upload(served, intake, head + b"x" * (LIMIT + 1024 * 1024))
    assert refused.status_code == 413
    assert refused.json()["type"] == "urn:aftersales:problem:payload-too-large"
    ticket = await served.client.post(
        f"{intake.prefix}/tickets",
        json={"channel": "web", "type": "repair", "fault_description": "x" * big},
        headers=intake.auth(*AGENT),
    )
    assert ticket.status_code == 413


async def test_header_injection_and_broken_encodings_are_neutralised_and_the_request_still_taken(
    intake: IntakeUnderTest, served: Served
) -> None:
    raw = (
        b"From: gina@example.com\r\nTo: support@service.example\r\nMessage-ID: <inj-"
        + uuid.uuid4().hex.encode()
        + b"@example.com>\r\nSubject: =?utf-8?q?Broken=0D=0ABcc:_victim@example.org?=\r\n"
        b"Content-Type: multipart/mixed; boundary=X\r\n\r\n"
        b"--X\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n\r\nDas Ger\xe4t ist kaputt\r\n"
        b"--X\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"JVBERi0xLjQK!!!not*base64\r\n--X--\r\n"
    )
    response = await upload(served, intake, raw)
    assert response.status_code == 201, response.text
    detail = (
        await served.client.get(
            f"{intake.prefix}/emails/{response.json()['email_id']}", headers=intake.auth(*AGENT)
        )
    ).json()
    assert "\n" not in detail["subject"] and "\r" not in detail["subject"]
    codes = {note["code"] for note in detail["notes"]}
    assert {"header-injection-neutralised", "bad-base64"} <= codes
    assert "kaputt" in detail["text"]


async def test_a_quarantined_message_is_released_after_the_limit_is_raised_or_discarded_for_good(
    intake: IntakeUnderTest, imap_server: Any, peer: SmtpPeer, served: Served
) -> None:
    too_big = mail("hanna@example.com", "Photos of the damage", "See the pictures." + "x" * (LIMIT + 10))
    first = (await upload(served, intake, too_big)).json()["quarantine_id"]
    second = (await upload(served, intake, hostile("deep nesting"))).json()["quarantine_id"]
    boss = intake.auth(*SUPERVISOR)

    not_yet = await served.client.post(f"{intake.prefix}/quarantine/{first}/release", headers=boss)
    assert not_yet.json()["released"] is False
    assert not_yet.json()["item"]["status"] == "held"

    intake.configure(**channel_settings(intake, imap_server, peer, email_max_message_bytes=2 * LIMIT))
    released = await served.client.post(f"{intake.prefix}/quarantine/{first}/release", headers=boss)
    assert released.status_code == 200, released.text
    assert released.json()["released"] is True
    assert "ticket opened" in released.json()["resolution"]
    again = await served.client.post(f"{intake.prefix}/quarantine/{first}/release", headers=boss)
    assert again.status_code == 409

    discarded = await served.client.post(
        f"{intake.prefix}/quarantine/{second}/discard",
        json={"reason": "malicious test message"},
        headers=boss,
    )
    assert discarded.json()["status"] == "discarded"
    history = (await served.client.get(f"{intake.prefix}/quarantine/{second}", headers=boss)).json()[
        "history"
    ]
    assert [entry["action"] for entry in history] == ["quarantine.held", "quarantine.discarded"]
    assert history[-1]["actor"] == f"user:{SUPERVISOR[0]}"
    assert history[-1]["detail"]["reason"] == "malicious test message"
    first_history = (await served.client.get(f"{intake.prefix}/quarantine/{first}", headers=boss)).json()[
        "history"
    ]
    assert [entry["action"] for entry in first_history] == [
        "quarantine.held",
        "quarantine.release_refused",
        "quarantine.released",
    ]
    forbidden = await served.client.get(f"{intake.prefix}/quarantine", headers=intake.auth(*AGENT))
    assert forbidden.status_code == 403


async def test_one_replica_at_a_time_polls_a_mailbox_and_another_takes_over_when_it_stops(
    intake: IntakeUnderTest, imap_server: Any, peer: SmtpPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = f"support-{uuid.uuid4().hex[:6]}"
    settings = channel_settings(intake, imap_server, peer)
    settings["imap_mailboxes"][0]["username"] = user
    intake.configure(**settings)
    polls: list[int] = []  # which replica polled, in order (each replica's poller has its own sink)
    original = imap_poller.poll_mailbox

    async def counted(mailbox: Any, sink: Any) -> Any:
        polls.append(id(sink))
        return await original(mailbox, sink)

    monkeypatch.setattr(imap_poller, "poll_mailbox", counted)
    second = intake.serve()
    async with intake.serve():
        await eventually(lambda: len(polls), until=lambda n: n >= 1, what="the first replica to poll")
        await second.__aenter__()
        await eventually(lambda: len(polls), until=lambda n: n >= 6, what="more rounds with both running")
        assert len(set(polls)) == 1  # the second replica never polled while the first held the lease
        holder = polls[0]
    try:
        message_id = f"<{uuid.uuid4().hex}@example.com>"
        append_to_mailbox(
            imap_server, user, mail("late@example.com", "After the switch", "Hello.", message_id=message_id)
        )
        await eventually(
            lambda: [p for p in polls if p != holder], until=bool, what="the second replica to take over"
        )
        await eventually(
            lambda: unseen_in_mailbox(imap_server, user), until=lambda n: n == 0, what="the mail"
        )
    finally:
        await second.__aexit__(None, None, None)


BREACHED = "intake.ticket.sla_breached.v1"


async def test_a_mail_server_that_never_answers_holds_up_no_timer(
    intake: IntakeUnderTest, imap_server: Any, peer: SmtpPeer
) -> None:
    """Acknowledgments are sent outside the scheduler: while one waits on a silent mail server, the SLA
    timers of the ticket it acknowledges still fire when due."""
    connected = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        await reader.read()  # never greets, never answers

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    intake.configure(**channel_settings(intake, imap_server, peer, smtp_port=port, smtp_timeout_seconds=60))
    try:
        async with intake.serve() as served:
            response = await upload(served, intake, mail("ida@example.com", "Oven cold", "It will not heat."))
            assert response.status_code == 201, response.text
            email_id = response.json()["email_id"]
            await asyncio.wait_for(connected.wait(), 10)  # the sender is stuck on the silent server
            served.clock.advance(timedelta(days=2))
            fired = await asyncio.wait_for(served.runtime.scheduler.run_due(), 10)
            assert fired >= 1  # the ticket's SLA timers, due long ago
            email = await served.client.get(f"{intake.prefix}/emails/{email_id}", headers=intake.auth(*AGENT))
            assert email.json()["acknowledgment"]["status"] == "pending"  # still waiting on the server
            await intake.next_event(of_type(BREACHED, ticket_id=email.json()["ticket_id"]))
    finally:
        server.close()
