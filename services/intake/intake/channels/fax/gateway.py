"""Faxes that arrive as email from a fax-to-email gateway: a PDF/TIFF attachment, the number in the text.

The gateway is recognised by its From address. That header can be forged, so accept gateway mail
only on a path the gateway alone uses (its own SMTP receiver or mailbox); the fax is then read like
any other, as hostile input.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from intake.channels.email.model import InboundEmail
from intake.channels.fax.document import FAX_DOCUMENT_TYPES
from intake.channels.fax.extract import phone_number_matches
from intake.channels.fax.model import FaxDocument, InboundFax
from intake.channels.outcome import Note, Rejected

DEFAULT_SENDER_PATTERN = re.compile(
    r"(?:fax|from|von|absender|sender|caller|cid)\D{0,20}?(?P<number>\+?\d[\d ()/.\-]{4,30})", re.IGNORECASE
)
_PAGES = re.compile(r"\b(?P<pages>\d{1,4})\s*(?:pages?|seiten?|pp\.?|pgs?)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FaxGateway:
    """A fax-to-email gateway: its sender addresses, where it writes the caller's number, the region."""

    addresses: Collection[str]
    sender_pattern: re.Pattern[str] = DEFAULT_SENDER_PATTERN
    default_region: str = "DE"
    _lowered: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lowered", frozenset(address.lower() for address in self.addresses))

    def sent(self, email: InboundEmail) -> bool:
        """True when ``email`` comes from this gateway."""
        return (email.from_address or "").lower() in self._lowered


def fax_from_email(
    email: InboundEmail, gateway: FaxGateway, *, received_at: datetime
) -> InboundFax | Rejected | None:
    """The fax carried by ``email``; None when the email is not from the gateway (an ordinary email).

    Gateway mail without a PDF or TIFF attachment is ``Rejected`` (raw email kept for quarantine).
    """
    if not gateway.sent(email):
        return None
    documents = [
        attachment for attachment in email.attachments if attachment.content_type in FAX_DOCUMENT_TYPES
    ]
    if not documents:
        return Rejected(
            "no-fax-document", "mail from the fax gateway carries no PDF or TIFF document", email.raw
        )
    notes: list[Note] = list(email.notes)
    if len(documents) > 1:
        notes.append(
            Note(
                "several-fax-documents",
                f"the gateway mail carries {len(documents)} documents; the first is the fax",
            )
        )
    sender_raw, sender = _sender(email, gateway)
    if sender is None:
        notes.append(
            Note(
                "sender-number-unreadable", "no valid sender fax number in the gateway mail's subject or text"
            )
        )
    pages = _PAGES.search(email.subject) or _PAGES.search(email.text[:2000])
    document = documents[0]
    return InboundFax(
        channel="email-gateway",
        provider_fax_id=email.message_id,
        sender_number=sender,
        sender_raw=sender_raw,
        recipient_number=None,
        pages=int(pages.group("pages")) if pages and int(pages.group("pages")) > 0 else None,
        received_at=received_at,
        document=FaxDocument.of(document.data, document.content_type),
        notes=tuple(notes),
    )


def _sender(email: InboundEmail, gateway: FaxGateway) -> tuple[str, str | None]:
    for text in (email.subject, email.text[:2000]):
        for match in gateway.sender_pattern.finditer(text):
            groups = match.groupdict()
            raw = groups.get("number") or (
                match.group(1) if gateway.sender_pattern.groups else match.group(0)
            )
            found = phone_number_matches(raw, gateway.default_region) if raw else []
            if found:
                return found[0]
    found = phone_number_matches(email.subject, gateway.default_region)
    return found[0] if found else ("", None)
