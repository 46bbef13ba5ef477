"""Fax use cases: a delivery recorded once with its document, then read (inspection, OCR) outside any
transaction, and the reading turned into a pre-filled ticket, a message on an existing ticket, or a
quarantined document.

A fax is kept before it is read: the provider is answered as soon as the document is stored, and a
reader that crashes or an OCR engine that fails leaves the fax waiting to be read again.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.engine import RowMapping

from intake.channels import Rejected
from intake.channels.fax import (
    DocumentText,
    InboundFax,
    OcrError,
    extract_ticket_hints,
    read_document,
    read_fax_webhook,
)
from intake.channels.metrics import INBOUND, OCR_SECONDS
from intake.channels.settings import ChannelSettings, channel_settings
from intake.domain.common import Actor
from intake.domain.ticket_values import Channel, ProductRef, find_ticket_numbers
from intake.operations.channels import tickets
from intake.operations.channels.quarantine import hold_again, quarantine
from intake.store import channels as store
from kit.db import Database, UnitOfWork

FAX_MACHINE = Actor.system("fax")
READ_LEASE = timedelta(minutes=15)
FaxStatus = Literal["received", "duplicate", "quarantined"]


@dataclass(frozen=True)
class FaxRecorded:
    fax_id: str
    duplicate: bool = False


@dataclass(frozen=True)
class FaxOutcome:
    """What became of one provider delivery."""

    status: FaxStatus
    fax_id: str | None = None
    quarantine_id: str | None = None
    reason_code: str | None = None
    reason: str | None = None


async def record_fax(uow: UnitOfWork, fax: InboundFax, *, email_id: str | None = None) -> FaxRecorded:
    """Keep a received fax and its document, once per provider fax id, waiting to be read."""
    if fax.provider_fax_id:
        dedup_key = f"{fax.channel}:{fax.provider_fax_id}"
    else:
        dedup_key = f"{fax.channel}:sha256:{fax.document.sha256}:{fax.sender_raw}"
    dedup_key = dedup_key[:300]
    existing = await store.fax_by_dedup_key(uow, dedup_key)
    if existing is not None:
        return FaxRecorded(existing["id"], duplicate=True)
    fax_id = str(uuid.uuid4())
    digest = await store.put_blob(uow, fax.document.data, fax.document.content_type)
    added = await store.add_fax(
        uow,
        {
            "id": fax_id,
            "dedup_key": dedup_key,
            "channel": fax.channel,
            "provider_fax_id": fax.provider_fax_id[:200] if fax.provider_fax_id else None,
            "sender_number": fax.sender_number,
            "sender_raw": fax.sender_raw[:64],
            "recipient_number": fax.recipient_number,
            "pages_declared": fax.pages,
            "received_at": fax.received_at,
            "document_sha256": digest,
            "content_type": fax.document.content_type,
            "size": fax.document.size,
            "status": "received",
            "attempts": 0,
            "serial_numbers": [],
            "phone_numbers": [],
            "email_id": email_id,
            "notes": [{"code": note.code, "detail": note.detail[:300]} for note in fax.notes[:50]],
        },
    )
    if not added:  # a concurrent delivery of the same fax got there first
        found = await store.fax_by_dedup_key(uow, dedup_key)
        return FaxRecorded(found["id"] if found else fax_id, duplicate=True)
    await store.add_attachments(
        uow,
        "fax",
        fax_id,
        [
            store.StoredFile(
                id=str(uuid.uuid4()),
                filename=f"fax-{fax.received_at:%Y%m%d-%H%M%S}{'.pdf' if fax.document.content_type == 'application/pdf' else '.tif'}",
                content_type=fax.document.content_type,
                declared_content_type=fax.document.content_type,
                size=fax.document.size,
                sha256=digest,
            )
        ],
        ticket_id=None,
    )
    return FaxRecorded(fax_id)


async def receive_fax_delivery(
    db: Database, body: bytes, headers: Mapping[str, str], *, received_at: datetime
) -> FaxOutcome:
    """Record an authenticated provider delivery: the fax, or the refused body in quarantine."""
    settings = channel_settings(db.service)
    fax = await asyncio.to_thread(
        read_fax_webhook,
        body,
        headers,
        now=received_at,
        limits=settings.fax_webhook_limits(),
        default_region=settings.default_region,
    )
    async with db.transaction() as uow:
        outcome = await record_delivery(uow, fax, headers, received_at=received_at)
    INBOUND.labels(db.service, "fax", "webhook", outcome.status).inc()
    return outcome


async def record_delivery(
    uow: UnitOfWork, fax: InboundFax | Rejected, headers: Mapping[str, str], *, received_at: datetime
) -> FaxOutcome:
    if isinstance(fax, Rejected):
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        held = await quarantine(
            uow,
            fax,
            channel="fax",
            source="webhook",
            received_at=received_at,
            context={"content_type": content_type[:300]},
        )
        return FaxOutcome(
            "quarantined", quarantine_id=held.item_id, reason_code=held.code, reason=held.reason
        )
    recorded = await record_fax(uow, fax)
    return FaxOutcome("duplicate" if recorded.duplicate else "received", fax_id=recorded.fax_id)


# --- reading -----------------------------------------------------------------------------------------


async def claim_fax(db: Database) -> tuple[str, bytes] | None:
    """The next fax to read and its document, leased to this reader; None when none is waiting."""
    async with db.transaction() as uow:
        now = uow.now()
        row = await store.claim_fax_to_read(uow, now=now, lease_until=now + READ_LEASE)
        if row is None:
            return None
        return row["id"], await store.get_blob(uow, row["document_sha256"])


async def read_fax(db: Database, fax_id: str, document: bytes, settings: ChannelSettings) -> str:
    """Inspect and OCR the document (subprocesses, off the event loop), then act on what was read;
    the fax's new status."""
    started = time.perf_counter()
    reading: DocumentText | Rejected | OcrError
    try:
        reading = await read_document(document, limits=settings.document_limits(), ocr=settings.ocr())
    except OcrError as exc:
        reading = exc
    outcome = (
        "engine_error"
        if isinstance(reading, OcrError)
        else "rejected"
        if isinstance(reading, Rejected)
        else "read"
    )
    OCR_SECONDS.labels(db.service, outcome).observe(time.perf_counter() - started)
    async with db.transaction() as uow:
        return await apply_reading(uow, fax_id, reading, settings)


