"""Intake tables of the channels: calls, call-backs, inbound emails and faxes, files, acknowledgments,
and the quarantine.

File contents live in ``blobs``, keyed by their SHA-256, in the service's own database: a file and
the row that refers to it commit in one transaction (no orphan files, no rows pointing at nothing),
they are backed up and restored with the database, and every API or worker replica reads them
without a shared disk. Inputs are bounded (25 MB per message by default), well within PostgreSQL's
``bytea``; the same file received twice is stored once.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from intake.tables.base import metadata
from kit.leases import define_lease_table
from kit.tables import UtcDateTime

__all__ = [
    "attachments",
    "blobs",
    "callbacks",
    "calls",
    "email_sources",
    "emails",
    "faxes",
    "mailbox_leases",
    "metadata",
    "outbound_mail",
    "quarantine",
]

calls = Table(
    "calls",
    metadata,
    Column("call_id", String(250), primary_key=True),
    Column("direction", String(8), nullable=False),
    Column("from_number", String(200), nullable=True),
    Column("to_number", String(200), nullable=True),
    Column("customer_number", String(32), nullable=True),
    Column("queue", String(200), nullable=True),
    Column("users", JSON, nullable=False),
    Column("started_at", UtcDateTime(), nullable=True),
    Column("answered_at", UtcDateTime(), nullable=True),
    Column("ended_at", UtcDateTime(), nullable=True),
    Column("answered_by", String(200), nullable=True),
    Column("cause", String(32), nullable=True),
    Column("outcome", String(32), nullable=False),
    Column("ring_seconds", Float, nullable=True),
    Column("within_target", Boolean, nullable=True),
    Column("customer_id", String(64), nullable=True),
    Column("ticket_id", String(64), nullable=True),
    Column("seen", JSON, nullable=False),
    Column("out_of_hours", Boolean, nullable=False, default=False),
    Column("answer_reported", Boolean, nullable=False, default=False),
    Column("miss_reported", Boolean, nullable=False, default=False),
    Column("end_reported", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
Index("ix_calls_created_at", calls.c.created_at)
Index("ix_calls_customer_number", calls.c.customer_number)

callbacks = Table(
    "callbacks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("call_id", String(250), nullable=False, unique=True),
    Column("number", String(32), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("customer_id", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("outcome", String(32), nullable=True),
    Column("taken_by", String(200), nullable=True),
    Column("escalation_level", Integer, nullable=False, default=0),
    Column("escalated_at", UtcDateTime(), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("attempts", JSON, nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_callbacks_status_due_at", callbacks.c.status, callbacks.c.due_at)
Index("ix_callbacks_number", callbacks.c.number)

blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

emails = Table(
    "emails",
    metadata,
    Column("id", String(64), primary_key=True),
    # sha256 of the Message-ID (or of the content when there is none): a message is recorded once
    Column("message_key", String(64), nullable=False, unique=True),
    Column("message_id", String(998), nullable=True),
    Column("source", String(16), nullable=False),
    Column("mailbox", String(200), nullable=True),
    Column("envelope_from", String(320), nullable=True),
    Column("from_address", String(320), nullable=True),
    Column("from_name", String(200), nullable=False),
    Column("subject", String(1000), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("kind_reasons", JSON, nullable=False),
    Column("text", Text, nullable=False),
    Column("text_source", String(8), nullable=False),
    Column("notes", JSON, nullable=False),
    Column("raw_sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("status", String(24), nullable=False),
    Column("thread_by", String(16), nullable=True),
    Column("ticket_id", String(64), nullable=True),
    Column("customer_id", String(64), nullable=True),
    Column("fax_id", String(64), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
)
Index("ix_emails_ticket_id", emails.c.ticket_id)
Index("ix_emails_received_at", emails.c.received_at)

email_sources = Table(
    "email_sources",
    metadata,
    # "imap:<mailbox>:<uidvalidity>:<uid>": an IMAP message handed over again is recognised even
    # when it was quarantined (and so has no email row)
    Column("source_key", String(300), primary_key=True),
    Column("email_id", String(64), nullable=True),
    Column("quarantine_id", String(64), nullable=True),
    Column("recorded_at", UtcDateTime(), nullable=False),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("owner_type", String(16), nullable=False),
    Column("owner_id", String(64), nullable=False),
    Column("ticket_id", String(64), nullable=True),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("declared_content_type", String(200), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("inline", Boolean, nullable=False, default=False),
    Column("content_id", String(200), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
)
Index("ix_attachments_owner", attachments.c.owner_type, attachments.c.owner_id)
Index("ix_attachments_ticket_id", attachments.c.ticket_id)

outbound_mail = Table(
    "outbound_mail",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("email_id", String(64), nullable=False, unique=True),
    Column("ticket_id", String(64), nullable=False),
    Column("ticket_number", String(32), nullable=False),
    Column("to_address", String(320), nullable=False),
    Column("message_id", String(998), nullable=False),
    Column("message_key", String(64), nullable=False, unique=True),
    Column("raw", LargeBinary, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(300), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    # pending: when the mailer tries next (or when the lease of the attempt under way runs out)
    Column("next_attempt_at", UtcDateTime(), nullable=True),
)
Index("ix_outbound_mail_ticket_id", outbound_mail.c.ticket_id)
Index("ix_outbound_mail_due", outbound_mail.c.status, outbound_mail.c.next_attempt_at)

faxes = Table(
    "faxes",
    metadata,
    Column("id", String(64), primary_key=True),
    # the provider's fax id (or the gateway mail's Message-ID): a redelivered webhook is one fax
    Column("dedup_key", String(300), nullable=False, unique=True),
    Column("channel", String(16), nullable=False),
    Column("provider_fax_id", String(200), nullable=True),
    Column("sender_number", String(32), nullable=True),
    Column("sender_raw", String(64), nullable=False),
    Column("recipient_number", String(32), nullable=True),
    Column("pages_declared", Integer, nullable=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("status", String(24), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("last_error", String(300), nullable=True),
    Column("ocr_text", Text, nullable=True),
    Column("serial_numbers", JSON, nullable=False),
    Column("phone_numbers", JSON, nullable=False),
    Column("fault_description", Text, nullable=True),
    Column("customer_id", String(64), nullable=True),
    Column("ticket_id", String(64), nullable=True),
    Column("email_id", String(64), nullable=True),
    Column("quarantine_id", String(64), nullable=True),
    Column("notes", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
Index("ix_faxes_status_next_attempt_at", faxes.c.status, faxes.c.next_attempt_at)
Index("ix_faxes_received_at", faxes.c.received_at)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("source", String(200), nullable=False),
    Column("reason_code", String(64), nullable=False),
    Column("reason", String(1000), nullable=False),
    Column("raw_sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("context", JSON, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("quarantined_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("release_count", Integer, nullable=False, default=0),
    Column("resolved_at", UtcDateTime(), nullable=True),
    Column("resolved_by", String(200), nullable=True),
    Column("resolution", String(200), nullable=True),
    Column("version", Integer, nullable=False),
)
Index("ix_quarantine_status_quarantined_at", quarantine.c.status, quarantine.c.quarantined_at)
Index("ix_quarantine_raw_sha256", quarantine.c.raw_sha256)

#: Which replica polls which IMAP mailbox now (one at a time; see kit.leases).
mailbox_leases = define_lease_table(metadata, "mailbox_leases")
