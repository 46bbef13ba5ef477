"""Intake tables: tickets, their numbers and outside references, SLA clocks and policy, local copies.

A ticket is stored whole as a JSON document (``doc``: notes, timeline, links, watchers …) beside the
columns it is listed and filtered by; ``version`` counts saves (the ETag). SLA clocks are one row per
target, so the compliance report is a query. Work orders, entitlements and claims are local copies
fed by other services' events: intake never reads their databases.
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from intake.tables.base import metadata
from kit.tables import UtcDateTime

SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")

tickets = Table(
    "tickets",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("channel", String(16), nullable=False),
    Column("type", String(32), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("customer_tier", String(1), nullable=True),
    Column("owner_id", String(64), nullable=True, index=True),
    Column("dealer_id", String(64), nullable=True, index=True),
    Column("serial_number", String(64), nullable=True, index=True),
    Column("region_code", String(40), nullable=True),
    Column("needs_on_site", Boolean, nullable=False),
    Column("source_reference", String(300), nullable=True),
    Column("merged_into", String(64), nullable=True),
    # for a complaint: the ticket it is about
    Column("related_ticket_id", String(64), nullable=True, index=True),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("resolved_at", UtcDateTime(), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("version", Integer, nullable=False),
    Column("doc", JSON, nullable=False),
)
Index("ix_tickets_opened", tickets.c.opened_at, tickets.c.id)
Index("ix_tickets_status_opened", tickets.c.status, tickets.c.opened_at)

# One row per number handed out; the sequence behind ``seq`` never repeats and never blocks a
# concurrent create (a rolled-back create leaves a gap, which is fine for a human-readable number).
ticket_numbers = Table(
    "ticket_numbers",
    metadata,
    Column("seq", SEQ_TYPE, primary_key=True, autoincrement=True),
    Column("year", Integer, nullable=False),
    Column("allocated_at", UtcDateTime(), nullable=False),
)

# Outside keys a ticket answers to: the call id, Message-IDs, fax id, survey response it came from.
ticket_refs = Table(
    "ticket_refs",
    metadata,
    Column("ref", String(300), primary_key=True),
    Column("ticket_id", String(64), ForeignKey("tickets.id"), nullable=False, index=True),
)

sla_clocks = Table(
    "sla_clocks",
    metadata,
    Column("ticket_id", String(64), ForeignKey("tickets.id"), primary_key=True),
    Column("kind", String(32), primary_key=True),
    # the ticket facts the report groups by, as they were when the clock was last saved
    Column("channel", String(16), nullable=False),
    Column("type", String(32), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("tier", String(1), nullable=True),
    Column("owner_id", String(64), nullable=True),
    Column("state", String(16), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("stopped_at", UtcDateTime(), nullable=True),
    Column("at_risk_at", UtcDateTime(), nullable=True),
    Column("running_since", UtcDateTime(), nullable=True),
    Column("consumed_seconds", Float, nullable=False),
    Column("target_seconds", Float, nullable=False),
    Column("basis", String(16), nullable=False),
    Column("pauses", Boolean, nullable=False),
    Column("warned", Boolean, nullable=False),
    Column("breach_reported", Boolean, nullable=False),
    # breached as judged at the last save; a running clock is also breached once due_at has passed
    Column("breached", Boolean, nullable=False),
)
Index("ix_sla_clocks_started", sla_clocks.c.started_at)
Index("ix_sla_clocks_breached", sla_clocks.c.breached, sla_clocks.c.ticket_id)

# The SLA policy book and the business calendar, one row, edited through the API (version = ETag).
sla_settings = Table(
    "sla_settings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    Column("rules", JSON, nullable=False),
    Column("at_risk_ratio", Float, nullable=False),
    Column("escalate_to", String(64), nullable=False),
    Column("calendar", JSON, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("updated_by", String(200), nullable=False),
)

# --- local copies of other services' facts ----------------------------------------------------------

ticket_work_orders = Table(
    "ticket_work_orders",
    metadata,
    Column("work_order_id", String(64), primary_key=True),
    Column("ticket_id", String(64), nullable=False, index=True),
    Column("number", String(32), nullable=True),
    Column("state", String(32), nullable=False),
    Column("technician_id", String(64), nullable=True),
    Column("technician_name", String(200), nullable=True),
    Column("appointment_start", UtcDateTime(), nullable=True),
    Column("appointment_end", UtcDateTime(), nullable=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

ticket_entitlements = Table(
    "ticket_entitlements",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("entitlement_id", String(64), nullable=False),
    Column("serial_number", String(64), nullable=True),
    Column("coverage", String(32), nullable=False),
    Column("billing", String(16), nullable=False),
    Column("expires_on", Date, nullable=True),
    Column("remedies", JSON, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("determined_at", UtcDateTime(), nullable=False),
)

ticket_claims = Table(
    "ticket_claims",
    metadata,
    Column("claim_id", String(64), primary_key=True),
    Column("ticket_id", String(64), nullable=False, index=True),
    Column("claim_number", String(40), nullable=False),
    Column("work_order_id", String(64), nullable=True),
    Column("state", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

__all__ = [
    "metadata",
    "sla_clocks",
    "sla_settings",
    "ticket_claims",
    "ticket_entitlements",
    "ticket_numbers",
    "ticket_refs",
    "ticket_work_orders",
    "tickets",
]