async def apply_reading(
    uow: UnitOfWork, fax_id: str, reading: DocumentText | Rejected | OcrError, settings: ChannelSettings
) -> str:
    row = await store.lock_fax(uow, fax_id)
    if row["status"] != "reading":
        return str(row["status"])  # released or finished by someone else meanwhile
    now = uow.now()
    if isinstance(reading, Rejected):
        if row["quarantine_id"]:
            held = await hold_again(uow, row["quarantine_id"], reading, actor=FAX_MACHINE)
        else:
            held = await quarantine(
                uow,
                reading,
                channel="fax",
                source=f"fax:{fax_id}",
                received_at=row["received_at"],
                context={"fax_id": fax_id, "sender_number": row["sender_number"]},
            )
        await store.update_fax(
            uow, fax_id, {"status": "quarantined", "quarantine_id": held.item_id, "next_attempt_at": None}
        )
        uow.after_commit(INBOUND.labels(uow.db.service, "fax", row["channel"], "quarantined").inc)
        return "quarantined"
    if isinstance(reading, OcrError):
        attempts = row["attempts"] + 1
        if attempts < settings.ocr_max_attempts:
            await store.update_fax(
                uow,
                fax_id,
                {
                    "status": "received",
                    "attempts": attempts,
                    "next_attempt_at": now + timedelta(minutes=min(2**attempts, 60)),
                    "last_error": str(reading)[:300],
                },
            )
            return "received"
        # the engine keeps failing: the request must not wait for it, an agent reads the document
        await store.update_fax(uow, fax_id, {"attempts": attempts, "last_error": str(reading)[:300]})
        return await _turn_into_ticket(uow, row, text="", settings=settings)
    await store.update_fax(uow, fax_id, {"ocr_text": reading.text[:200_000], "attempts": row["attempts"] + 1})
    return await _turn_into_ticket(uow, row, text=reading.text, settings=settings)


