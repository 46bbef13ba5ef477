"""The email channel over HTTP: upload a raw message, read what came in, download originals and files.

Mail mostly arrives by itself (IMAP polling, the SMTP receiver); these routes let an agent hand in an
.eml and let the desk show every message, its attachments and its acknowledgment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.engine import RowMapping

from intake.api.channel_views import Agent, after_of, cursor_of, download, refused
from intake.operations.channels.email import EmailSource, receive_email
from intake.store import channels as store
from kit.deps import Db, RuntimeDep
from kit.errors import HTTPProblem
from kit.pagination import Cursor, Limit, Page

router = APIRouter(tags=["email"])

EmailId = Annotated[str, Path(max_length=64)]
EmailState = Literal["ticket_opened", "threaded", "not_a_request", "fax", "quarantined", "processing"]


class EmailReceivedOut(BaseModel):
    status: Literal["ticket_opened", "threaded", "not_a_request", "fax", "duplicate"] = Field(
        description="A new ticket, a message on an existing one, kept but not a request (auto-reply, "
        "bounce, list mail), a fax from the gateway, or a message recorded before"
    )
    email_id: str | None
    ticket_id: str | None
    ticket_number: str | None
    fax_id: str | None


class NoteOut(BaseModel):
    code: str
    detail: str


class AttachmentOut(BaseModel):
    id: str
    filename: str
    content_type: str = Field(description="Judged from the bytes, not from what the sender declared")
    declared_content_type: str
    size: int
    sha256: str
    inline: bool
    ticket_id: str | None


class AcknowledgmentOut(BaseModel):
    status: Literal["pending", "sent", "failed", "not_configured"]
    to_address: str
    message_id: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class EmailSummaryOut(BaseModel):
    id: str
    message_id: str | None
    source: str
    mailbox: str | None
    from_address: str | None
    from_name: str
    subject: str
    received_at: datetime
    kind: Literal["personal", "auto-reply", "bounce", "bulk", "loop"]
    status: EmailState
    ticket_id: str | None
    customer_id: str | None


class EmailOut(EmailSummaryOut):
    sent_at: datetime | None
    kind_reasons: list[str]
    thread_by: str | None
    text: str
    text_source: str
    notes: list[NoteOut] = Field(description="What had to be repaired while reading the message")
    size: int
    fax_id: str | None
    attachments: list[AttachmentOut]
    acknowledgment: AcknowledgmentOut | None


def _attachment(row: RowMapping) -> AttachmentOut:
    return AttachmentOut.model_validate(dict(row))


@router.post(
    "/emails",
    status_code=201,
    summary="Hand in a raw email (.eml)",
    description="The message is processed as if it had arrived by mail: recorded once (by Message-ID), "
    "threaded into its ticket or opening one, acknowledged. A message that breaks the input limits is "
    "kept in quarantine and refused with 422 (the problem names the quarantined item). Bodies above "
    "INTAKE_EMAIL_MAX_MESSAGE_BYTES + 1 MiB are refused with 413 before they are read.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload_email(
    request: Request, db: Db, runtime: RuntimeDep, _: Agent, response: Response
) -> EmailReceivedOut:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in ("message/rfc822", "application/octet-stream"):
        raise HTTPProblem(415, "unsupported-media-type", "Send the raw message as message/rfc822.")
    outcome = await receive_email(
        db, await request.body(), EmailSource("upload"), received_at=runtime.clock.now()
    )
    if outcome.status == "quarantined":
        assert outcome.quarantine_id is not None
        raise refused(
            outcome.reason_code or "refused", outcome.reason or "", outcome.quarantine_id, what="message"
        )
    if outcome.status == "duplicate":
        response.status_code = 200
    return EmailReceivedOut(
        status=outcome.status,
        email_id=outcome.email_id,
        ticket_id=outcome.ticket_id,
        ticket_number=outcome.ticket_number,
        fax_id=outcome.fax_id,
    )


@router.get("/emails", summary="Inbound emails, newest first")
async def list_emails(
    db: Db,
    _: Agent,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: Annotated[EmailState | None, Query()] = None,
    ticket_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[EmailSummaryOut]:
    async with db.transaction() as uow:
        rows = await store.list_emails(
            uow, status=status, ticket_id=ticket_id, after=after_of(cursor), limit=limit + 1
        )
    return Page(
        items=[EmailSummaryOut.model_validate(dict(row)) for row in rows[:limit]],
        next_cursor=cursor_of(rows, limit, lambda r: (r["received_at"], r["id"])),
    )


@router.get("/emails/{email_id}", summary="One email: text, repairs, attachments, acknowledgment")
async def get_email(email_id: EmailId, db: Db, _: Agent) -> EmailOut:
    async with db.transaction() as uow:
        row = await store.get_email(uow, email_id)
        files = await store.attachments_of(uow, "email", email_id)
        ack = await store.outbound_for_email(uow, email_id)
    values = dict(row)
    values["sent_at"] = row["sent_at"]
    return EmailOut.model_validate(
        {
            **values,
            "attachments": [_attachment(file) for file in files],
            "acknowledgment": AcknowledgmentOut.model_validate(dict(ack)) if ack else None,
        }
    )


@router.get(
    "/emails/{email_id}/raw",
    summary="Download the message exactly as received (.eml)",
    response_class=Response,
    responses={200: {"content": {"message/rfc822": {}}}},
)
async def download_email(email_id: EmailId, db: Db, _: Agent) -> Response:
    async with db.transaction() as uow:
        row = await store.get_email(uow, email_id)
        data = await store.get_blob(uow, row["raw_sha256"])
    return download(data, filename=f"email-{email_id}.eml", content_type="message/rfc822")


@router.get(
    "/attachments/{attachment_id}", summary="A stored file's details (email attachment, fax document)"
)
async def get_attachment(
    attachment_id: Annotated[str, Path(max_length=64)], db: Db, _: Agent
) -> AttachmentOut:
    async with db.transaction() as uow:
        return _attachment(await store.get_attachment(uow, attachment_id))


@router.get(
    "/attachments/{attachment_id}/content",
    summary="Download a stored file",
    description="Always a download (never shown inline), with the type judged from the bytes.",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_attachment(
    attachment_id: Annotated[str, Path(max_length=64)], db: Db, _: Agent
) -> Response:
    async with db.transaction() as uow:
        row = await store.get_attachment(uow, attachment_id)
        data = await store.get_blob(uow, row["sha256"])
    return download(data, filename=row["filename"], content_type=row["content_type"])
