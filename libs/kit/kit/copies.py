"""Rows written once whatever replays or races: local copies of other services' facts kept newest-first,
and records of outside messages inserted only if new — each in one statement.

A service keeps the few facts it needs from others (a work order's state, a unit's registration, an
entitlement) as rows fed by events. Events arrive late, twice, and out of order, and several consumers
apply them at once: read-then-write would let two of them both insert, or an older fact overwrite a newer
one between the read and the write. ``keep_newest`` is one ``INSERT … ON CONFLICT DO UPDATE … WHERE``
statement instead (PostgreSQL and SQLite alike), so the database decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from kit.db import UnitOfWork


async def keep_newest(
    uow: UnitOfWork,
    table: Table,
    values: Mapping[str, Any],
    *,
    order_by: str,
    replace_equal: bool = False,
) -> bool:
    """Insert ``values`` into ``table``, or overwrite the row with the same primary key if the held one is
    older by the ``order_by`` column (a version or a timestamp); ``replace_equal`` also overwrites an equal
    one (the latest of two facts of the same moment wins). Whether ``values`` were kept."""
    keys = [c.name for c in table.primary_key.columns]
    insert: Any = postgresql.insert if uow.conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(**values)
    held, offered = table.c[order_by], statement.excluded[order_by]
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={name: statement.excluded[name] for name in values if name not in keys},
        where=held <= offered if replace_equal else held < offered,
    )
    result = await uow.conn.execute(statement)
    return bool(result.rowcount)


async def insert_new(uow: UnitOfWork, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert ``values`` unless a row with the same key (primary or any unique one) exists: the second
    delivery of a call event, a mail fetched twice, a fax webhook retried. Whether this insert made it."""
    insert: Any = postgresql.insert if uow.conn.dialect.name == "postgresql" else sqlite.insert
    result = await uow.conn.execute(insert(table).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)
