"""Email use cases: a raw message recorded exactly once, threaded into its ticket or opening one, its
files stored, and an acknowledgment queued; the acknowledgment's delivery with retries.

Every message, whichever way it came (IMAP, SMTP, upload), takes the same path: :func:`receive_email`
parses it off the event loop, then records it in one transaction. A message that breaks a limit, or
that the pipeline fails on, goes to the quarantine with its raw bytes; only a database that cannot
be reached makes it fail, so the mailbox or the sending server keeps the message and offers it again.
"""

from __future__ import annotations

import asyncio
import email as email_parser
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from functools import partial
from typing import Literal

from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from intake.channels import Rejected, wakers
from intake.channels.email import (
    Classification,
    DeliveryResult,
    InboundEmail,
    MailKind,
    build_acknowledgment,
    classify_email,
    find_thread,
    parse_email,
    send_acknowledgment,
    strip_quoted_reply,
)
from intake.channels.fax import extract_ticket_hints, fax_from_email
from intake.channels.metrics import ACKNOWLEDGMENTS, INBOUND
from intake.channels.settings import ChannelSettings, channel_settings
from intake.domain.common import Actor
from intake.domain.ticket_values import Channel, ProductRef
from intake.operations.channels import fax as fax_ops
from intake.operations.channels import tickets
from intake.operations.channels.quarantine import quarantine
from intake.store import channels as store
from kit.db import Database, UnitOfWork

log = logging.getLogger(__name__)

MAILER_LOOP = "mailer"  # the background loop that sends acknowledgments (intake.channels.workers)
MAILER = Actor.system("email")
EmailStatus = Literal[
    "ticket_opened", "threaded", "not_a_request", "fax", "duplicate", "quarantined", "processing"
]


@dataclass(frozen=True)
class EmailSource:
    """How a message arrived. ``key`` identifies a mailbox message for good (mailbox, UIDVALIDITY, UID)."""

    kind: Literal["imap", "smtp", "upload", "quarantine"]
    mailbox: str | None = None
    key: str | None = None
    envelope_from: str | None = None
    recipients: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.mailbox}" if self.mailbox else self.kind

    def context(self) -> dict[str, object]:
        return {
            "mailbox": self.mailbox,
            "source_key": self.key,
            "envelope_from": self.envelope_from,
            "recipients": list(self.recipients[:50]),
        }


@dataclass(frozen=True)
class EmailOutcome:
    """What became of one message."""

    status: EmailStatus
    email_id: str | None = None
    ticket_id: str | None = None
    ticket_number: str | None = None
    quarantine_id: str | None = None
    fax_id: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


async def receive_email(
    db: Database,
    raw: bytes,
    source: EmailSource,
    *,
    received_at: datetime,
    refused: Rejected | None = None,
) -> EmailOutcome:
    """Record one raw message (parsed here, off the event loop). Raises only when the database is
    unreachable; any other failure puts the message in quarantine with the reason."""
    settings = channel_settings(db.service)
    parsed: InboundEmail | Rejected
    if refused is not None:
        parsed = refused
    else:
        parsed = await asyncio.to_thread(parse_email, raw, settings.email_limits())
    try:
        async with db.transaction() as uow:
            outcome = await record_email(uow, parsed, raw, source, settings, received_at=received_at)
    except (OperationalError, InterfaceError, OSError, TimeoutError):
        raise
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise
        outcome = await _quarantine_after_failure(db, raw, source, received_at, exc)
    except Exception as exc:
        outcome = await _quarantine_after_failure(db, raw, source, received_at, exc)
    INBOUND.labels(db.service, "email", source.kind, outcome.status).inc()
    return outcome


async def _quarantine_after_failure(
    db: Database, raw: bytes, source: EmailSource, received_at: datetime, exc: Exception
) -> EmailOutcome:
    log.exception("email not processed; quarantined", extra={"source": source.label})
    rejected = Rejected("processing-failed", f"intake failed on the message ({type(exc).__name__})", raw)
    async with db.transaction() as uow:
        if source.key and await store.claim_source(uow, source.key) is not None:
            return EmailOutcome("duplicate")
        return await _quarantine(uow, rejected, source, received_at)


async def _quarantine(
    uow: UnitOfWork, rejected: Rejected, source: EmailSource, received_at: datetime
) -> EmailOutcome:
    """Hold a message intake will not take in quarantine, settling the source it came from."""
    held = await quarantine(
        uow, rejected, channel="email", source=source.label, received_at=received_at, context=source.context()
    )
    if source.key:
        await store.settle_source(uow, source.key, quarantine_id=held.item_id)
    return EmailOutcome("quarantined", quarantine_id=held.item_id, reason_code=held.code, reason=held.reason)


