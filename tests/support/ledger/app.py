"""The ledger test service, built with the same kit every real service uses."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Column, DateTime, Integer, String, Table, func, select

from contracts.envelope import CloudEvent, EventPayload
from contracts.registry import event
from kit.db import UnitOfWork
from kit.deps import Db
from kit.idempotency import IdempotencyKey, run_idempotent
from kit.service import ServiceDefinition
from kit.tables import define_platform_tables, new_metadata
from messaging.consumer import EventHandlers


@event("ledger.entry.recorded.v1", subject="entry_id")
class EntryRecorded(EventPayload):
    entry_id: str
    amount: int
    poison: bool = False


metadata = new_metadata()
tables = define_platform_tables(metadata)
entries = Table(
    "entries",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("amount", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
effects = Table(
    "effects",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(200), nullable=False),
    Column("entry_id", String(64), nullable=False),
    Column("amount", Integer, nullable=False),
)

# Test controls: whether poison is "fixed", handler delay, and the attempt log of poison events.
state = {"poison_fixed": False, "delay": float(os.environ.get("LEDGER_HANDLER_DELAY", "0"))}
poison_attempts: list[float] = []


async def record_entry(uow: UnitOfWork, *, amount: int, poison: bool = False) -> str:
    entry_id = str(uuid.uuid4())
    await uow.conn.execute(entries.insert().values(id=entry_id, amount=amount, created_at=uow.now()))
    uow.emit(EntryRecorded(entry_id=entry_id, amount=amount, poison=poison))
    return entry_id


handlers: EventHandlers[UnitOfWork] = EventHandlers()


@handlers.on(EntryRecorded)
async def refuse_poison(uow: UnitOfWork, payload: EntryRecorded, envelope: CloudEvent) -> None:
    if state["delay"]:
        await asyncio.sleep(state["delay"])
    if payload.poison and not state["poison_fixed"]:
        poison_attempts.append(asyncio.get_running_loop().time())
        raise ValueError("cannot apply a poison entry")


@handlers.on_batch(EntryRecorded)
async def apply_entries(uow: UnitOfWork, received: Sequence[tuple[EntryRecorded, CloudEvent]]) -> None:
    await uow.conn.execute(
        effects.insert(),
        [{"event_id": e.id, "entry_id": p.entry_id, "amount": p.amount} for p, e in received],
    )


class EntryIn(BaseModel):
    amount: Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
    poison: bool = False


class EntryOut(BaseModel):
    entry_id: str


class Counts(BaseModel):
    entries: int
    effects: int
    distinct_effects: int


router = APIRouter(tags=["ledger"])


@router.post("/entries", status_code=201)
async def post_entry(body: EntryIn, request: Request, db: Db, key: IdempotencyKey = None) -> Response:
    async def create(uow: UnitOfWork) -> EntryOut:
        return EntryOut(entry_id=await record_entry(uow, amount=body.amount, poison=body.poison))

    return await run_idempotent(request, db, key, create)


@router.get("/counts")
async def counts(db: Db) -> Counts:
    async with db.engine.connect() as conn:
        n_entries = (await conn.execute(select(func.count()).select_from(entries))).scalar_one()
        n_effects = (await conn.execute(select(func.count()).select_from(effects))).scalar_one()
        distinct = (await conn.execute(select(func.count(func.distinct(effects.c.entry_id))))).scalar_one()
    return Counts(entries=n_entries, effects=n_effects, distinct_effects=distinct)


def make_service(name: str = "ledger") -> ServiceDefinition:
    return ServiceDefinition(
        name=name,
        title="Ledger (test)",
        description="Test service proving the messaging guarantees.",
        metadata=metadata,
        tables=tables,
        migrations=Path(__file__).parent / "migrations",
        routers=[router],
        handlers=handlers,
    )


service = make_service()
