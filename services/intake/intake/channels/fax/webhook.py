"""A fax provider's inbound webhook: authenticate it, then read sender, pages, time and the document.

Authentication is either an HMAC-SHA256 signature over ``"<timestamp>." + body`` with a timestamp
tolerance (replays of old deliveries are refused) or a shared token; both compared in constant time,
both accepting several secrets so a secret can be rotated with overlap.

The body is JSON (the document base64-encoded) or ``multipart/form-data`` (the document as a file
part). Field names differ between providers and are configurable through :class:`FaxWebhookFields`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from intake.channels.fax.document import FAX_DOCUMENT_TYPES
from intake.channels.fax.extract import normalise_phone
from intake.channels.fax.model import FaxDocument, InboundFax
from intake.channels.outcome import Note, Rejected
from intake.channels.sniff import sniff_content_type


@dataclass(frozen=True, slots=True)
class HmacSignatureAuth:
    """Signature = HMAC-SHA256(secret, ``f"{timestamp}.".encode() + body``), hex or base64, optionally
    prefixed ``sha256=`` or ``v1,``; several space-separated signatures may be sent."""

    secrets: tuple[str, ...] = field(repr=False)
    signature_header: str = "X-Fax-Signature"
    timestamp_header: str = "X-Fax-Timestamp"
    tolerance: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if not self.secrets or not all(self.secrets):
            raise ValueError("at least one non-empty webhook secret is required")


@dataclass(frozen=True, slots=True)
class SharedTokenAuth:
    """The token in ``header``, bare or as ``Bearer <token>``."""

    tokens: tuple[str, ...] = field(repr=False)
    header: str = "Authorization"

    def __post_init__(self) -> None:
        if not self.tokens or not all(self.tokens):
            raise ValueError("at least one non-empty webhook token is required")


FaxWebhookAuth = HmacSignatureAuth | SharedTokenAuth


@dataclass(frozen=True, slots=True)
class FaxWebhookFields:
    """Names of the provider's fields (JSON keys or form field names)."""

    fax_id: str = "fax_id"
    sender: str = "from"
    recipient: str = "to"
    pages: str = "pages"
    received_at: str = "received_at"
    document: str = "document"


@dataclass(frozen=True, slots=True)
class FaxWebhookLimits:
    max_body_bytes: int = 30 * 1024 * 1024
    max_document_bytes: int = 20 * 1024 * 1024
    max_form_parts: int = 20
    max_pages: int = 1000


def authenticate_fax_webhook(
    body: bytes, headers: Mapping[str, str], auth: FaxWebhookAuth, *, now: datetime
) -> Rejected | None:
    """None when the delivery is authentic, else ``Rejected`` with code ``unauthenticated``."""
    lowered = {key.lower(): value for key, value in headers.items()}
    if isinstance(auth, SharedTokenAuth):
        presented = lowered.get(auth.header.lower(), "").strip()
        if presented.lower().startswith("bearer "):
            presented = presented[7:].strip()
        if presented and any(
            hmac.compare_digest(presented.encode(), token.encode()) for token in auth.tokens
        ):
            return None
        return Rejected("unauthenticated", "the webhook token is missing or wrong", body)
    timestamp = lowered.get(auth.timestamp_header.lower(), "").strip()
    signed_at = _timestamp(timestamp)
    if signed_at is None:
        return Rejected("unauthenticated", "the webhook timestamp is missing or unreadable", body)
    if abs(now - signed_at) > auth.tolerance:
        return Rejected("unauthenticated", "the webhook timestamp is outside the accepted window", body)
    presented_signatures = [
        _strip_scheme(token) for token in lowered.get(auth.signature_header.lower(), "").split()
    ]
    signed = timestamp.encode() + b"." + body
    for secret in auth.secrets:
        digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
        expected = (digest.hex().encode(), base64.b64encode(digest))
        for presented in presented_signatures:
            if any(hmac.compare_digest(presented.encode(), candidate) for candidate in expected):
                return None
    return Rejected("unauthenticated", "the webhook signature does not match", body)


def parse_fax_webhook(
    body: bytes,
    headers: Mapping[str, str],
    *,
    auth: FaxWebhookAuth,
    now: datetime,
    fields: FaxWebhookFields | None = None,
    limits: FaxWebhookLimits | None = None,
    default_region: str = "DE",
) -> InboundFax | Rejected:
    """Authenticate and read one webhook delivery. Never raises: problems give ``Rejected`` (body kept)."""
    limits = limits or FaxWebhookLimits()
    if len(body) > limits.max_body_bytes:
        return Rejected(
            "payload-too-large", f"the body is {len(body)} bytes; the limit is {limits.max_body_bytes}", body
        )
    refused = authenticate_fax_webhook(body, headers, auth, now=now)
    if refused is not None:
        return refused
    return read_fax_webhook(
        body, headers, now=now, fields=fields, limits=limits, default_region=default_region
    )