async def record_email(
    uow: UnitOfWork,
    parsed: InboundEmail | Rejected,
    raw: bytes,
    source: EmailSource,
    settings: ChannelSettings,
    *,
    received_at: datetime,
) -> EmailOutcome:
    """Record a parsed (or refused) message in ``uow``: once, whichever way and however often it came."""
    if source.key:
        seen = await store.claim_source(uow, source.key)
        if seen is not None:
            return EmailOutcome("duplicate", email_id=seen["email_id"], quarantine_id=seen["quarantine_id"])
    if isinstance(parsed, Rejected):
        return await _quarantine(uow, parsed, source, received_at)

    email = parsed
    email_id = str(uuid.uuid4())
    raw_sha256 = await store.put_blob(uow, raw, "message/rfc822")
    classification = classify_email(email, own_addresses=settings.own_addresses())
    # claim the Message-ID first: a concurrent delivery of the same message waits here, then backs off
    if not await store.add_email(
        uow, _email_row(email_id, email, source, classification, raw_sha256, received_at)
    ):
        existing = await store.email_by_key(uow, store.key_of(email.dedup_key))
        if source.key:
            await store.settle_source(uow, source.key, email_id=existing["id"] if existing else None)
        return EmailOutcome("duplicate", email_id=existing["id"] if existing else None)
    if source.key:
        await store.settle_source(uow, source.key, email_id=email_id)

    files = await _store_attachments(uow, email_id, email)
    gateway = settings.fax_gateway()
    if gateway is not None and gateway.sent(email) and settings.gateway_trusted(source.label):
        return await _record_gateway_fax(
            uow, email_id, email, settings, received_at=received_at, releasing=source.kind == "quarantine"
        )

    customer_id = await tickets.match_customer(uow, email=email.from_address) if email.from_address else None
    reference = mail_reference(email)
    thread = await _find_ticket(uow, email, customer_id)
    if thread is not None:
        ticket, by = thread
        threaded: tickets.TicketRef | None = ticket
        if classification.kind is MailKind.PERSONAL:
            threaded = await tickets.add_customer_message(
                uow,
                ticket_id=ticket.id,
                via=Channel.EMAIL,
                body=strip_quoted_reply(email.text) or email.subject or "(empty message)",
                reference=reference,
                attachments=tuple(tickets.attachment_ref(file, kind="email_attachment") for file in files),
                actor=MAILER,
            )
        if threaded is not None:
            await store.set_attachments_ticket(uow, "email", email_id, threaded.id)
            await store.update_email(
                uow,
                email_id,
                {"status": "threaded", "thread_by": by, "ticket_id": threaded.id, "customer_id": customer_id},
            )
            return EmailOutcome("threaded", email_id, threaded.id, threaded.number)
        # the ticket it answers is finished: the customer's new words make a new request

    if classification.kind is not MailKind.PERSONAL:
        # a machine wrote it and it answers nothing of ours: kept and listed, never a ticket or a reply
        await store.update_email(uow, email_id, {"status": "not_a_request", "customer_id": customer_id})
        return EmailOutcome("not_a_request", email_id, notes=classification.reasons)

    hints = extract_ticket_hints(email.text[:20_000], default_region=settings.default_region)
    ticket = await tickets.open_ticket(
        uow,
        actor=MAILER,
        command=tickets.OpenTicket(
            channel=Channel.EMAIL,
            customer_id=customer_id,
            contact_email=email.reply_address,
            contact_name=email.from_name[:200] or None,
            contact_phone=hints.phone_numbers[0] if hints.phone_numbers else None,
            subject=email.subject[:300] or None,
            fault_description=(strip_quoted_reply(email.text) or email.subject)[:4000] or None,
            product=ProductRef(serial_number=hints.serial_numbers[0][:64]) if hints.serial_numbers else None,
            source_reference=reference,
            attachments=tuple(tickets.attachment_ref(file, kind="email_attachment") for file in files),
        ),
    )
    await store.set_attachments_ticket(uow, "email", email_id, ticket.id)
    await store.update_email(
        uow, email_id, {"status": "ticket_opened", "ticket_id": ticket.id, "customer_id": ticket.customer_id}
    )
    await tickets.note_contact(
        uow,
        customer_id=ticket.customer_id,
        kind="email",
        reference=reference,
        at=received_at,
        summary=email.subject[:200] or "email",
    )
    if classification.may_auto_respond:
        await _queue_acknowledgment(uow, email_id, email, ticket, settings)
    return EmailOutcome("ticket_opened", email_id, ticket.id, ticket.number)


