"""The inbox: the ids of events a service has applied, recorded with the handler's effects."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Table, TextClause, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection


async def record(conn: AsyncConnection, inbox: Table, *, event_id: str, event_type: str) -> bool:
    """Record an event as applied in the open transaction; False if it was applied before.

    A concurrent transaction recording the same id makes this one wait for its outcome, so two
    consumers racing on one duplicated event apply it once.
    """
    values = {"event_id": event_id, "event_type": event_type, "processed_at": datetime.now(UTC)}
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(inbox)
        .values(values)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(inbox.c.event_id)
    )
    result = await conn.execute(stmt)
    return result.first() is not None


async def record_many(conn: AsyncConnection, inbox: Table, events: list[tuple[str, str]]) -> set[str]:
    """Record many ``(event_id, event_type)`` at once; the ids not applied before."""
    if not events:
        return set()
    unique = dict(events)
    if conn.dialect.name == "postgresql":
        # The ids travel as two arrays: every batch, whatever its size, is one prepared statement.
        params = {"ids": list(unique), "types": list(unique.values())}
        result = await conn.execute(_pg_record_many(conn, inbox), params)
    else:
        now = datetime.now(UTC)
        result = await conn.execute(
            sqlite_insert(inbox)
            .values([{"event_id": i, "event_type": t, "processed_at": now} for i, t in unique.items()])
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(inbox.c.event_id)
        )
    return {row[0] for row in result.all()}


_pg_statements: dict[str, TextClause] = {}


def _pg_record_many(conn: AsyncConnection, inbox: Table) -> TextClause:
    stmt = _pg_statements.get(inbox.fullname)
    if stmt is None:
        name = conn.dialect.identifier_preparer.format_table(inbox)
        stmt = _pg_statements[inbox.fullname] = text(
            f"INSERT INTO {name} (event_id, event_type, processed_at) "  # noqa: S608 - a table name
            "SELECT i, t, now() FROM unnest(CAST(:ids AS text[]), CAST(:types AS text[])) AS u(i, t) "
            "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
        )
    return stmt
