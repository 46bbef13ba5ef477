"""Raw RFC 5322 bytes -> :class:`InboundEmail`, or :class:`Rejected` with the reason and the raw bytes.

The parser is written for hostile input. Size and structure limits are checked before the expensive
work; the MIME tree is walked iteratively with a depth bound; every header and body is decoded by
functions that repair instead of raising. No exception leaves :func:`parse_email`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from typing import Literal

from intake.channels.email import headers as hdr
from intake.channels.email.model import Attachment, EmailLimits, InboundEmail
from intake.channels.email.parts import attachment_filename, html_to_text, part_text, payload_bytes
from intake.channels.outcome import Note, Rejected
from intake.channels.sniff import sniff_content_type

_log = logging.getLogger(__name__)

# Counted in the raw bytes before parsing: a bound on containers, so a bomb of nested parts is refused
# before the recursive stdlib parser ever sees it.
_CONTAINER_DECLARATION = re.compile(rb"content-type[ \t]*:[ \t\r\n]*(?:multipart/|message/rfc822)", re.I)
_SIGNATURE_TYPES = frozenset(
    {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
)
_MAX_REFERENCES = 100


class _Refusal(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Leaf:
    part: Message
    attached_message: bool  # a message/rfc822 part kept whole as one attachment


def parse_email(raw: bytes, limits: EmailLimits | None = None) -> InboundEmail | Rejected:
    """Parse one raw message. Never raises: a limit or a fatal defect gives ``Rejected`` (raw kept)."""
    raw = bytes(raw)
    limits = limits or EmailLimits()
    try:
        return _parse(raw, limits)
    except _Refusal as refusal:
        return Rejected(refusal.code, refusal.reason, raw)
    except RecursionError:
        return Rejected("nesting-too-deep", "the MIME structure is nested too deeply to parse", raw)
    except Exception as exc:
        _log.warning("email parser failed on a %d-byte message: %s", len(raw), type(exc).__name__)
        return Rejected("unparseable", f"the message could not be parsed ({type(exc).__name__})", raw)


def _parse(raw: bytes, limits: EmailLimits) -> InboundEmail:
    if not raw.strip():
        raise _Refusal("empty-message", "the message is empty")
    if len(raw) > limits.max_message_bytes:
        raise _Refusal(
            "message-too-large",
            f"the message is {len(raw)} bytes; the limit is {limits.max_message_bytes}",
        )
    declared = len(_CONTAINER_DECLARATION.findall(raw))
    if declared > limits.max_parts:
        raise _Refusal(
            "too-many-parts",
            f"the message declares {declared} nested containers; the limit is {limits.max_parts} parts",
        )
    message = BytesParser(policy=compat32).parsebytes(raw)
    if not message.keys():
        raise _Refusal("not-an-email", "the input has no header block")
    notes: list[Note] = []
    leaves, part_types = _walk(message, limits, notes)

    headers = _top_level_headers(message, notes)
    raw_headers = {name.lower(): value for name, value in reversed(list(message.raw_items()))}
    from_addresses = _addresses(raw_headers.get("from"), notes)
    subject, subject_notes = hdr.header_value(raw_headers.get("subject", ""))
    date, date_notes = hdr.date(raw_headers["date"]) if "date" in raw_headers else (None, [])
    notes.extend(subject_notes + date_notes)

    message_id = _first_id(raw_headers.get("message-id"))
    if message_id is None:
        notes.append(Note("missing-message-id", "the message has no usable Message-ID"))
    references = _references(message, notes)

    plain, html, attachments = _contents(leaves, limits, notes)
    source: Literal["plain", "html", "none"]
    if plain:
        text, source = "\n\n".join(plain), "plain"
    elif html:
        markup = "\n".join(html)
        if len(markup) > limits.max_html_chars:
            notes.append(
                Note("html-truncated", f"only the first {limits.max_html_chars} characters of HTML were read")
            )
            markup = markup[: limits.max_html_chars]
        text, source = html_to_text(markup), "html"
    else:
        text, source = "", "none"
    if len(text) > limits.max_text_chars:
        notes.append(Note("text-truncated", f"the body text was cut to {limits.max_text_chars} characters"))
        text = text[: limits.max_text_chars]

    return InboundEmail(
        message_id=message_id,
        in_reply_to=_first_id(raw_headers.get("in-reply-to")),
        references=references,
        from_address=from_addresses[0].address if from_addresses else None,
        from_name=from_addresses[0].name if from_addresses else "",
        reply_to=_addresses(raw_headers.get("reply-to"), notes),
        to=_addresses(raw_headers.get("to"), notes),
        cc=_addresses(raw_headers.get("cc"), notes),
        subject=subject,
        date=date,
        text=text,
        text_source=source,
        attachments=tuple(attachments),
        content_type=message.get_content_type(),
        part_types=tuple(part_types),
        headers=headers,
        notes=_unique(notes),
        raw_sha256=hashlib.sha256(raw).hexdigest(),
        raw=raw,
    )


def _walk(message: Message, limits: EmailLimits, notes: list[Note]) -> tuple[list[_Leaf], list[str]]:
    """Check every part against the limits; return the leaves that carry body text or attachments."""
    leaves: list[_Leaf] = []
    part_types: list[str] = []
    # (part, depth, enclosed): parts inside an attached message are checked but not taken apart.
    stack: list[tuple[Message, int, bool]] = [(message, 0, False)]
    count = 0
    while stack:
        part, depth, enclosed = stack.pop()
        count += 1
        if count > limits.max_parts:
            raise _Refusal("too-many-parts", f"the message has more than {limits.max_parts} MIME parts")
        if depth > limits.max_depth:
            raise _Refusal("nesting-too-deep", f"MIME parts are nested deeper than {limits.max_depth} levels")
        _check_headers(part, limits)
        _note_defects(part, notes)
        content_type = part.get_content_type()
        part_types.append(content_type)
        payload = part.get_payload()
        if isinstance(payload, list):
            if content_type == "message/rfc822" and not enclosed:
                leaves.append(_Leaf(part, attached_message=True))
            child_enclosed = enclosed or content_type.startswith("message/")
            children = [child for child in reversed(payload) if isinstance(child, Message)]
            stack.extend((child, depth + 1, child_enclosed) for child in children)
        elif not enclosed:
            leaves.append(_Leaf(part, attached_message=False))
    return leaves, part_types


def _check_headers(part: Message, limits: EmailLimits) -> None:
    items = list(part.raw_items())
    if len(items) > limits.max_headers:
        raise _Refusal(
            "too-many-headers", f"a part has {len(items)} headers; the limit is {limits.max_headers}"
        )
    for name, value in items:
        if len(value) > limits.max_header_length:
            raise _Refusal(
                "header-too-long",
                f"the {name[:40]!r} header is {len(value)} characters; "
                f"the limit is {limits.max_header_length}",
            )


def _note_defects(part: Message, notes: list[Note]) -> None:
    for defect in part.defects:
        name = type(defect).__name__
        if "Base64" not in name:  # reported with the part's content instead
            notes.append(Note("malformed-structure", f"the MIME structure is damaged ({name})"))


def _top_level_headers(message: Message, notes: list[Note]) -> tuple[tuple[str, str], ...]:
    result: list[tuple[str, str]] = []
    for name, value in message.raw_items():
        safe_name = re.sub(r"[^\x21-\x39\x3b-\x7e]", "_", name.strip())[:100]
        text, value_notes = hdr.header_value(value)
        notes.extend(value_notes)
        result.append((safe_name, text))
    return tuple(result)


def _addresses(value: str | None, notes: list[Note]) -> tuple[hdr.Address, ...]:
    if not value:
        return ()
    found, address_notes = hdr.addresses(value)
    notes.extend(address_notes)
    return found


def _first_id(value: str | None) -> str | None:
    if not value:
        return None
    text, _ = hdr.raw_header_text(value)
    ids = hdr.message_ids(text)
    return ids[0] if ids else None


def _references(message: Message, notes: list[Note]) -> tuple[str, ...]:
    values = [
        hdr.raw_header_text(value)[0] for name, value in message.raw_items() if name.lower() == "references"
    ]
    ids = hdr.message_ids(" ".join(values))
    if len(ids) > _MAX_REFERENCES:
        notes.append(
            Note(
                "references-truncated", f"kept the thread root and the last {_MAX_REFERENCES - 1} references"
            )
        )
        ids = (ids[0], *ids[-(_MAX_REFERENCES - 1) :])
    return ids


def _contents(
    leaves: list[_Leaf], limits: EmailLimits, notes: list[Note]
) -> tuple[list[str], list[str], list[Attachment]]:
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for leaf in leaves:
        part = leaf.part
        content_type = part.get_content_type()
        if content_type in _SIGNATURE_TYPES:
            notes.append(
                Note(
                    "signature-not-verified",
                    "a cryptographic signature part was kept in the raw message only",
                )
            )
            continue
        disposition = _disposition(part)
        if (
            not leaf.attached_message
            and content_type in ("text/plain", "text/html")
            and disposition != "attachment"
            and not _has_filename(part)
        ):
            text, text_notes = part_text(part)
            notes.extend(text_notes)
            if text.strip():
                (plain if content_type == "text/plain" else html).append(text.strip())
            continue
        attachments.append(_attachment(leaf, len(attachments) + 1, disposition, limits, notes))
    return plain, html, attachments


def _attachment(
    leaf: _Leaf, index: int, disposition: str | None, limits: EmailLimits, notes: list[Note]
) -> Attachment:
    if index > limits.max_attachments:
        raise _Refusal(
            "too-many-attachments", f"the message has more than {limits.max_attachments} attachments"
        )
    part = leaf.part
    declared = part.get_content_type()
    if leaf.attached_message:
        data, content_type = _attached_message_bytes(part, notes), "message/rfc822"
    else:
        data, data_notes = payload_bytes(part)
        notes.extend(data_notes)
        content_type = sniff_content_type(data)
    if len(data) > limits.max_attachment_bytes:
        raise _Refusal(
            "attachment-too-large",
            f"attachment {index} is {len(data)} bytes; the limit is {limits.max_attachment_bytes}",
        )
    if content_type not in limits.allowed_attachment_types:
        raise _Refusal(
            "attachment-type-not-allowed",
            f"attachment {index} is {content_type} (declared {declared[:80]}); "
            f"allowed: {', '.join(sorted(limits.allowed_attachment_types))}",
        )
    if declared not in ("application/octet-stream", content_type) and not declared.startswith("text/"):
        notes.append(
            Note("content-type-mismatch", f"an attachment declared {declared[:80]} but is {content_type}")
        )
    filename, name_notes = attachment_filename(part, index=index, content_type=content_type)
    notes.extend(name_notes)
    content_ids = hdr.message_ids(hdr.raw_header_text(str(part.get("Content-ID", "")))[0])
    return Attachment(
        filename=filename,
        content_type=content_type,
        declared_content_type=declared,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        inline=disposition == "inline",
        content_id=content_ids[0][1:-1] if content_ids else None,
    )


def _attached_message_bytes(part: Message, notes: list[Note]) -> bytes:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    try:
        if isinstance(inner, Message):
            return inner.as_bytes()
    except Exception as exc:
        notes.append(
            Note(
                "attached-message-unreadable",
                f"an attached message could not be re-read ({type(exc).__name__})",
            )
        )
        return b""
    notes.append(Note("attached-message-unreadable", "an attached message part was empty"))
    return b""


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _has_filename(part: Message) -> bool:
    try:
        return bool(part.get_param("filename", header="content-disposition") or part.get_param("name"))
    except Exception:
        return False


def _unique(notes: list[Note]) -> tuple[Note, ...]:
    return tuple(dict.fromkeys(notes))