async def _turn_into_ticket(uow: UnitOfWork, row: RowMapping, *, text: str, settings: ChannelSettings) -> str:
    fax_id = row["id"]
    hints = extract_ticket_hints(text[:50_000], default_region=settings.default_region)
    customer_id = None
    for phone in (row["sender_number"], *hints.phone_numbers):
        if phone and customer_id is None:
            customer_id = await tickets.match_customer(uow, phone=phone)
    values: dict[str, object] = {
        "serial_numbers": list(hints.serial_numbers[:20]),
        "phone_numbers": list(hints.phone_numbers[:20]),
        "fault_description": hints.fault_description,
        "customer_id": customer_id,
        "next_attempt_at": None,
    }
    attachments = await store.attachments_of(uow, "fax", fax_id)
    for number in find_ticket_numbers(text[:50_000]):
        found = await tickets.find_ticket(uow, number)
        if found is None or not found.is_open or customer_id not in (None, found.customer_id):
            continue
        threaded = await tickets.add_customer_message(
            uow,
            ticket_id=found.id,
            via=Channel.FAX,
            body=(hints.fault_description or text or "fax received")[:4000],
            reference=tickets.fax_ref(fax_id),
            attachments=tuple(tickets.attachment_ref(a, kind="fax") for a in attachments),
            actor=FAX_MACHINE,
        )
        if threaded is not None:
            await store.set_attachments_ticket(uow, "fax", fax_id, threaded.id)
            await store.update_fax(uow, fax_id, {**values, "status": "threaded", "ticket_id": threaded.id})
            uow.after_commit(INBOUND.labels(uow.db.service, "fax", row["channel"], "threaded").inc)
            return "threaded"
    ticket = await tickets.open_ticket(
        uow,
        actor=FAX_MACHINE,
        command=tickets.OpenTicket(
            channel=Channel.FAX,
            customer_id=customer_id,
            contact_phone=row["sender_number"] or (hints.phone_numbers[0] if hints.phone_numbers else None),
            subject=f"Fax from {row['sender_number'] or row['sender_raw'] or 'an unknown number'}"[:300],
            fault_description=hints.fault_description or (text.strip()[:4000] or None),
            product=ProductRef(serial_number=hints.serial_numbers[0][:64]) if hints.serial_numbers else None,
            source_reference=tickets.fax_ref(fax_id),
            attachments=tuple(tickets.attachment_ref(a, kind="fax") for a in attachments),
        ),
        received_at=row["received_at"],
    )
    await store.set_attachments_ticket(uow, "fax", fax_id, ticket.id)
    await store.update_fax(uow, fax_id, {**values, "status": "ticket_opened", "ticket_id": ticket.id})
    await tickets.note_contact(
        uow,
        customer_id=ticket.customer_id,
        kind="fax",
        reference=tickets.fax_ref(fax_id),
        at=row["received_at"],
        summary=f"fax from {row['sender_number'] or row['sender_raw'] or 'unknown'}"[:200],
    )
    uow.after_commit(INBOUND.labels(uow.db.service, "fax", row["channel"], "ticket_opened").inc)
    return "ticket_opened"


async def requeue_for_reading(uow: UnitOfWork, fax_id: str) -> None:
    """A quarantined document released after a fix: read it again."""
    await store.lock_fax(uow, fax_id)
    await store.update_fax(uow, fax_id, {"status": "received", "attempts": 0, "next_attempt_at": None})
