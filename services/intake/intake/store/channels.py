"""All SQL of intake's channels: calls, call-backs, files, emails, faxes, acknowledgments, quarantine."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql import Select

from intake.domain.callbacks import CallBackAttempt, CallBackOutcome, CallBackStatus, CallBackTask
from intake.domain.cti import CallDirection, CtiEventKind, HangupCause
from intake.domain.hotline import Call
from intake.tables import channels as t
from kit import leases
from kit.copies import insert_new
from kit.db import UnitOfWork
from kit.domain import Conflict, NotFound
from kit.pagination import after_row

# --- helpers ---------------------------------------------------------------------------------------


def key_of(text: str) -> str:
    """The fixed-length key a Message-ID (or any long identifier) is stored and looked up by."""
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _locked(query: Select[Any], uow: UnitOfWork, *, skip_locked: bool = False) -> Select[Any]:
    if uow.conn.dialect.name != "postgresql":
        return query
    return query.with_for_update(skip_locked=skip_locked)


async def _first(uow: UnitOfWork, query: Select[Any]) -> RowMapping | None:
    row: RowMapping | None = (await uow.conn.execute(query)).mappings().first()
    return row


async def _all(uow: UnitOfWork, query: Select[Any]) -> list[RowMapping]:
    return list((await uow.conn.execute(query)).mappings().all())


async def _found(
    uow: UnitOfWork, table: Table, row_id: str, *, what: str, code: str, key: str = "id", lock: bool = False
) -> RowMapping:
    """The row of ``table`` whose ``key`` is ``row_id`` (locked for update when ``lock``), else NotFound."""
    query = select(table).where(table.c[key] == row_id)
    row = await _first(uow, _locked(query, uow) if lock else query)
    if row is None:
        raise NotFound(f"{what} {row_id} not found", code=code)
    return row


async def _save_versioned(
    uow: UnitOfWork,
    table: Table,
    row_id: str,
    values: dict[str, Any],
    *,
    stored_version: int,
    what: str,
    key: str = "id",
) -> None:
    """Write ``values`` to the row if it is still at ``stored_version``, else Conflict."""
    c = table.c
    result = await uow.conn.execute(
        update(table).where(c[key] == row_id, c.version == stored_version).values(**values)
    )
    if result.rowcount != 1:
        raise Conflict(f"{what} {row_id} was changed concurrently", code="concurrent-update")


def _page(
    table: Table,
    order: str,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
    key: str = "id",
    descending: bool = True,
    **equal: str | None,
) -> Select[Any]:
    """One keyset page of ``table`` sorted by ``order`` then ``key`` (newest first unless not
    ``descending``), keeping only the rows whose columns equal each filter given a value."""
    sort, tiebreak = table.c[order], table.c[key]
    ordering = (sort.desc(), tiebreak.desc()) if descending else (sort, tiebreak)
    query = select(table).order_by(*ordering).limit(limit)
    for column, value in equal.items():
        if value:
            query = query.where(table.c[column] == value)
    if after:
        query = query.where(after_row(sort, tiebreak, after, descending=descending))
    return query


# --- calls -------------------------------------------------------------------------------------------


def _call_values(call: Call, now: datetime) -> dict[str, Any]:
    ring = call.ring_time
    return {
        "direction": call.direction.value,
        "from_number": call.from_number,
        "to_number": call.to_number,
        "customer_number": call.customer_number,
        "queue": call.queue,
        "users": list(call.users),
        "started_at": call.started_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "answered_by": call.answered_by,
        "cause": call.cause.value if call.cause else None,
        "outcome": call.outcome.value,
        "ring_seconds": ring.total_seconds() if ring is not None else None,
        "customer_id": call.customer_id,
        "ticket_id": call.ticket_id,
        "seen": sorted(kind.value for kind in call.seen),
        "out_of_hours": call.out_of_hours,
        "answer_reported": call.answer_reported,
        "miss_reported": call.miss_reported,
        "end_reported": call.end_reported,
        "version": call.version,
        "updated_at": now,
    }


def call_of(row: RowMapping) -> Call:
    return Call(
        call_id=row["call_id"],
        direction=CallDirection(row["direction"]),
        from_number=row["from_number"],
        to_number=row["to_number"],
        customer_number=row["customer_number"],
        queue=row["queue"],
        users=tuple(row["users"] or ()),
        started_at=row["started_at"],
        answered_at=row["answered_at"],
        ended_at=row["ended_at"],
        answered_by=row["answered_by"],
        cause=HangupCause(row["cause"]) if row["cause"] else None,
        customer_id=row["customer_id"],
        ticket_id=row["ticket_id"],
        seen={CtiEventKind(kind) for kind in row["seen"] or ()},
        out_of_hours=bool(row["out_of_hours"]),
        answer_reported=bool(row["answer_reported"]),
        miss_reported=bool(row["miss_reported"]),
        end_reported=bool(row["end_reported"]),
        version=row["version"],
    )


async def add_call(uow: UnitOfWork, call: Call, *, within_target: bool | None) -> bool:
    """Store a new call; False when a concurrent webhook of the same call stored it first."""
    now = uow.now()
    values = {"call_id": call.call_id, "created_at": now, "within_target": within_target}
    return await insert_new(uow, t.calls, {**_call_values(call, now), **values})


async def lock_call(uow: UnitOfWork, call_id: str) -> Call | None:
    row = await _first(uow, _locked(select(t.calls).where(t.calls.c.call_id == call_id), uow))
    return call_of(row) if row else None


async def save_call(uow: UnitOfWork, call: Call, *, stored_version: int, within_target: bool | None) -> None:
    values = {**_call_values(call, uow.now()), "within_target": within_target}
    await _save_versioned(
        uow, t.calls, call.call_id, values, stored_version=stored_version, what="call", key="call_id"
    )


async def get_call(uow: UnitOfWork, call_id: str) -> RowMapping:
    return await _found(uow, t.calls, call_id, what="call", code="call-not-found", key="call_id")


async def list_calls(
    uow: UnitOfWork,
    *,
    outcome: str | None,
    customer_number: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[RowMapping]:
    query = _page(
        t.calls,
        "created_at",
        key="call_id",
        after=after,
        limit=limit,
        outcome=outcome,
        customer_number=customer_number,
    )
    return await _all(uow, query)


# --- call-backs --------------------------------------------------------------------------------------


def _callback_values(task: CallBackTask) -> dict[str, Any]:
    return {
        "owner": task.owner,
        "due_at": task.due_at,
        "customer_id": task.customer_id,
        "status": task.status.value,
        "outcome": task.outcome.value if task.outcome else None,
        "taken_by": task.taken_by,
        "escalation_level": task.escalation_level,
        "escalated_at": task.escalated_at,
        "closed_at": task.closed_at,
        "attempts": [
            {"at": a.at.isoformat(), "actor": a.actor_ref, "reached": a.reached, "note": a.note}
            for a in task.attempts
        ],
        "version": task.version,
    }


def callback_of(row: RowMapping) -> CallBackTask:
    due_at, created_at = row["due_at"], row["created_at"]
    assert due_at is not None and created_at is not None
    return CallBackTask(
        id=row["id"],
        call_id=row["call_id"],
        number=row["number"],
        owner=row["owner"],
        due_at=due_at,
        created_at=created_at,
        customer_id=row["customer_id"],
        status=CallBackStatus(row["status"]),
        outcome=CallBackOutcome(row["outcome"]) if row["outcome"] else None,
        taken_by=row["taken_by"],
        escalation_level=row["escalation_level"],
        escalated_at=row["escalated_at"],
        closed_at=row["closed_at"],
        attempts=[
            CallBackAttempt(datetime.fromisoformat(a["at"]), a["actor"], bool(a["reached"]), a["note"])
            for a in row["attempts"] or ()
        ],
        version=row["version"],
    )


async def add_callback(uow: UnitOfWork, task: CallBackTask) -> bool:
    """Store the task of a missed call; False when that call already has one."""
    values = {
        "id": task.id,
        "call_id": task.call_id,
        "number": task.number,
        "created_at": task.created_at,
        **_callback_values(task),
    }
    return await insert_new(uow, t.callbacks, values)


async def lock_callback(uow: UnitOfWork, task_id: str) -> CallBackTask:
    return await get_callback(uow, task_id, lock=True)


async def save_callback(uow: UnitOfWork, task: CallBackTask, *, stored_version: int) -> None:
    values = _callback_values(task)
    await _save_versioned(uow, t.callbacks, task.id, values, stored_version=stored_version, what="call-back")


async def get_callback(uow: UnitOfWork, task_id: str, *, lock: bool = False) -> CallBackTask:
    row = await _found(uow, t.callbacks, task_id, what="call-back", code="callback-not-found", lock=lock)
    return callback_of(row)


async def open_callbacks_for_number(uow: UnitOfWork, number: str) -> list[CallBackTask]:
    c = t.callbacks.c
    query = _locked(
        select(t.callbacks).where(c.number == number, c.status == CallBackStatus.OPEN.value).order_by(c.id),
        uow,
    )
    return [callback_of(row) for row in await _all(uow, query)]


async def list_callbacks(
    uow: UnitOfWork,
    *,
    status: str | None,
    owner: str | None,
    due_before: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[CallBackTask]:
    """Call-backs in the order they fall due (the list an agent works from)."""
    query = _page(
        t.callbacks, "due_at", after=after, limit=limit, descending=False, status=status, owner=owner
    )
    if due_before:
        query = query.where(t.callbacks.c.due_at <= due_before)
    return [callback_of(row) for row in await _all(uow, query)]


# --- files -------------------------------------------------------------------------------------------


async def put_blob(uow: UnitOfWork, data: bytes, content_type: str) -> str:
    """Keep ``data`` (once, however often it arrives); its SHA-256, by which it is found again."""
    digest = hashlib.sha256(data).hexdigest()
    await insert_new(
        uow,
        t.blobs,
        {
            "sha256": digest,
            "size": len(data),
            "content_type": content_type[:100],
            "data": data,
            "created_at": uow.now(),
        },
    )
    return digest


async def get_blob(uow: UnitOfWork, sha256: str) -> bytes:
    data = (await uow.conn.execute(select(t.blobs.c.data).where(t.blobs.c.sha256 == sha256))).scalar()
    if data is None:
        raise NotFound("the stored file is missing", code="file-not-found")
    return bytes(data)


@dataclass(frozen=True)
class StoredFile:
    id: str
    filename: str
    content_type: str
    declared_content_type: str
    size: int
    sha256: str
    inline: bool = False
    content_id: str | None = None


async def add_attachments(
    uow: UnitOfWork, owner_type: str, owner_id: str, files: Iterable[StoredFile], ticket_id: str | None
) -> None:
    rows = [
        {
            "id": file.id,
            "owner_type": owner_type,
            "owner_id": owner_id,
            "ticket_id": ticket_id,
            "filename": file.filename[:200],
            "content_type": file.content_type[:100],
            "declared_content_type": file.declared_content_type[:200],
            "size": file.size,
            "sha256": file.sha256,
            "inline": file.inline,
            "content_id": file.content_id[:200] if file.content_id else None,
            "created_at": uow.now(),
        }
        for file in files
    ]
    if rows:
        await uow.conn.execute(t.attachments.insert(), rows)


async def set_attachments_ticket(uow: UnitOfWork, owner_type: str, owner_id: str, ticket_id: str) -> None:
    c = t.attachments.c
    await uow.conn.execute(
        update(t.attachments)
        .where(c.owner_type == owner_type, c.owner_id == owner_id)
        .values(ticket_id=ticket_id)
    )


async def attachments_of(uow: UnitOfWork, owner_type: str, owner_id: str) -> list[RowMapping]:
    c = t.attachments.c
    query = select(t.attachments).where(c.owner_type == owner_type, c.owner_id == owner_id)
    return await _all(uow, query.order_by(c.created_at, c.id))


async def get_attachment(uow: UnitOfWork, attachment_id: str) -> RowMapping:
    return await _found(uow, t.attachments, attachment_id, what="attachment", code="attachment-not-found")


# --- emails ------------------------------------------------------------------------------------------


async def claim_source(uow: UnitOfWork, source_key: str) -> RowMapping | None:
    """The record of a mailbox message handed over before, or None (and it is now claimed)."""
    row = await _first(uow, select(t.email_sources).where(t.email_sources.c.source_key == source_key))
    if row is not None:
        return row
    claimed = await insert_new(uow, t.email_sources, {"source_key": source_key, "recorded_at": uow.now()})
    if claimed:
        return None
    return await _first(uow, select(t.email_sources).where(t.email_sources.c.source_key == source_key))


async def settle_source(
    uow: UnitOfWork, source_key: str, *, email_id: str | None = None, quarantine_id: str | None = None
) -> None:
    await uow.conn.execute(
        update(t.email_sources)
        .where(t.email_sources.c.source_key == source_key)
        .values(email_id=email_id, quarantine_id=quarantine_id)
    )


async def email_by_key(uow: UnitOfWork, message_key: str) -> RowMapping | None:
    return await _first(uow, select(t.emails).where(t.emails.c.message_key == message_key))


async def add_email(uow: UnitOfWork, values: dict[str, Any]) -> bool:
    """Record an email; False when the same message (by Message-ID or content) is already recorded."""
    return await insert_new(uow, t.emails, {**values, "created_at": uow.now()})


async def update_email(uow: UnitOfWork, email_id: str, values: dict[str, Any]) -> None:
    await uow.conn.execute(update(t.emails).where(t.emails.c.id == email_id).values(**values))


async def get_email(uow: UnitOfWork, email_id: str) -> RowMapping:
    return await _found(uow, t.emails, email_id, what="email", code="email-not-found")


async def list_emails(
    uow: UnitOfWork,
    *,
    status: str | None,
    ticket_id: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[RowMapping]:
    query = _page(t.emails, "received_at", after=after, limit=limit, status=status, ticket_id=ticket_id)
    return await _all(uow, query)


async def tickets_by_message_keys(uow: UnitOfWork, keys: Sequence[str]) -> dict[str, str]:
    """Which ticket each known message (one we received, or an acknowledgment we sent) belongs to."""
    if not keys:
        return {}
    received = select(t.emails.c.message_key, t.emails.c.ticket_id).where(
        t.emails.c.message_key.in_(keys), t.emails.c.ticket_id.is_not(None)
    )
    sent = select(t.outbound_mail.c.message_key, t.outbound_mail.c.ticket_id).where(
        t.outbound_mail.c.message_key.in_(keys)
    )
    found: dict[str, str] = {}
    for query in (received, sent):
        for key, ticket_id in (await uow.conn.execute(query)).all():
            found.setdefault(key, ticket_id)
    return found


# --- acknowledgments ---------------------------------------------------------------------------------


async def add_outbound(uow: UnitOfWork, values: dict[str, Any]) -> bool:
    return await insert_new(uow, t.outbound_mail, {**values, "created_at": uow.now()})


async def lock_outbound(uow: UnitOfWork, outbound_id: str) -> RowMapping | None:
    query = _locked(select(t.outbound_mail).where(t.outbound_mail.c.id == outbound_id), uow)
    return await _first(uow, query)


async def claim_outbound(uow: UnitOfWork, *, now: datetime, lease_until: datetime) -> RowMapping | None:
    """The next acknowledgment due to be sent, leased to the caller until ``lease_until`` so other
    replicas leave it alone (and take it again should the caller die meanwhile)."""
    c = t.outbound_mail.c
    query = (
        select(t.outbound_mail)
        .where(c.status == "pending", c.next_attempt_at <= now)
        .order_by(c.next_attempt_at, c.id)
        .limit(1)
    )
    row = await _first(uow, _locked(query, uow, skip_locked=True))
    if row is not None:
        await update_outbound(uow, row["id"], {"next_attempt_at": lease_until})
    return row


async def update_outbound(uow: UnitOfWork, outbound_id: str, values: dict[str, Any]) -> None:
    await uow.conn.execute(
        update(t.outbound_mail).where(t.outbound_mail.c.id == outbound_id).values(**values)
    )


async def outbound_for_email(uow: UnitOfWork, email_id: str) -> RowMapping | None:
    return await _first(uow, select(t.outbound_mail).where(t.outbound_mail.c.email_id == email_id))


# --- faxes -------------------------------------------------------------------------------------------


async def add_fax(uow: UnitOfWork, values: dict[str, Any]) -> bool:
    now = uow.now()
    return await insert_new(uow, t.faxes, {**values, "created_at": now, "updated_at": now})


async def fax_by_dedup_key(uow: UnitOfWork, dedup_key: str) -> RowMapping | None:
    return await _first(uow, select(t.faxes).where(t.faxes.c.dedup_key == dedup_key))


async def lock_fax(uow: UnitOfWork, fax_id: str) -> RowMapping:
    return await get_fax(uow, fax_id, lock=True)


async def get_fax(uow: UnitOfWork, fax_id: str, *, lock: bool = False) -> RowMapping:
    return await _found(uow, t.faxes, fax_id, what="fax", code="fax-not-found", lock=lock)


async def update_fax(uow: UnitOfWork, fax_id: str, values: dict[str, Any]) -> None:
    await uow.conn.execute(
        update(t.faxes).where(t.faxes.c.id == fax_id).values(**values, updated_at=uow.now())
    )


async def claim_fax_to_read(uow: UnitOfWork, *, now: datetime, lease_until: datetime) -> RowMapping | None:
    """The next fax waiting to be read (received, or a reading whose lease ran out), leased to the
    caller until ``lease_until`` so other replicas leave it alone."""
    c = t.faxes.c
    query = (
        select(t.faxes)
        .where(
            c.status.in_(("received", "reading")), or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now)
        )
        .order_by(c.received_at, c.id)
        .limit(1)
    )
    row = await _first(uow, _locked(query, uow, skip_locked=True))
    if row is None:
        return None
    await update_fax(uow, row["id"], {"status": "reading", "next_attempt_at": lease_until})
    return row


async def list_faxes(
    uow: UnitOfWork, *, status: str | None, after: tuple[datetime, str] | None, limit: int
) -> list[RowMapping]:
    return await _all(uow, _page(t.faxes, "received_at", after=after, limit=limit, status=status))


# --- quarantine --------------------------------------------------------------------------------------


async def add_quarantine(uow: UnitOfWork, values: dict[str, Any]) -> None:
    await uow.conn.execute(t.quarantine.insert().values(**values))


async def held_quarantine_of(uow: UnitOfWork, *, channel: str, raw_sha256: str) -> RowMapping | None:
    """The item still held for these exact bytes (a sender retrying the same rejected input)."""
    c = t.quarantine.c
    query = select(t.quarantine).where(c.channel == channel, c.raw_sha256 == raw_sha256, c.status == "held")
    return await _first(uow, query.limit(1))


async def lock_quarantine(uow: UnitOfWork, item_id: str) -> RowMapping:
    return await get_quarantine(uow, item_id, lock=True)


async def get_quarantine(uow: UnitOfWork, item_id: str, *, lock: bool = False) -> RowMapping:
    return await _found(
        uow, t.quarantine, item_id, what="quarantined item", code="quarantine-not-found", lock=lock
    )


async def update_quarantine(
    uow: UnitOfWork, item_id: str, *, stored_version: int, values: dict[str, Any]
) -> None:
    versioned = {**values, "version": stored_version + 1}
    await _save_versioned(
        uow, t.quarantine, item_id, versioned, stored_version=stored_version, what="quarantined item"
    )


async def list_quarantine(
    uow: UnitOfWork,
    *,
    status: str | None,
    channel: str | None,
    reason_code: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[RowMapping]:
    query = _page(
        t.quarantine,
        "quarantined_at",
        after=after,
        limit=limit,
        status=status,
        channel=channel,
        reason_code=reason_code,
    )
    return await _all(uow, query)


async def count_held_quarantine(uow: UnitOfWork) -> dict[str, int]:
    c = t.quarantine.c
    query = select(c.channel, func.count()).where(c.status == "held").group_by(c.channel)
    return {channel: int(count) for channel, count in (await uow.conn.execute(query)).all()}


async def audit_trail(uow: UnitOfWork, entity_type: str, entity_id: str) -> list[RowMapping]:
    audit = uow.tables.audit
    query = (
        select(audit)
        .where(audit.c.entity_type == entity_type, audit.c.entity_id == entity_id)
        .order_by(audit.c.seq)
    )
    return await _all(uow, query)


async def repoint_customer(uow: UnitOfWork, *, absorbed_id: str, survivor_id: str) -> None:
    """A merged-away customer's calls, call-backs, emails and faxes now belong to the survivor."""
    for table in (t.calls, t.callbacks, t.emails, t.faxes):
        await uow.conn.execute(
            update(table).where(table.c.customer_id == absorbed_id).values(customer_id=survivor_id)
        )


# --- mailbox leases ---------------------------------------------------------------------------------------


async def take_mailbox(uow: UnitOfWork, mailbox: str, *, holder: str, until: datetime) -> bool:
    return await leases.take(uow, t.mailbox_leases, f"imap:{mailbox}", holder=holder, until=until)


async def give_up_mailbox(uow: UnitOfWork, mailbox: str, *, holder: str) -> None:
    await leases.give_up(uow, t.mailbox_leases, f"imap:{mailbox}", holder=holder)
