"""Releasing a quarantined item: process it again through its own channel, as it would have been.

An operator releases an item after a fix (a limit raised, a parser corrected, an OCR engine
repaired). If the channel now accepts the input, the item is released with what became of it (the
email or fax recorded, the ticket opened); if it refuses it again, the item stays held with the new
reason and the attempt is in its audit trail.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from intake.channels import Rejected
from intake.channels.cti_webhook import read_cti_request
from intake.channels.email import InboundEmail, parse_email
from intake.channels.fax import read_fax_webhook
from intake.channels.settings import ChannelSettings, channel_settings
from intake.domain.common import Actor
from intake.operations.channels import email as email_ops
from intake.operations.channels import fax as fax_ops
from intake.operations.channels import hotline
from intake.operations.channels import quarantine as q
from intake.store import channels as store
from kit.db import Database, UnitOfWork


@dataclass(frozen=True)
class Released:
    """How a release went: ``released`` with the resolution, or still held with the new reason."""

    item: dict[str, Any]
    released: bool
    resolution: str | None = None
    reason_code: str | None = None


class _RefusedAgain(Exception):
    def __init__(self, outcome: email_ops.EmailOutcome) -> None:
        super().__init__(outcome.reason_code)
        self.outcome = outcome


async def release(db: Database, item_id: str, *, actor: Actor, if_match: str | None = None) -> Released:
    settings = channel_settings(db.service)
    async with db.transaction() as uow:
        item = await store.get_quarantine(uow, item_id)
        raw = await store.get_blob(uow, item["raw_sha256"])
    parsed = await asyncio.to_thread(_parse, dict(item), raw, settings)
    async with db.transaction() as uow:
        row, raw = await q.begin_release(uow, item_id, actor=actor, if_match=if_match)
        outcome = await _process(uow, row, raw, parsed, settings)
        if isinstance(outcome, Rejected):
            await q.mark_refused_again(uow, row, outcome, actor=actor)
        else:
            await q.mark_released(uow, row, actor=actor, resolution=outcome)
        current = dict(await store.get_quarantine(uow, item_id))
    if isinstance(outcome, Rejected):
        return Released(current, released=False, reason_code=outcome.code)
    return Released(current, released=True, resolution=outcome)


def _parse(item: dict[str, Any], raw: bytes, settings: ChannelSettings) -> InboundEmail | Rejected | None:
    """The CPU-bound part (parsing), done off the event loop before the transaction."""
    if item["channel"] == "email" or item["source"] == "email-gateway":
        return parse_email(raw, settings.email_limits())
    return None


async def _process(
    uow: UnitOfWork,
    row: dict[str, Any],
    raw: bytes,
    parsed: InboundEmail | Rejected | None,
    settings: ChannelSettings,
) -> str | Rejected:
    channel, source, context = row["channel"], row["source"], row["context"] or {}
    received_at = row["received_at"]
    if channel == "email" or source == "email-gateway":
        assert parsed is not None
        if isinstance(parsed, Rejected):
            return parsed
        email_source = email_ops.EmailSource(
            "quarantine", mailbox=context.get("mailbox"), envelope_from=context.get("envelope_from")
        )
        try:
            async with uow.savepoint():  # refused again: whatever recording staged is undone with it
                outcome = await email_ops.record_email(
                    uow, parsed, raw, email_source, settings, received_at=received_at
                )
                if outcome.status == "quarantined":
                    raise _RefusedAgain(outcome)
        except _RefusedAgain as refused:
            again = refused.outcome
            return Rejected(again.reason_code or "refused", again.reason or "refused again", raw)
        return _email_resolution(outcome)
    if channel == "fax" and source.startswith("fax:"):
        fax_id = str(context.get("fax_id") or source.removeprefix("fax:"))
        await fax_ops.requeue_for_reading(uow, fax_id)
        return f"fax {fax_id} queued to be read again"
    if channel == "fax":
        headers = {"content-type": str(context.get("content_type") or "")}
        fax = read_fax_webhook(
            raw,
            headers,
            now=received_at,
            limits=settings.fax_webhook_limits(),
            default_region=settings.default_region,
        )
        if isinstance(fax, Rejected):
            return fax
        recorded = await fax_ops.record_fax(uow, fax)
        return f"fax {recorded.fax_id} {'already recorded' if recorded.duplicate else 'received'}"
    event = read_cti_request(raw, str(context.get("content_type") or ""), received_at=received_at)
    if isinstance(event, Rejected):
        return event
    recorded_call = await hotline.record_cti_event(uow, event, settings)
    return f"call {recorded_call.call.call_id}: {recorded_call.call.outcome.value}"


def _email_resolution(outcome: email_ops.EmailOutcome) -> str:
    if outcome.status in ("ticket_opened", "threaded"):
        return f"email {outcome.email_id} {outcome.status.replace('_', ' ')}: {outcome.ticket_number}"
    if outcome.status == "fax":
        return f"email {outcome.email_id} carried fax {outcome.fax_id}"
    return f"email {outcome.email_id or ''} {outcome.status.replace('_', ' ')}".replace("  ", " ")
