"""What a parsed inbound email is, and the limits a raw message must respect to become one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from intake.channels.email.headers import Address
from intake.channels.outcome import Note

DEFAULT_ALLOWED_ATTACHMENT_TYPES: frozenset[str] = frozenset(
    {
        "application/pdf",
        "image/tiff",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/heic",
        "image/heif",
        "text/plain",
        "message/rfc822",
    }
)


@dataclass(frozen=True, slots=True)
class EmailLimits:
    """Bounds a raw message must stay within; anything beyond is rejected to quarantine, not parsed.

    Attachment types are the types sniffed from the bytes (see ``intake.channels.sniff``), so a file
    that only claims to be a PDF does not pass as one.
    """

    max_message_bytes: int = 25 * 1024 * 1024
    max_parts: int = 200
    max_depth: int = 10
    max_headers: int = 500
    max_header_length: int = 32 * 1024
    max_attachments: int = 25
    max_attachment_bytes: int = 20 * 1024 * 1024
    allowed_attachment_types: frozenset[str] = DEFAULT_ALLOWED_ATTACHMENT_TYPES
    max_text_chars: int = 1_000_000
    max_html_chars: int = 2_000_000


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attached or inline file; ``content_type`` is sniffed, ``declared_content_type`` the sender's."""

    filename: str
    content_type: str
    declared_content_type: str
    size: int
    sha256: str
    data: bytes = field(repr=False)
    inline: bool = False
    content_id: str | None = None


@dataclass(frozen=True, slots=True)
class InboundEmail:
    """A parsed message: the fields intake threads, matches and stores, all decoded and single-line safe.

    ``message_id`` values keep their angle brackets (``<id@host>``). ``headers`` are the top-level
    headers, decoded and neutralised, in order. ``notes`` list what had to be repaired on the way.
    ``raw`` is the message exactly as received, to be stored as the original.
    """

    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    from_address: str | None
    from_name: str
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    date: datetime | None
    text: str
    text_source: Literal["plain", "html", "none"]
    attachments: tuple[Attachment, ...]
    content_type: str
    part_types: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]
    notes: tuple[Note, ...]
    raw_sha256: str
    raw: bytes = field(repr=False)

    def header(self, name: str) -> str | None:
        """The first top-level header called ``name`` (case-insensitive), decoded, or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def header_values(self, name: str) -> tuple[str, ...]:
        """Every top-level header called ``name`` (case-insensitive), decoded, in order."""
        wanted = name.lower()
        return tuple(value for key, value in self.headers if key.lower() == wanted)

    @property
    def reply_address(self) -> str | None:
        """Where an answer goes: the first Reply-To mailbox, else the From address."""
        return self.reply_to[0].address if self.reply_to else self.from_address

    @property
    def dedup_key(self) -> str:
        """A key that is the same for redeliveries of this message: the Message-ID, else the content hash."""
        return self.message_id or f"<sha256:{self.raw_sha256}>"
