"""The channels' background tasks, run by the process that has the ``scheduler`` role:

- ``poll_mailboxes``: the IMAP mailboxes of ``INTAKE_IMAP_MAILBOXES``, every ``INTAKE_IMAP_INTERVAL_SECONDS``,
  each by one replica at a time (the holder of its lease);
- ``receive_smtp``: the SMTP receiver on ``INTAKE_SMTP_RECEIVER_PORT`` (when set);
- ``read_faxes``: OCR of stored faxes, ``INTAKE_OCR_CONCURRENCY`` at a time, woken when a fax arrives;
- ``send_acknowledgments``: the acknowledgments due, over SMTP, woken when one is queued.

Each message goes through :func:`intake.operations.channels.email.receive_email`, which records it
once or quarantines it; only an unreachable database makes it fail, and then the mailbox keeps the
message unseen and the SMTP client is told to retry (451).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from intake.channels import wakers
from intake.channels.email import (
    ImapMailbox,
    ImapPoller,
    MailboxMessage,
    ReceivedMessage,
    SmtpReceiver,
    SmtpReceiverSettings,
)
from intake.channels.metrics import QUARANTINE_HELD
from intake.channels.outcome import Rejected
from intake.channels.settings import channel_settings
from intake.operations.channels.email import (
    MAILER_LOOP,
    EmailSource,
    claim_acknowledgment,
    deliver_acknowledgment,
    receive_email,
)
from intake.operations.channels.fax import claim_fax, read_fax
from intake.store import channels as store
from kit.leases import new_holder

if TYPE_CHECKING:
    from kit.runtime import Runtime

log = logging.getLogger(__name__)

_smtp_ports: dict[str, int] = {}
_GAUGE_EVERY = 15.0


FAX_READER = "fax-reader"


def wake_fax_reader(service: str) -> None:
    """A fax was stored: the reader of this process (if it runs one) looks at once, not at its next poll."""
    wakers.wake(service, FAX_READER)


def smtp_receiver_port(service: str) -> int | None:
    """The port the SMTP receiver of ``service`` listens on in this process (None: not running)."""
    return _smtp_ports.get(service)


async def poll_mailboxes(runtime: Runtime) -> None:
    """Poll the mailboxes this replica holds the lease of: one replica at a time polls each mailbox, and
    another takes over when it stops (at once) or dies (when its lease runs out)."""
    settings = channel_settings(runtime.name)
    mailboxes = settings.mailboxes()
    if not mailboxes:
        return
    lease = timedelta(seconds=2 * settings.imap_interval_seconds + 60)
    holder, held = new_holder(), set[str]()

    async def ours(mailbox: ImapMailbox) -> bool:
        try:
            async with runtime.db.transaction() as uow:
                taken = await store.take_mailbox(uow, mailbox.name, holder=holder, until=uow.now() + lease)
        except (DBAPIError, OSError) as exc:
            log.warning("mailbox %s not polled: %s", mailbox.name, type(exc).__name__)
            return False
        if taken:
            held.add(mailbox.name)
        else:
            held.discard(mailbox.name)
        return taken

    async def sink(message: MailboxMessage) -> None:
        source = EmailSource(
            "imap",
            mailbox=message.mailbox,
            key=f"imap:{message.mailbox}:{message.uid_validity}:{message.uid}"[:300],
        )
        refused = None
        if message.truncated:
            refused = Rejected(
                "message-too-large",
                f"the message is {message.size} bytes; the limit is {settings.email_max_message_bytes} "
                "(only the first part was fetched)",
                message.raw,
            )
        await receive_email(runtime.db, message.raw, source, received_at=runtime.clock.now(), refused=refused)

    try:
        await ImapPoller(mailboxes, sink, interval_seconds=settings.imap_interval_seconds, gate=ours).run()
    finally:
        await _give_up(runtime, holder, held)


async def _give_up(runtime: Runtime, holder: str, mailboxes: set[str]) -> None:
    """On the way out: let the mailboxes go, so another replica polls them at its next round."""
    with contextlib.suppress(DBAPIError, OSError, TimeoutError):
        async with asyncio.timeout(5):
            async with runtime.db.transaction() as uow:
                for name in sorted(mailboxes):
                    await store.give_up_mailbox(uow, name, holder=holder)


async def receive_smtp(runtime: Runtime) -> None:
    settings = channel_settings(runtime.name)
    if settings.smtp_receiver_port is None:
        return

    async def sink(message: ReceivedMessage) -> None:
        source = EmailSource("smtp", envelope_from=message.mail_from, recipients=message.recipients)
        await receive_email(runtime.db, message.raw, source, received_at=message.received_at)

    receiver = SmtpReceiver(
        sink,
        SmtpReceiverSettings(
            host=settings.smtp_receiver_host,
            port=settings.smtp_receiver_port,
            max_message_bytes=settings.email_max_message_bytes,
            accepted_domains=settings.smtp_receiver_domains or None,
        ),
        clock=runtime.clock,
    )
    async with receiver:
        _smtp_ports[runtime.name] = receiver.port
        try:
            await asyncio.Event().wait()  # until the runtime stops (cancels this task)
        finally:
            _smtp_ports.pop(runtime.name, None)


async def read_faxes(runtime: Runtime) -> None:
    settings = channel_settings(runtime.name)
    waker = wakers.waiter(runtime.name, FAX_READER)
    reading: set[asyncio.Task[None]] = set()
    gauge_at = 0.0
    try:
        while True:
            try:
                while len(reading) < settings.ocr_concurrency:
                    claimed = await claim_fax(runtime.db)
                    if claimed is None:
                        break
                    task = asyncio.create_task(_read_one(runtime, *claimed, waker=waker))
                    reading.add(task)
                    task.add_done_callback(reading.discard)
                if time.monotonic() - gauge_at > _GAUGE_EVERY:
                    gauge_at = time.monotonic()
                    await _report_held(runtime)
            except (DBAPIError, OSError) as exc:
                log.warning("fax reader paused: %s", type(exc).__name__)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(settings.channel_poll_interval):
                    await waker.wait()
            waker.clear()
    finally:
        for task in reading:
            task.cancel()
        wakers.forget(runtime.name, FAX_READER)


async def _read_one(runtime: Runtime, fax_id: str, document: bytes, *, waker: asyncio.Event) -> None:
    try:  # the limits as configured now: a document released after a fix is read under the new ones
        await read_fax(runtime.db, fax_id, document, channel_settings(runtime.name))
    except asyncio.CancelledError:
        raise
    except Exception:
        # the lease runs out and the fax is read again; the log says why this reading failed
        log.exception("fax reading failed", extra={"fax_id": fax_id})
    finally:
        waker.set()


async def _report_held(runtime: Runtime) -> None:
    async with runtime.db.transaction() as uow:
        held = await store.count_held_quarantine(uow)
    for channel in ("email", "fax", "hotline"):
        QUARANTINE_HELD.labels(runtime.name, channel).set(held.get(channel, 0))


async def send_acknowledgments(runtime: Runtime) -> None:
    """Send the acknowledgments that are due, one at a time, each outside any transaction; woken when one
    is queued, otherwise looking every ``INTAKE_CHANNEL_POLL_INTERVAL`` (retries come due by the clock)."""
    waker = wakers.waiter(runtime.name, MAILER_LOOP)
    try:
        while True:
            waker.clear()
            try:
                settings = channel_settings(runtime.name)
                while (claimed := await claim_acknowledgment(runtime.db, settings)) is not None:
                    await deliver_acknowledgment(runtime.db, *claimed, settings)
            except (DBAPIError, OSError) as exc:
                log.warning("acknowledgment sender paused: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(channel_settings(runtime.name).channel_poll_interval):
                    await waker.wait()
    finally:
        wakers.forget(runtime.name, MAILER_LOOP)


BACKGROUND = (poll_mailboxes, receive_smtp, read_faxes, send_acknowledgments)
