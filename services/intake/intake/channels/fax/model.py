"""What an inbound fax is, whichever way it arrived (provider webhook or fax-to-email gateway)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from intake.channels.outcome import Note


@dataclass(frozen=True, slots=True)
class FaxDocument:
    """The received document; ``content_type`` is sniffed from the bytes (PDF or TIFF)."""

    content_type: str
    size: int
    sha256: str
    data: bytes = field(repr=False)

    @classmethod
    def of(cls, data: bytes, content_type: str) -> FaxDocument:
        return cls(content_type, len(data), hashlib.sha256(data).hexdigest(), data)


@dataclass(frozen=True, slots=True)
class InboundFax:
    """A fax to turn into a ticket. ``sender_number`` is E.164 when it could be read, else None
    (``sender_raw`` keeps what the provider or gateway said). ``pages`` is what the sender declared;
    the document's real page count comes from inspection."""

    channel: Literal["webhook", "email-gateway"]
    provider_fax_id: str | None
    sender_number: str | None
    sender_raw: str
    recipient_number: str | None
    pages: int | None
    received_at: datetime
    document: FaxDocument
    notes: tuple[Note, ...] = ()
