"""The fax channel over HTTP: the provider's inbound webhook, and the faxes with what OCR read from them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from intake.api.channel_views import (
    WEBHOOK_ERRORS,
    Agent,
    after_of,
    check_webhook,
    cursor_of,
    download,
    refused,
)
from intake.api.email import NoteOut
from intake.channels.settings import channel_settings
from intake.channels.workers import wake_fax_reader
from intake.operations.channels.fax import receive_fax_delivery
from intake.store import channels as store
from kit.deps import Db, RuntimeDep
from kit.pagination import Cursor, Limit, Page

router = APIRouter(tags=["fax"])

FaxState = Literal["received", "reading", "ticket_opened", "threaded", "quarantined"]


class FaxReceivedOut(BaseModel):
    status: Literal["received", "duplicate"] = Field(
        description="Stored and waiting to be read, or a redelivery of a fax already stored"
    )
    fax_id: str


class FaxOut(BaseModel):
    id: str
    channel: Literal["webhook", "email-gateway"]
    provider_fax_id: str | None
    sender_number: str | None = Field(description="E.164 when it could be read")
    sender_raw: str
    recipient_number: str | None
    pages_declared: int | None
    received_at: datetime
    content_type: str
    size: int
    status: FaxState
    attempts: int
    last_error: str | None
    ocr_text: str | None = Field(description="What OCR read, page after page")
    serial_numbers: list[str] = Field(description="Serial numbers found in the text (suggestions)")
    phone_numbers: list[str]
    fault_description: str | None
    customer_id: str | None
    ticket_id: str | None
    email_id: str | None
    quarantine_id: str | None
    notes: list[NoteOut]


def _fax(row: Any, *, with_text: bool = True) -> FaxOut:
    values = dict(row)
    if not with_text:
        values["ocr_text"] = None
    return FaxOut.model_validate(values)


@router.post(
    "/fax/inbound",
    status_code=202,
    summary="Inbound fax from the provider (webhook)",
    description="JSON (`document` base64) or multipart/form-data (`document` file part) with `fax_id`, "
    "`from`, `to`, `pages`, `received_at`. Authenticated by a shared token (`Authorization`) or an "
    "HMAC-SHA256 signature of `<timestamp>.<body>` (`X-Fax-Timestamp`, `X-Fax-Signature`). The fax is "
    "stored and answered at once; OCR and the ticket follow. A redelivery is recognised by `fax_id`. "
    "A delivery that cannot be read is kept in quarantine and refused with 422.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["document"],
                        "properties": {
                            "fax_id": {"type": "string"},
                            "from": {"type": "string"},
                            "to": {"type": "string"},
                            "pages": {"type": "integer"},
                            "received_at": {"type": "string", "format": "date-time"},
                            "document": {"type": "string", "format": "byte"},
                        },
                    }
                },
                "multipart/form-data": {"schema": {"type": "object"}},
            },
        }
    },
    responses=WEBHOOK_ERRORS,
)
async def inbound_fax(request: Request, db: Db, runtime: RuntimeDep, response: Response) -> FaxReceivedOut:
    body = await request.body()
    check_webhook(channel_settings(runtime.name).fax_auth(), body, request, runtime)
    outcome = await receive_fax_delivery(db, body, dict(request.headers), received_at=runtime.clock.now())
    if outcome.status == "quarantined":
        assert outcome.quarantine_id is not None
        raise refused(
            outcome.reason_code or "refused", outcome.reason or "", outcome.quarantine_id, what="fax"
        )
    assert outcome.fax_id is not None
    if outcome.status == "duplicate":
        response.status_code = 200
    else:
        wake_fax_reader(runtime.name)
    return FaxReceivedOut(status=outcome.status, fax_id=outcome.fax_id)


@router.get("/faxes", summary="Inbound faxes, newest first")
async def list_faxes(
    db: Db,
    _: Agent,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: Annotated[FaxState | None, Query()] = None,
) -> Page[FaxOut]:
    async with db.transaction() as uow:
        rows = await store.list_faxes(uow, status=status, after=after_of(cursor), limit=limit + 1)
    return Page(
        items=[_fax(row, with_text=False) for row in rows[:limit]],
        next_cursor=cursor_of(rows, limit, lambda r: (r["received_at"], r["id"])),
    )


@router.get("/faxes/{fax_id}", summary="One fax: what OCR read, the hints, the ticket")
async def get_fax(fax_id: Annotated[str, Path(max_length=64)], db: Db, _: Agent) -> FaxOut:
    async with db.transaction() as uow:
        return _fax(await store.get_fax(uow, fax_id))


@router.get(
    "/faxes/{fax_id}/document",
    summary="Download the fax document (PDF or TIFF)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "image/tiff": {}}}},
)
async def download_fax(fax_id: Annotated[str, Path(max_length=64)], db: Db, _: Agent) -> Response:
    async with db.transaction() as uow:
        row = await store.get_fax(uow, fax_id)
        data = await store.get_blob(uow, row["document_sha256"])
    extension = ".pdf" if row["content_type"] == "application/pdf" else ".tif"
    return download(data, filename=f"fax-{fax_id}{extension}", content_type=row["content_type"])