def mail_reference(email: InboundEmail) -> str:
    """The reference a message leaves on its ticket (its Message-ID, or a hash when that is too long)."""
    if email.message_id:
        reference = tickets.message_ref(email.message_id)
        if len(reference) <= 300:
            return reference
    return f"mail:sha256:{store.key_of(email.dedup_key)}"


def _email_row(
    email_id: str,
    email: InboundEmail,
    source: EmailSource,
    classification: Classification,
    raw_sha256: str,
    received_at: datetime,
) -> dict[str, object]:
    return {
        "id": email_id,
        "message_key": store.key_of(email.dedup_key),
        "message_id": email.message_id[:998] if email.message_id else None,
        "source": source.kind,
        "mailbox": source.mailbox,
        "envelope_from": (source.envelope_from or "")[:320] or None,
        "from_address": (email.from_address or "")[:320] or None,
        "from_name": email.from_name[:200],
        "subject": email.subject[:1000],
        "sent_at": email.date,
        "received_at": received_at,
        "kind": classification.kind.value,
        "kind_reasons": list(classification.reasons),
        "text": email.text,
        "text_source": email.text_source,
        "notes": [{"code": note.code, "detail": note.detail[:300]} for note in email.notes[:100]],
        "raw_sha256": raw_sha256,
        "size": len(email.raw),
        "status": "processing",
    }


async def _store_attachments(uow: UnitOfWork, email_id: str, email: InboundEmail) -> list[store.StoredFile]:
    files: list[store.StoredFile] = []
    for attachment in email.attachments:
        digest = await store.put_blob(uow, attachment.data, attachment.content_type)
        files.append(
            store.StoredFile(
                id=str(uuid.uuid4()),
                filename=attachment.filename,
                content_type=attachment.content_type,
                declared_content_type=attachment.declared_content_type,
                size=attachment.size,
                sha256=digest,
                inline=attachment.inline,
                content_id=attachment.content_id,
            )
        )
    await store.add_attachments(uow, "email", email_id, files, ticket_id=None)
    return files


async def _find_ticket(
    uow: UnitOfWork, email: InboundEmail, customer_id: str | None
) -> tuple[tickets.TicketRef, str] | None:
    """The ticket the message answers: by our Message-IDs it refers to, else by a ticket number in
    the subject, which counts only when the sender is that ticket's customer (anyone can type one)."""
    by_number: dict[str, tickets.TicketRef] = {}

    async def known_ids(message_ids: Sequence[str]) -> dict[str, str]:
        keys = {store.key_of(message_id): message_id for message_id in message_ids}
        found = await store.tickets_by_message_keys(uow, list(keys))
        return {keys[key]: ticket_id for key, ticket_id in found.items()}

    async def ticket_by_number(number: str) -> str | None:
        ticket = await tickets.find_ticket(uow, number)
        if ticket is None:
            return None
        by_number[ticket.id] = ticket
        return ticket.id

    match = await find_thread(email, tickets_by_message_id=known_ids, ticket_by_number=ticket_by_number)
    if match is None:
        return None
    if match.by == "subject":
        ticket = by_number[match.ticket]
        if customer_id is None or customer_id != ticket.customer_id:
            return None
        return ticket, match.by
    found = await tickets.ticket_by_id(uow, match.ticket)
    return (found, match.by) if found is not None else None


async def _record_gateway_fax(
    uow: UnitOfWork,
    email_id: str,
    email: InboundEmail,
    settings: ChannelSettings,
    *,
    received_at: datetime,
    releasing: bool = False,
) -> EmailOutcome:
    gateway = settings.fax_gateway()
    assert gateway is not None
    fax = fax_from_email(email, gateway, received_at=received_at)
    if isinstance(fax, Rejected):
        held = await quarantine(
            uow,
            fax,
            channel="fax",
            source="email-gateway",
            received_at=received_at,
            context={"email_id": email_id},
            releasing=releasing,
        )
        await store.update_email(uow, email_id, {"status": "quarantined"})
        return EmailOutcome(
            "quarantined", email_id, quarantine_id=held.item_id, reason_code=held.code, reason=held.reason
        )
    assert fax is not None
    recorded = await fax_ops.record_fax(uow, fax, email_id=email_id)
    await store.update_email(uow, email_id, {"status": "fax", "fax_id": recorded.fax_id})
    return EmailOutcome("fax", email_id, fax_id=recorded.fax_id)


