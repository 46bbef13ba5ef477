"""Configuration of intake's channels (hotline, email, fax), from ``INTAKE_*`` environment variables.

Each variable is documented in docs/runbooks/operations.md. Lists are comma-separated; the IMAP
mailboxes and the call-back owners by queue are JSON. Secrets (webhook tokens, IMAP and SMTP
passwords) are ``SecretStr`` and never printed.
"""

from __future__ import annotations

import json
import re
from datetime import time, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from intake.channels.email import EmailLimits, ImapMailbox, SmtpSettings
from intake.channels.fax import (
    DocumentLimits,
    FaxGateway,
    FaxWebhookAuth,
    FaxWebhookLimits,
    HmacSignatureAuth,
    OcrSettings,
    SharedTokenAuth,
    ToolLimits,
)
from intake.domain.hotline import HotlineSettings
from intake.settings import intake_settings
from kit.calendar import BusinessCalendar

CommaList = Annotated[tuple[str, ...], NoDecode]
_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_HOURS = re.compile(r"^\s*(\w{3})(?:-(\w{3}))?\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})\s*$")


class MailboxConfig(BaseModel):
    """One support mailbox polled over IMAP (an item of ``INTAKE_IMAP_MAILBOXES``)."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    host: Annotated[str, Field(min_length=1, max_length=255)]
    username: Annotated[str, Field(min_length=1, max_length=255)]
    password: SecretStr
    port: int = 993
    security: Literal["tls", "starttls", "none"] = "tls"
    folder: str = "INBOX"
    processed_folder: str | None = None
    max_messages_per_poll: Annotated[int, Field(ge=1, le=1000)] = 50

    def mailbox(self, max_message_bytes: int) -> ImapMailbox:
        return ImapMailbox(
            name=self.name,
            host=self.host,
            username=self.username,
            password=self.password.get_secret_value(),
            port=self.port,
            security=self.security,
            folder=self.folder,
            processed_folder=self.processed_folder,
            max_messages_per_poll=self.max_messages_per_poll,
            max_message_bytes=max_message_bytes,
        )


class ChannelSettings(BaseSettings):
    """Everything the hotline, email and fax channels need to know about their surroundings."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", case_sensitive=False)

    # --- hotline ---------------------------------------------------------------------------------
    cti_tokens: CommaList = Field(default=(), description="Shared tokens a PBX may present (rotation).")
    cti_secrets: CommaList = Field(default=(), description="HMAC secrets for signed CTI webhooks.")
    answer_target_seconds: float = Field(default=15.0, gt=0)
    callback_within_minutes: float = Field(default=60.0, gt=0)
    callback_retry_minutes: float = Field(default=60.0, gt=0)
    callback_owner: str = Field(default="hotline", min_length=1, max_length=200)
    callback_owners_by_queue: dict[str, str] = Field(default_factory=dict)
    callback_escalate_to: str = Field(default="supervisors", min_length=1, max_length=200)
    hotline_timezone: str = "UTC"
    hotline_hours: CommaList = Field(
        default=(), description="Opening hours, e.g. 'mon-fri 08:00-18:00,sat 09:00-12:00'; empty: always."
    )

    # --- email -----------------------------------------------------------------------------------
    support_addresses: CommaList = Field(default=(), description="Our own mailboxes (loop protection).")
    imap_mailboxes: list[MailboxConfig] = Field(default_factory=list)
    imap_interval_seconds: float = Field(default=60.0, gt=0)
    smtp_receiver_port: int | None = Field(default=None, ge=0, le=65535, description="None: not started.")
    smtp_receiver_host: str = "127.0.0.1"
    smtp_receiver_domains: CommaList = Field(
        default=(), description="Accepted recipient domains; empty: any."
    )
    email_max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    email_max_parts: int = Field(default=200, ge=1)
    email_max_depth: int = Field(default=10, ge=1)
    email_max_attachments: int = Field(default=25, ge=0)
    email_max_attachment_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    ack_from_address: str | None = Field(
        default=None, description="From of acknowledgments; unset: first support address."
    )
    ack_from_name: str = "Customer Service"
    message_id_domain: str = "intake.invalid"
    smtp_host: str | None = Field(
        default=None, description="Submission server for acknowledgments; unset: not sent."
    )
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=20.0, gt=0)
    ack_max_attempts: int = Field(default=8, ge=1, le=100)

    # --- fax -------------------------------------------------------------------------------------
    fax_webhook_tokens: CommaList = ()
    fax_webhook_secrets: CommaList = ()
    fax_gateway_addresses: CommaList = Field(
        default=(), description="From addresses of fax-to-email gateways."
    )
    fax_gateway_sources: CommaList = Field(
        default=(),
        description="Where gateway mail is trusted: smtp, upload, imap:<mailbox>; empty: anywhere.",
    )
    fax_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    fax_max_pages: int = Field(default=50, ge=1)
    fax_max_page_pixels: int = Field(default=40_000_000, ge=10_000)
    fax_max_decompressed_bytes: int = Field(default=256 * 1024 * 1024, ge=1024 * 1024)
    ocr_language: str = "eng"
    ocr_concurrency: int = Field(default=1, ge=1, le=16)
    ocr_timeout_seconds: float = Field(default=60.0, gt=0)
    ocr_max_attempts: int = Field(default=5, ge=1)
    channel_poll_interval: float = Field(
        default=2.0, gt=0, description="Seconds between looks for faxes to read."
    )

    @field_validator(
        "cti_tokens",
        "cti_secrets",
        "hotline_hours",
        "support_addresses",
        "smtp_receiver_domains",
        "fax_webhook_tokens",
        "fax_webhook_secrets",
        "fax_gateway_addresses",
        mode="before",
    )
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @field_validator("imap_mailboxes", "callback_owners_by_queue", mode="before")
    @classmethod
    def _json(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else None
        return value

    # --- what the channels are given -------------------------------------------------------------

    @property
    def default_region(self) -> str:
        """The country of phone numbers written without a prefix (``INTAKE_PHONE_REGION``)."""
        return intake_settings().phone_region.upper()

    def hotline(self) -> HotlineSettings:
        return HotlineSettings(
            answer_target=timedelta(seconds=self.answer_target_seconds),
            default_region=self.default_region,
            callback_within=timedelta(minutes=self.callback_within_minutes),
            callback_retry_after=timedelta(minutes=self.callback_retry_minutes),
            default_callback_owner=self.callback_owner,
            callback_owner_by_queue=dict(self.callback_owners_by_queue),
            calendar=self.hotline_calendar(),
        )

    def hotline_calendar(self) -> BusinessCalendar:
        if not self.hotline_hours:
            return BusinessCalendar.always_open()
        hours: dict[int, tuple[time, time]] = {}
        for item in self.hotline_hours:
            match = _HOURS.match(item.lower())
            if match is None or match.group(1) not in _WEEKDAYS:
                raise ValueError(f"INTAKE_HOTLINE_HOURS: cannot read {item!r} (e.g. 'mon-fri 08:00-18:00')")
            first = _WEEKDAYS[match.group(1)]
            last = _WEEKDAYS.get(match.group(2) or match.group(1), first)
            opening = time(int(match.group(3)), int(match.group(4)))
            closing = time(int(match.group(5)) % 24, int(match.group(6)))
            for weekday in range(first, last + 1):
                hours[weekday] = (opening, closing)
        return BusinessCalendar(self.hotline_timezone, hours)

    def cti_auth(self) -> FaxWebhookAuth | None:
        """How a CTI webhook proves it comes from our PBX; None when neither tokens nor secrets are set."""
        if self.cti_secrets:
            return HmacSignatureAuth(
                self.cti_secrets, signature_header="X-CTI-Signature", timestamp_header="X-CTI-Timestamp"
            )
        if self.cti_tokens:
            return SharedTokenAuth(self.cti_tokens, header="Authorization")
        return None

    def fax_auth(self) -> FaxWebhookAuth | None:
        if self.fax_webhook_secrets:
            return HmacSignatureAuth(self.fax_webhook_secrets)
        if self.fax_webhook_tokens:
            return SharedTokenAuth(self.fax_webhook_tokens)
        return None

    def email_limits(self) -> EmailLimits:
        return EmailLimits(
            max_message_bytes=self.email_max_message_bytes,
            max_parts=self.email_max_parts,
            max_depth=self.email_max_depth,
            max_attachments=self.email_max_attachments,
            max_attachment_bytes=self.email_max_attachment_bytes,
        )

    def mailboxes(self) -> list[ImapMailbox]:
        return [config.mailbox(self.email_max_message_bytes) for config in self.imap_mailboxes]

    def own_addresses(self) -> tuple[str, ...]:
        addresses = [*self.support_addresses, *([self.ack_from_address] if self.ack_from_address else [])]
        return tuple(dict.fromkeys(address.lower() for address in addresses))

    def ack_sender(self) -> str | None:
        return self.ack_from_address or (self.support_addresses[0] if self.support_addresses else None)

    def smtp(self) -> SmtpSettings | None:
        if not self.smtp_host:
            return None
        return SmtpSettings(
            hostname=self.smtp_host,
            port=self.smtp_port,
            security=self.smtp_security,
            username=self.smtp_username,
            password=self.smtp_password.get_secret_value() if self.smtp_password else None,
            timeout_seconds=self.smtp_timeout_seconds,
        )

    def fax_gateway(self) -> FaxGateway | None:
        if not self.fax_gateway_addresses:
            return None
        return FaxGateway(addresses=self.fax_gateway_addresses, default_region=self.default_region)

    def gateway_trusted(self, source: str) -> bool:
        """Gateway mail is believed only on the paths the gateway uses (its From can be forged)."""
        return not self.fax_gateway_sources or source in self.fax_gateway_sources

    def fax_webhook_limits(self) -> FaxWebhookLimits:
        return FaxWebhookLimits(
            max_body_bytes=self.fax_max_bytes * 4 // 3 + 64 * 1024, max_document_bytes=self.fax_max_bytes
        )

    def document_limits(self) -> DocumentLimits:
        return DocumentLimits(
            max_bytes=self.fax_max_bytes,
            max_pages=self.fax_max_pages,
            max_page_pixels=self.fax_max_page_pixels,
            max_decompressed_bytes=self.fax_max_decompressed_bytes,
        )

    def ocr(self) -> OcrSettings:
        return OcrSettings(
            language=self.ocr_language, tools=ToolLimits(timeout_seconds=self.ocr_timeout_seconds)
        )


_configured: dict[str, ChannelSettings] = {}


def configure_channels(service: str, settings: ChannelSettings | None) -> None:
    """Give the service called ``service`` these settings instead of the environment's (None: undo)."""
    if settings is None:
        _configured.pop(service, None)
    else:
        _configured[service] = settings


def channel_settings(service: str) -> ChannelSettings:
    """The channel settings of ``service``: configured ones, else read once from the environment."""
    found = _configured.get(service)
    return found if found is not None else environment_channel_settings()


@lru_cache(maxsize=1)
def environment_channel_settings() -> ChannelSettings:
    """The channel settings read once from the environment (``INTAKE_…``)."""
    return ChannelSettings()


#: What an uploaded email or a fax delivery may exceed its channel's limit by and still be read: enough
#: to be kept in quarantine with its reason; a larger body is refused (413) before it is read.
QUARANTINE_MARGIN = 1024 * 1024


def channel_body_limits(service: str) -> dict[str, int]:
    """The HTTP body limits of the routes that take messages and documents, from the channels' own limits
    (every other intake route keeps ``MAX_BODY_BYTES``)."""
    settings = channel_settings(service)
    return {
        "/emails": settings.email_max_message_bytes + QUARANTINE_MARGIN,
        "/fax/inbound": settings.fax_webhook_limits().max_body_bytes + QUARANTINE_MARGIN,
    }
