"""Leases: work that one replica at a time should do (polling a mailbox), handed over when its holder
stops renewing.

A lease is a row (name, holder, expires_at). Taking it is one ``INSERT … ON CONFLICT DO UPDATE … WHERE``
statement that succeeds only when the row is new, expired, or already this holder's, so the database
decides between replicas racing for it; renewing is taking it again. A holder that stops gracefully
gives it up, so another replica takes over at its next try; one that dies loses it when it expires. No
connection is held between tries, so a lease costs one statement per try and cannot exhaust the pool.

A lease orders work, it does not make it safe: two holders can overlap when one outlives its lease (a
stalled process), so the work under it must stay idempotent.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.dialects import postgresql, sqlite

from kit.db import UnitOfWork
from kit.tables import UtcDateTime


def new_holder() -> str:
    """A lease holder's name: readable in the table (host and pid), unique to the one asking."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def define_lease_table(metadata: MetaData, name: str = "leases") -> Table:
    return Table(
        name,
        metadata,
        Column("name", String(200), primary_key=True),
        Column("holder", String(120), nullable=False),
        Column("expires_at", UtcDateTime(), nullable=False),
    )


async def take(uow: UnitOfWork, table: Table, name: str, *, holder: str, until: datetime) -> bool:
    """Take (or renew) lease ``name`` for ``holder`` until ``until``: whether ``holder`` holds it now."""
    insert: Any = postgresql.insert if uow.conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(name=name, holder=holder, expires_at=until)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.name],
        set_={"holder": statement.excluded.holder, "expires_at": statement.excluded.expires_at},
        where=(table.c.expires_at <= uow.now()) | (table.c.holder == statement.excluded.holder),
    )
    return bool((await uow.conn.execute(statement)).rowcount)


async def give_up(uow: UnitOfWork, table: Table, name: str, *, holder: str) -> None:
    """Let lease ``name`` go now if ``holder`` holds it: another replica may take it at once, whatever its
    clock says."""
    await uow.conn.execute(table.delete().where(table.c.name == name, table.c.holder == holder))