# --- acknowledgments ---------------------------------------------------------------------------------


async def _queue_acknowledgment(
    uow: UnitOfWork, email_id: str, email: InboundEmail, ticket: tickets.TicketRef, settings: ChannelSettings
) -> None:
    sender = settings.ack_sender()
    if sender is None or email.reply_address is None:
        uow.after_commit(ACKNOWLEDGMENTS.labels(uow.db.service, "not_configured").inc)
        return
    message = build_acknowledgment(
        email,
        ticket_number=ticket.number,
        from_address=sender,
        from_name=settings.ack_from_name,
        message_id_domain=settings.message_id_domain,
        now=uow.now(),
    )
    message_id = str(message["Message-ID"])
    outbound_id = str(uuid.uuid4())
    configured = settings.smtp() is not None
    await store.add_outbound(
        uow,
        {
            "id": outbound_id,
            "email_id": email_id,
            "ticket_id": ticket.id,
            "ticket_number": ticket.number,
            "to_address": email.reply_address[:320],
            "message_id": message_id,
            "message_key": store.key_of(message_id),
            "raw": message.as_bytes(),
            "status": "pending" if configured else "not_configured",
            "attempts": 0,
            "next_attempt_at": uow.now() if configured else None,
        },
    )
    if configured:
        uow.after_commit(partial(wakers.wake, uow.db.service, MAILER_LOOP))
    else:
        uow.after_commit(ACKNOWLEDGMENTS.labels(uow.db.service, "not_configured").inc)


def retry_delay(attempt: int) -> timedelta:
    """Back-off between delivery attempts: 1, 2, 4 … minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempt - 1, 0), 60))


async def claim_acknowledgment(db: Database, settings: ChannelSettings) -> tuple[str, bytes] | None:
    """The next acknowledgment due and its message, leased to this sender for longer than one attempt
    can take; None when none is due."""
    async with db.transaction() as uow:
        now = uow.now()
        lease = timedelta(seconds=settings.smtp_timeout_seconds * 3 + 60)
        row = await store.claim_outbound(uow, now=now, lease_until=now + lease)
        return None if row is None else (row["id"], bytes(row["raw"]))


async def deliver_acknowledgment(
    db: Database, outbound_id: str, raw: bytes, settings: ChannelSettings
) -> str:
    """Submit one acknowledgment over SMTP, outside any transaction (a slow or absent mail server holds
    no connection and delays nothing else), then record how it went: sent; a temporary failure tried
    again later; a permanent one, or too many, failed. Its status afterwards."""
    smtp = settings.smtp()
    result = None
    if smtp is not None:
        message = email_parser.message_from_bytes(raw, policy=default_policy)
        assert isinstance(message, EmailMessage)
        result = await send_acknowledgment(message, smtp)
    async with db.transaction() as uow:
        row = await store.lock_outbound(uow, outbound_id)
        if row is None or row["status"] != "pending":
            return "gone" if row is None else str(row["status"])
        return await _record_attempt(uow, row, result, settings)


async def _record_attempt(
    uow: UnitOfWork, row: RowMapping, result: DeliveryResult | None, settings: ChannelSettings
) -> str:
    outbound_id, service, now = row["id"], uow.db.service, uow.now()
    if result is None:
        await store.update_outbound(uow, outbound_id, {"status": "not_configured", "next_attempt_at": None})
        uow.after_commit(ACKNOWLEDGMENTS.labels(service, "not_configured").inc)
        return "not_configured"
    attempts = row["attempts"] + 1
    if result.delivered:
        await store.update_outbound(
            uow,
            outbound_id,
            {"status": "sent", "attempts": attempts, "sent_at": now, "next_attempt_at": None},
        )
        await tickets.mark_acknowledged(uow, ticket_id=row["ticket_id"], at=now, actor=MAILER)
        uow.after_commit(ACKNOWLEDGMENTS.labels(service, "sent").inc)
        return "sent"
    error = result.detail[:300]
    if result.permanent or attempts >= settings.ack_max_attempts:
        await store.update_outbound(
            uow,
            outbound_id,
            {"status": "failed", "attempts": attempts, "last_error": error, "next_attempt_at": None},
        )
        uow.after_commit(ACKNOWLEDGMENTS.labels(service, "failed").inc)
        return "failed"
    await store.update_outbound(
        uow,
        outbound_id,
        {"attempts": attempts, "last_error": error, "next_attempt_at": now + retry_delay(attempts)},
    )
    uow.after_commit(ACKNOWLEDGMENTS.labels(service, "retry").inc)
    return "pending"
