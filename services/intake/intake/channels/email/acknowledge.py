"""The acknowledgment a customer receives for an email request, and its delivery over SMTP.

The message threads into the customer's conversation (In-Reply-To, References), carries the ticket
number in its subject so a reply finds its ticket, and declares itself automatic (RFC 3834
``Auto-Submitted: auto-replied``) so well-behaved responders do not answer it back.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Literal

import aiosmtplib

from intake.channels.email.model import InboundEmail
from intake.channels.email.threads import tag_subject

_log = logging.getLogger(__name__)
_MAX_REFERENCES = 20

DEFAULT_BODY = (
    "Thank you for your message. We have registered your request under number {ticket_number}\n"
    "and will get back to you shortly.\n\n"
    "Please keep {ticket_number} in the subject when you write to us about this request.\n"
)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how acknowledgments are submitted. ``envelope_sender`` None uses the From address;
    an empty string sends with the null reverse path, as RFC 3834 suggests for automatic responses."""

    hostname: str
    port: int = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_seconds: float = 30.0
    tls_context: ssl.SSLContext | None = None
    envelope_sender: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What the SMTP server said. ``permanent`` failures (5xx) will not succeed on retry; others may."""

    delivered: bool
    permanent: bool
    detail: str
    message_id: str


def build_acknowledgment(
    original: InboundEmail,
    *,
    ticket_number: str,
    from_address: str,
    message_id_domain: str,
    now: datetime,
    from_name: str = "",
    body: str | None = None,
    tag_format: str = "[#{number}]",
) -> EmailMessage:
    """The acknowledgment of ``original`` for ticket ``ticket_number``, sent at ``now``.

    ``body`` may use ``{ticket_number}``. Raises ``ValueError`` when the original has no address to
    answer; callers decide *whether* to acknowledge with
    :func:`~intake.channels.email.classify.classify_email`.
    """
    recipient = original.reply_address
    if not recipient:
        raise ValueError("the original message has no From or Reply-To address to acknowledge")
    message = EmailMessage()
    message["From"] = formataddr((from_name, from_address)) if from_name else from_address
    message["To"] = recipient
    message["Subject"] = tag_subject(original.subject, ticket_number, tag_format=tag_format)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{uuid.uuid4().hex}@{message_id_domain}>"
    if original.message_id:
        message["In-Reply-To"] = original.message_id
        references = [*original.references, original.message_id]
        if len(references) > _MAX_REFERENCES:
            references = [references[0], *references[-(_MAX_REFERENCES - 1) :]]
        message["References"] = " ".join(references)
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Loop"] = from_address
    message.set_content((body or DEFAULT_BODY).format(ticket_number=ticket_number))
    return message


async def send_acknowledgment(message: EmailMessage, settings: SmtpSettings) -> DeliveryResult:
    """Submit ``message`` over SMTP. Never raises for delivery problems: the result says what happened."""
    message_id = str(message["Message-ID"] or "")
    sender = settings.envelope_sender
    if sender is None:
        sender = _bare_address(str(message["From"]))
    client = aiosmtplib.SMTP(
        hostname=settings.hostname,
        port=settings.port,
        username=settings.username,
        password=settings.password,
        timeout=settings.timeout_seconds,
        use_tls=settings.security == "tls",
        start_tls=settings.security == "starttls",
        tls_context=settings.tls_context,
    )
    try:
        async with asyncio.timeout(settings.timeout_seconds * 4), client:
            refused, response = await client.send_message(
                message, sender=sender, recipients=[_bare_address(str(message["To"]))]
            )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        permanent = all(500 <= refusal.code < 600 for refusal in exc.recipients)
        return DeliveryResult(False, permanent, "recipient refused", message_id)
    except aiosmtplib.SMTPResponseException as exc:
        return DeliveryResult(False, 500 <= exc.code < 600, f"{exc.code} {exc.message}"[:300], message_id)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        _log.warning("acknowledgment not submitted: %s", type(exc).__name__)
        return DeliveryResult(False, False, f"{type(exc).__name__}: {exc}"[:300], message_id)
    if refused:
        return DeliveryResult(False, True, "recipient refused", message_id)
    return DeliveryResult(True, False, response[:300], message_id)


def _bare_address(header: str) -> str:
    return parseaddr(header)[1]
