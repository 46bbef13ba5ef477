"""The transactional outbox: events are rows committed with the business change that caused them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.envelope import CloudEvent


def notify_channel(service: str) -> str:
    return f"outbox_{service}".replace("-", "_")


def rows(events: Sequence[CloudEvent]) -> list[dict[str, object]]:
    """The outbox rows for ``events``, in order (the relay publishes them in this order)."""
    now = datetime.now(UTC)
    return [
        {"event_id": e.id, "event_type": e.type, "body": e.to_json(), "created_at": now, "attempts": 0}
        for e in events
    ]


async def stage(conn: AsyncConnection, outbox: Table, events: Sequence[CloudEvent], *, service: str) -> None:
    """Insert the events into the outbox inside the caller's open transaction.

    On PostgreSQL a NOTIFY is queued too; it is delivered only if the transaction commits, which
    wakes relays in other processes.
    """
    if not events:
        return
    await conn.execute(outbox.insert(), rows(events))
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": notify_channel(service)})
