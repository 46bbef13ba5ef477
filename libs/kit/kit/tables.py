"""Platform tables every service keeps beside its own: outbox, inbox, timers, idempotency keys, audit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import JSON, Column, Index, Integer, LargeBinary, MetaData, String, Table, Text

from messaging.tables import SEQ_TYPE, define_messaging_tables
from messaging.tables import (
    UtcDateTime as UtcDateTime,  # re-exported: the column type of every service's instants
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """A MetaData with stable constraint names, so migrations diff cleanly."""
    return MetaData(naming_convention=NAMING_CONVENTION)


@dataclass(frozen=True)
class PlatformTables:
    outbox: Table
    inbox: Table
    timers: Table
    idempotency: Table
    audit: Table


def define_platform_tables(metadata: MetaData) -> PlatformTables:
    messaging = define_messaging_tables(metadata)
    timers = Table(
        "timers",
        metadata,
        Column("id", String(64), primary_key=True),
        Column("kind", String(100), nullable=False),
        Column("key", String(200), nullable=False),
        Column("due_at", UtcDateTime(), nullable=False),
        Column("payload", JSON, nullable=False, default=dict),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("fired_at", UtcDateTime(), nullable=True),
        Column("cancelled_at", UtcDateTime(), nullable=True),
        Column("attempts", Integer, nullable=False, default=0, server_default="0"),
        Column("last_error", Text, nullable=True),
    )
    Index(
        "ix_timers_pending_due",
        timers.c.due_at,
        postgresql_where=timers.c.fired_at.is_(None) & timers.c.cancelled_at.is_(None),
    )
    Index("ix_timers_kind_key", timers.c.kind, timers.c.key)
    idempotency = Table(
        "idempotency_keys",
        metadata,
        Column("scope", String(300), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("body", LargeBinary, nullable=False),
        Column("headers", JSON, nullable=False, default=dict),
        Column("created_at", UtcDateTime(), nullable=False),
    )
    audit = Table(
        "audit_log",
        metadata,
        Column("seq", SEQ_TYPE, primary_key=True, autoincrement=True),
        Column("at", UtcDateTime(), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("action", String(100), nullable=False),
        Column("entity_type", String(100), nullable=False),
        Column("entity_id", String(200), nullable=False),
        Column("correlation_id", String(200), nullable=True),
        Column("detail", JSON, nullable=False, default=dict),
    )
    Index("ix_audit_entity", audit.c.entity_type, audit.c.entity_id)
    return PlatformTables(messaging.outbox, messaging.inbox, timers, idempotency, audit)