def read_fax_webhook(
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: datetime,
    fields: FaxWebhookFields | None = None,
    limits: FaxWebhookLimits | None = None,
    default_region: str = "DE",
) -> InboundFax | Rejected:
    """Read a delivery already authenticated (or kept in quarantine after it was). Never raises."""
    fields = fields or FaxWebhookFields()
    limits = limits or FaxWebhookLimits()
    if len(body) > limits.max_body_bytes:
        return Rejected(
            "payload-too-large", f"the body is {len(body)} bytes; the limit is {limits.max_body_bytes}", body
        )
    try:
        return _read(body, headers, now=now, fields=fields, limits=limits, default_region=default_region)
    except _Refusal as refusal:
        return Rejected(refusal.code, refusal.reason, body)
    except (RecursionError, ValueError, TypeError, UnicodeError) as exc:
        return Rejected("bad-payload", f"the webhook body could not be read ({type(exc).__name__})", body)


class _Refusal(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _read(
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: datetime,
    fields: FaxWebhookFields,
    limits: FaxWebhookLimits,
    default_region: str,
) -> InboundFax:
    content_type = next((value for key, value in headers.items() if key.lower() == "content-type"), "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        values, document = _json_body(body, fields)
    elif media_type == "multipart/form-data":
        values, document = _form_body(body, content_type, fields, limits)
    else:
        raise _Refusal(
            "unsupported-media-type", f"expected JSON or multipart/form-data, not {media_type[:60]!r}"
        )
    if len(document) > limits.max_document_bytes:
        raise _Refusal(
            "document-too-large",
            f"the document is {len(document)} bytes; the limit is {limits.max_document_bytes}",
        )
    document_type = sniff_content_type(document)
    if document_type not in FAX_DOCUMENT_TYPES:
        raise _Refusal(
            "document-type-not-allowed", f"a fax document must be PDF or TIFF, not {document_type}"
        )

    notes: list[Note] = []
    sender_raw = values.get(fields.sender, "").strip()[:64]
    sender = normalise_phone(sender_raw, default_region) if sender_raw else None
    if sender is None:
        notes.append(
            Note("sender-number-unreadable", "the sender's fax number is missing or not a valid number")
        )
    recipient_raw = values.get(fields.recipient, "").strip()[:64]
    received_at = _timestamp(values.get(fields.received_at, ""))
    if received_at is None:
        notes.append(
            Note("received-time-missing", "the provider gave no readable receive time; arrival time used")
        )
        received_at = now
    pages = _pages(values.get(fields.pages, ""), limits, notes)
    return InboundFax(
        channel="webhook",
        provider_fax_id=values.get(fields.fax_id, "").strip()[:200] or None,
        sender_number=sender,
        sender_raw=sender_raw,
        recipient_number=normalise_phone(recipient_raw, default_region) if recipient_raw else None,
        pages=pages,
        received_at=received_at,
        document=FaxDocument.of(document, document_type),
        notes=tuple(notes),
    )


def _json_body(body: bytes, fields: FaxWebhookFields) -> tuple[dict[str, str], bytes]:
    payload = json.loads(body)
    if not isinstance(payload, dict):
        raise _Refusal("bad-payload", "the JSON body is not an object")
    encoded = payload.get(fields.document)
    if not isinstance(encoded, str) or not encoded:
        raise _Refusal(
            "document-missing", f"the {fields.document!r} field with the base64 document is missing"
        )
    try:
        document = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Refusal("bad-document-encoding", "the document is not valid base64") from exc
    values = {
        key: str(value)
        for key, value in payload.items()
        if key != fields.document and isinstance(value, str | int | float)
    }
    return values, document


def _form_body(
    body: bytes, content_type: str, fields: FaxWebhookFields, limits: FaxWebhookLimits
) -> tuple[dict[str, str], bytes]:
    header = " ".join(content_type.split()).encode("latin-1", "replace")
    message = BytesParser(policy=compat32).parsebytes(b"Content-Type: " + header + b"\r\n\r\n" + body)
    parts = message.get_payload()
    if not isinstance(parts, list) or not parts:
        raise _Refusal("bad-payload", "the multipart body has no parts")
    if len(parts) > limits.max_form_parts:
        raise _Refusal(
            "bad-payload", f"the form has {len(parts)} parts; the limit is {limits.max_form_parts}"
        )
    values: dict[str, str] = {}
    document: bytes | None = None
    for part in parts:
        if not isinstance(part, Message):
            continue
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes):
            continue
        if name == fields.document:
            document = content
        else:
            values[name] = content.decode("utf-8", "replace")[:1000]
    if document is None:
        raise _Refusal("document-missing", f"the form has no {fields.document!r} file part")
    return values, document


def _timestamp(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        if value.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(value), UTC)
        parsed = datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _strip_scheme(signature: str) -> str:
    for prefix in ("sha256=", "v1,", "v1="):
        if signature.lower().startswith(prefix):
            return signature[len(prefix) :]
    return signature


def _pages(value: str, limits: FaxWebhookLimits, notes: list[Note]) -> int | None:
    if not value.strip():
        return None
    try:
        pages = int(float(value))
    except (ValueError, OverflowError):
        pages = -1
    if 0 < pages <= limits.max_pages:
        return pages
    notes.append(Note("pages-unreadable", "the declared page count is not a sensible number"))
    return None
