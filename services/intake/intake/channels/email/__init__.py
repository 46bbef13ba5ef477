"""The email channel: parse, classify, thread, strip quotes, acknowledge, and receive (SMTP, IMAP).

Typical use by the store/API layer::

    outcome = parse_email(raw, limits)
    if isinstance(outcome, Rejected):
        quarantine(outcome.code, outcome.reason, outcome.raw)
    else:
        kind = classify_email(outcome, own_addresses=...)
        match = await find_thread(outcome, tickets_by_message_id=..., ticket_by_number=...)
        reply_text = strip_quoted_reply(outcome.text)
        if kind.may_auto_respond:
            await send_acknowledgment(build_acknowledgment(outcome, ...), smtp_settings)
"""

from intake.channels.email.acknowledge import (
    DeliveryResult,
    SmtpSettings,
    build_acknowledgment,
    send_acknowledgment,
)
from intake.channels.email.classify import Classification, MailKind, classify_email
from intake.channels.email.headers import Address
from intake.channels.email.imap_poller import (
    ImapMailbox,
    ImapPoller,
    MailboxMessage,
    PollReport,
    poll_mailbox,
    poll_mailboxes,
)
from intake.channels.email.model import Attachment, EmailLimits, InboundEmail
from intake.channels.email.parse import parse_email
from intake.channels.email.quotes import strip_quoted_reply
from intake.channels.email.smtp_receiver import ReceivedMessage, SmtpReceiver, SmtpReceiverSettings
from intake.channels.email.threads import (
    DEFAULT_TICKET_TAG,
    ThreadMatch,
    find_thread,
    tag_subject,
    ticket_numbers_in_subject,
)

__all__ = [
    "DEFAULT_TICKET_TAG",
    "Address",
    "Attachment",
    "Classification",
    "DeliveryResult",
    "EmailLimits",
    "ImapMailbox",
    "ImapPoller",
    "InboundEmail",
    "MailKind",
    "MailboxMessage",
    "PollReport",
    "ReceivedMessage",
    "SmtpReceiver",
    "SmtpReceiverSettings",
    "SmtpSettings",
    "ThreadMatch",
    "build_acknowledgment",
    "classify_email",
    "find_thread",
    "parse_email",
    "poll_mailbox",
    "poll_mailboxes",
    "send_acknowledgment",
    "strip_quoted_reply",
    "tag_subject",
    "ticket_numbers_in_subject",
]
