"""The quarantine over HTTP: list and inspect refused input, download it, release it or discard it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from intake.api.channel_views import Supervisor, actor_of, after_of, cursor_of, download
from intake.channels.workers import wake_fax_reader
from intake.operations.channels import quarantine as q
from intake.operations.channels.release import release
from intake.store import channels as store
from kit.concurrency import IfMatch, etag
from kit.deps import Db, RuntimeDep
from kit.pagination import Cursor, Limit, Page

router = APIRouter(tags=["quarantine"])

ItemId = Annotated[str, Path(max_length=64)]
Channel = Literal["email", "fax", "hotline"]
Status = Literal["held", "released", "discarded"]


class QuarantinedOut(BaseModel):
    id: str
    channel: Channel
    source: str = Field(description="Where it came from: imap:<mailbox>, smtp, upload, webhook, fax:<id> …")
    reason_code: str = Field(description="Stable and machine-readable: message-too-large, too-many-parts …")
    reason: str
    size: int
    content_type: str = Field(description="Judged from the bytes")
    received_at: datetime
    quarantined_at: datetime
    status: Status
    release_count: int
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    version: int


class AuditEntryOut(BaseModel):
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


class QuarantinedDetailOut(QuarantinedOut):
    context: dict[str, Any]
    history: list[AuditEntryOut] = Field(description="Every step taken on the item, oldest first")


class ReleaseOut(BaseModel):
    released: bool = Field(
        description="False: the channel refused it again; it stays held with the new reason"
    )
    resolution: str | None
    item: QuarantinedOut


class DiscardIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class HeldCountsOut(BaseModel):
    held: dict[str, int] = Field(description="Items held now, by channel")


def _item(row: Any) -> QuarantinedOut:
    return QuarantinedOut.model_validate(dict(row))


@router.get("/quarantine", summary="Refused input, newest first")
async def list_quarantine(
    db: Db,
    _: Supervisor,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: Annotated[Status | None, Query()] = "held",
    channel: Annotated[Channel | None, Query()] = None,
    reason_code: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[QuarantinedOut]:
    async with db.transaction() as uow:
        rows = await store.list_quarantine(
            uow,
            status=status,
            channel=channel,
            reason_code=reason_code,
            after=after_of(cursor),
            limit=limit + 1,
        )
    return Page(
        items=[_item(row) for row in rows[:limit]],
        next_cursor=cursor_of(rows, limit, lambda r: (r["quarantined_at"], r["id"])),
    )


@router.get("/quarantine/counts", summary="How many items are held, by channel")
async def held_counts(db: Db, _: Supervisor) -> HeldCountsOut:
    async with db.transaction() as uow:
        return HeldCountsOut(held=await store.count_held_quarantine(uow))


@router.get("/quarantine/{item_id}", summary="One quarantined item, with its history")
async def get_quarantined(item_id: ItemId, db: Db, _: Supervisor, response: Response) -> QuarantinedDetailOut:
    async with db.transaction() as uow:
        row = await store.get_quarantine(uow, item_id)
        trail = await store.audit_trail(uow, q.ENTITY, item_id)
    response.headers["ETag"] = etag(row["version"])
    return QuarantinedDetailOut(
        **_item(row).model_dump(),
        context=row["context"] or {},
        history=[
            AuditEntryOut(
                at=entry["at"], actor=entry["actor"], action=entry["action"], detail=entry["detail"]
            )
            for entry in trail
        ],
    )


@router.get(
    "/quarantine/{item_id}/raw",
    summary="Download the refused input exactly as received",
    description="Hostile until proven otherwise: always an octet-stream download, never rendered.",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_quarantined(item_id: ItemId, db: Db, _: Supervisor) -> Response:
    async with db.transaction() as uow:
        row = await store.get_quarantine(uow, item_id)
        data = await store.get_blob(uow, row["raw_sha256"])
    return download(data, filename=f"quarantine-{item_id}.bin")


@router.post(
    "/quarantine/{item_id}/release",
    summary="Process a held item again through its channel",
    description="After a fix (a limit raised, a parser or the OCR engine repaired). If the channel now "
    "accepts it, the item is released with what became of it; if not, it stays held with the new reason. "
    "409 when the item is not held.",
)
async def release_quarantined(
    item_id: ItemId,
    db: Db,
    runtime: RuntimeDep,
    principal: Supervisor,
    response: Response,
    if_match: IfMatch = None,
) -> ReleaseOut:
    outcome = await release(db, item_id, actor=actor_of(principal), if_match=if_match)
    if outcome.released and outcome.item["channel"] == "fax":
        wake_fax_reader(runtime.name)
    response.headers["ETag"] = etag(outcome.item["version"])
    return ReleaseOut(released=outcome.released, resolution=outcome.resolution, item=_item(outcome.item))


@router.post(
    "/quarantine/{item_id}/discard",
    summary="Decide a held item will never be processed",
    description="The raw bytes stay for the record; the reason and who discarded it are in the history.",
)
async def discard_quarantined(
    item_id: ItemId,
    body: DiscardIn,
    db: Db,
    principal: Supervisor,
    response: Response,
    if_match: IfMatch = None,
) -> QuarantinedOut:
    async with db.transaction() as uow:
        row = await q.discard(uow, item_id, actor=actor_of(principal), reason=body.reason, if_match=if_match)
    response.headers["ETag"] = etag(row["version"])
    return _item(row)
