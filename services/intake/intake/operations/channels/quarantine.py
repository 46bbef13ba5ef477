"""The quarantine: every input a channel refused, kept with its reason and its raw bytes.

Nothing refused is dropped. An operator lists and inspects the items, downloads the raw bytes, and
either releases an item (it is processed again, e.g. after a limit was raised or a parser fixed) or
discards it with a reason. Every step is in the audit log of the item.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from contracts.common import Reason
from contracts.intake import MessageQuarantined
from intake.channels import Rejected
from intake.channels.metrics import QUARANTINE_RESOLVED, QUARANTINED
from intake.channels.sniff import sniff_content_type
from intake.domain.common import Actor
from intake.store import channels as store
from kit.concurrency import check_if_match
from kit.db import UnitOfWork
from kit.domain import Conflict

QuarantineChannel = Literal["email", "fax", "hotline"]
HELD, RELEASED, DISCARDED = "held", "released", "discarded"
ENTITY = "quarantine"


@dataclass(frozen=True)
class Quarantined:
    """Where a refused input went: the item id, and whether it was already held (a retried delivery)."""

    item_id: str
    code: str
    reason: str
    repeated: bool = False


async def quarantine(
    uow: UnitOfWork,
    rejected: Rejected,
    *,
    channel: QuarantineChannel,
    source: str,
    received_at: datetime,
    context: dict[str, Any] | None = None,
    releasing: bool = False,
) -> Quarantined:
    """Keep ``rejected`` (raw bytes and reason); the same bytes still held are not kept twice.
    ``releasing``: the input is a held item being processed again, whose release records the outcome."""
    digest = await store.put_blob(uow, rejected.raw, sniff_content_type(rejected.raw))
    held = await store.held_quarantine_of(uow, channel=channel, raw_sha256=digest)
    if held is not None:
        if releasing:
            return Quarantined(held["id"], rejected.code, rejected.reason, repeated=True)
        uow.audit(
            actor=Actor.system().ref,
            action="quarantine.received_again",
            entity_type=ENTITY,
            entity_id=held["id"],
            source=source[:200],
        )
        return Quarantined(held["id"], held["reason_code"], held["reason"], repeated=True)
    item_id = str(uuid.uuid4())
    now = uow.now()
    await store.add_quarantine(
        uow,
        {
            "id": item_id,
            "channel": channel,
            "source": source[:200],
            "reason_code": rejected.code[:64],
            "reason": rejected.reason[:1000],
            "raw_sha256": digest,
            "size": len(rejected.raw),
            "content_type": sniff_content_type(rejected.raw),
            "context": context or {},
            "received_at": received_at,
            "quarantined_at": now,
            "status": HELD,
            "release_count": 0,
            "version": 1,
        },
    )
    uow.audit(
        actor=Actor.system().ref,
        action="quarantine.held",
        entity_type=ENTITY,
        entity_id=item_id,
        reason_code=rejected.code,
        source=source[:200],
    )
    _emit_quarantined(uow, item_id, channel, rejected, source=source, received_at=received_at)
    uow.after_commit(QUARANTINED.labels(uow.db.service, channel, rejected.code[:64]).inc)
    return Quarantined(item_id, rejected.code, rejected.reason)


async def hold_again(uow: UnitOfWork, item_id: str, rejected: Rejected, *, actor: Actor) -> Quarantined:
    """A released item was refused again when processed: it goes back on hold with the new reason."""
    row = await store.lock_quarantine(uow, item_id)
    await store.update_quarantine(
        uow,
        item_id,
        stored_version=row["version"],
        values={
            "status": HELD,
            "reason_code": rejected.code[:64],
            "reason": rejected.reason[:1000],
            "resolved_at": None,
            "resolved_by": None,
            "resolution": None,
        },
    )
    uow.audit(
        actor=actor.ref,
        action="quarantine.held_again",
        entity_type=ENTITY,
        entity_id=item_id,
        reason_code=rejected.code,
        reason=rejected.reason[:300],
    )
    uow.after_commit(QUARANTINED.labels(uow.db.service, row["channel"], rejected.code[:64]).inc)
    return Quarantined(item_id, rejected.code, rejected.reason)


async def begin_release(
    uow: UnitOfWork, item_id: str, *, actor: Actor, if_match: str | None = None
) -> tuple[dict[str, Any], bytes]:
    """Lock a held item for release; its row and raw bytes, to be processed again by its channel."""
    row = await store.lock_quarantine(uow, item_id)
    check_if_match(if_match, row["version"])
    _require_held(row, "release")
    return dict(row), await store.get_blob(uow, row["raw_sha256"])


async def mark_released(uow: UnitOfWork, row: dict[str, Any], *, actor: Actor, resolution: str) -> None:
    await store.update_quarantine(
        uow,
        row["id"],
        stored_version=row["version"],
        values={
            "status": RELEASED,
            "release_count": row["release_count"] + 1,
            "resolved_at": uow.now(),
            "resolved_by": actor.ref,
            "resolution": resolution[:200],
        },
    )
    uow.audit(
        actor=actor.ref,
        action="quarantine.released",
        entity_type=ENTITY,
        entity_id=row["id"],
        outcome=resolution,
    )
    uow.after_commit(QUARANTINE_RESOLVED.labels(uow.db.service, "release", "processed").inc)


async def mark_refused_again(
    uow: UnitOfWork, row: dict[str, Any], rejected: Rejected, *, actor: Actor
) -> None:
    """A release whose processing refused the input again: it stays held, with the new reason."""
    await store.update_quarantine(
        uow,
        row["id"],
        stored_version=row["version"],
        values={
            "release_count": row["release_count"] + 1,
            "reason_code": rejected.code[:64],
            "reason": rejected.reason[:1000],
        },
    )
    uow.audit(
        actor=actor.ref,
        action="quarantine.release_refused",
        entity_type=ENTITY,
        entity_id=row["id"],
        reason_code=rejected.code,
        reason=rejected.reason[:300],
    )
    uow.after_commit(QUARANTINE_RESOLVED.labels(uow.db.service, "release", "refused_again").inc)


async def discard(
    uow: UnitOfWork, item_id: str, *, actor: Actor, reason: str, if_match: str | None = None
) -> dict[str, Any]:
    """Decide a held item will never be processed. The raw bytes stay for the record."""
    row = await store.lock_quarantine(uow, item_id)
    check_if_match(if_match, row["version"])
    _require_held(row, "discard")
    await store.update_quarantine(
        uow,
        item_id,
        stored_version=row["version"],
        values={
            "status": DISCARDED,
            "resolved_at": uow.now(),
            "resolved_by": actor.ref,
            "resolution": f"discarded: {reason}"[:200],
        },
    )
    uow.audit(
        actor=actor.ref, action="quarantine.discarded", entity_type=ENTITY, entity_id=item_id, reason=reason
    )
    uow.after_commit(QUARANTINE_RESOLVED.labels(uow.db.service, "discard", "discarded").inc)
    return dict(await store.get_quarantine(uow, item_id))


def _require_held(row: Any, action: str) -> None:
    if row["status"] != HELD:
        raise Conflict(
            f"the item is {row['status']}; only a held item can be {action}d",
            code="quarantine-not-held",
            allowed_actions=[],
        )


def _emit_quarantined(
    uow: UnitOfWork,
    item_id: str,
    channel: QuarantineChannel,
    rejected: Rejected,
    *,
    source: str,
    received_at: datetime,
) -> None:
    uow.emit(
        MessageQuarantined(
            message_id=item_id,
            channel=channel,
            reasons=[Reason(code=rejected.code[:40], message=rejected.reason[:500])],
            size_bytes=len(rejected.raw),
            mailbox=source[:200],
            received_at=received_at,
            quarantined_at=uow.now(),
        )
    )
