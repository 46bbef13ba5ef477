"""Small helpers for reading rows the same way on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime


def aware(at: datetime) -> datetime:
    """``at`` as an aware UTC instant: SQLite hands timezone-aware columns back naive (written in UTC)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def maybe_aware(at: datetime | None) -> datetime | None:
    return None if at is None else aware(at)
