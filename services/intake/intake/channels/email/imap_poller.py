"""Polling support mailboxes over IMAP: each unseen message is handed over once, and marked only after.

Messages are fetched with ``BODY.PEEK[]`` (which leaves them unseen) and identified by UID. Only when
the sink has returned is a message flagged ``\\Seen`` (or moved to the processed folder). A sink that
raises leaves the message unseen, so the next poll offers it again: delivery is at least once, and the
sink deduplicates by Message-ID (or by mailbox, UIDVALIDITY and UID). A message the sink can never
store must be quarantined by the sink, not raised on, or it is offered again at every poll.

The blocking standard-library IMAP client runs in a worker thread, one connection per mailbox poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

_log = logging.getLogger(__name__)
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass(frozen=True, slots=True)
class ImapMailbox:
    """One mailbox to poll. Folder names are ASCII (IMAP's modified UTF-7 names are not supported).

    Messages larger than ``max_message_bytes`` are handed over cut to that size with ``truncated`` set,
    so the caller can quarantine them without holding the whole message in memory.
    """

    name: str
    host: str
    username: str
    password: str = field(repr=False)
    port: int = 993
    security: Literal["tls", "starttls", "none"] = "tls"
    folder: str = "INBOX"
    processed_folder: str | None = None
    timeout_seconds: float = 30.0
    max_messages_per_poll: int = 50
    max_message_bytes: int = 25 * 1024 * 1024
    tls_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        for folder in (self.folder, self.processed_folder):
            if folder is not None and (not folder.isascii() or any(ch in folder for ch in "\r\n\x00")):
                raise ValueError(f"IMAP folder name must be plain ASCII: {folder!r}")


@dataclass(frozen=True, slots=True)
class MailboxMessage:
    """A fetched message and where it came from; (mailbox, uid_validity, uid) identifies it for good."""

    mailbox: str
    uid_validity: int
    uid: int
    size: int
    raw: bytes = field(repr=False)
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class PollReport:
    """How one poll of one mailbox went. ``error`` is set when the mailbox could not be read at all."""

    mailbox: str
    delivered: int = 0
    failed: int = 0
    error: str | None = None


MailboxSink = Callable[[MailboxMessage], Awaitable[None]]
MailboxGate = Callable[[ImapMailbox], Awaitable[bool]]
"""Asked before each poll of a mailbox: whether this process polls it now (one replica at a time)."""


async def poll_mailbox(mailbox: ImapMailbox, sink: MailboxSink) -> PollReport:
    """Hand every unseen message of ``mailbox`` to ``sink`` (oldest first); never raises for I/O errors."""
    try:
        connection = await asyncio.to_thread(_connect, mailbox)
    except (imaplib.IMAP4.error, OSError, ssl.SSLError) as exc:
        _log.warning("IMAP mailbox %s unreachable: %s", mailbox.name, type(exc).__name__)
        return PollReport(mailbox.name, error=f"{type(exc).__name__}: {exc}"[:300])
    delivered = failed = 0
    try:
        session = await asyncio.to_thread(_unseen, connection, mailbox)
        for uid, size in session.messages:
            message = await asyncio.to_thread(_fetch, connection, mailbox, session.uid_validity, uid, size)
            if message is None:
                continue  # expunged by someone else between SEARCH and FETCH
            try:
                await sink(message)
            except Exception as exc:
                failed += 1
                _log.warning(
                    "mailbox %s UID %d left unseen: sink failed (%s)", mailbox.name, uid, type(exc).__name__
                )
                continue
            await asyncio.to_thread(_mark_processed, connection, mailbox, session.capabilities, uid)
            delivered += 1
    except (imaplib.IMAP4.error, OSError, ssl.SSLError) as exc:
        _log.warning("IMAP mailbox %s poll interrupted: %s", mailbox.name, type(exc).__name__)
        return PollReport(mailbox.name, delivered, failed, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        await asyncio.to_thread(_logout, connection)
    return PollReport(mailbox.name, delivered, failed)


async def poll_mailboxes(
    mailboxes: Sequence[ImapMailbox], sink: MailboxSink, gate: MailboxGate | None = None
) -> list[PollReport]:
    """Poll several mailboxes concurrently (those ``gate`` lets through); one failing mailbox does not hold
    up the others."""

    async def gated(mailbox: ImapMailbox) -> PollReport | None:
        if gate is not None and not await gate(mailbox):
            return None
        return await poll_mailbox(mailbox, sink)

    reports = await asyncio.gather(*(gated(mailbox) for mailbox in mailboxes))
    return [report for report in reports if report is not None]


class ImapPoller:
    """Polls its mailboxes every ``interval_seconds`` until ``stop`` is called (or the task is cancelled)."""

    def __init__(
        self,
        mailboxes: Sequence[ImapMailbox],
        sink: MailboxSink,
        *,
        interval_seconds: float = 60.0,
        gate: MailboxGate | None = None,
    ) -> None:
        self._mailboxes = tuple(mailboxes)
        self._sink = sink
        self._interval = interval_seconds
        self._gate = gate
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            await poll_mailboxes(self._mailboxes, self._sink, self._gate)
            try:  # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
                async with asyncio.timeout(self._interval):
                    await self._stopping.wait()
            except TimeoutError:
                continue

    def stop(self) -> None:
        self._stopping.set()


@dataclass(frozen=True, slots=True)
class _Session:
    uid_validity: int
    capabilities: frozenset[str]
    messages: list[tuple[int, int]]  # (uid, size), oldest first


def _connect(mailbox: ImapMailbox) -> imaplib.IMAP4:
    connection: imaplib.IMAP4
    if mailbox.security == "tls":
        context = mailbox.tls_context or ssl.create_default_context()
        connection = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=context, timeout=mailbox.timeout_seconds
        )
    else:
        connection = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=mailbox.timeout_seconds)
        if mailbox.security == "starttls":
            connection.starttls(mailbox.tls_context or ssl.create_default_context())
    try:
        connection.login(mailbox.username, mailbox.password)
    except BaseException:
        _logout(connection)
        raise
    return connection


def _unseen(connection: imaplib.IMAP4, mailbox: ImapMailbox) -> _Session:
    _ok(connection.select(_quote(mailbox.folder)), "SELECT")
    _, validity = connection.response("UIDVALIDITY")
    uid_validity = int(validity[0]) if validity and validity[0] else 0
    # Servers announce more after login than in their greeting (MOVE, UIDPLUS), so ask again.
    capability_line = _ok(connection.capability(), "CAPABILITY")[0] or b""
    capabilities = frozenset(token.upper() for token in capability_line.decode("ascii", "replace").split())
    data = _ok(connection.uid("SEARCH", "UNSEEN"), "SEARCH")
    uids = sorted(int(token) for token in (data[0] or b"").split())[: mailbox.max_messages_per_poll]
    if not uids:
        return _Session(uid_validity, capabilities, [])
    sizes: dict[int, int] = {}
    for item in _ok(connection.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)"), "FETCH"):
        line = item[0] if isinstance(item, tuple) else item
        uid_match, size_match = _UID.search(line or b""), _SIZE.search(line or b"")
        if uid_match and size_match:
            sizes[int(uid_match.group(1))] = int(size_match.group(1))
    return _Session(uid_validity, capabilities, [(uid, sizes[uid]) for uid in uids if uid in sizes])


def _fetch(
    connection: imaplib.IMAP4, mailbox: ImapMailbox, uid_validity: int, uid: int, size: int
) -> MailboxMessage | None:
    truncated = size > mailbox.max_message_bytes
    section = f"BODY.PEEK[]<0.{mailbox.max_message_bytes + 1}>" if truncated else "BODY.PEEK[]"
    for item in _ok(connection.uid("FETCH", str(uid), f"({section})"), "FETCH"):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return MailboxMessage(mailbox.name, uid_validity, uid, size, item[1], truncated)
    return None


def _mark_processed(
    connection: imaplib.IMAP4, mailbox: ImapMailbox, capabilities: frozenset[str], uid: int
) -> None:
    _ok(connection.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)"), "STORE")
    if mailbox.processed_folder is None:
        return
    target = _quote(mailbox.processed_folder)
    if "MOVE" in capabilities:
        _ok(connection.uid("MOVE", str(uid), target), "MOVE")
        return
    _ok(connection.uid("COPY", str(uid), target), "COPY")
    _ok(connection.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
    if "UIDPLUS" in capabilities:
        _ok(connection.uid("EXPUNGE", str(uid)), "EXPUNGE")


def _logout(connection: imaplib.IMAP4) -> None:
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        connection.logout()


def _ok(response: tuple[str, list[Any]], command: str) -> list[Any]:
    status, data = response
    if status != "OK":
        raise imaplib.IMAP4.error(f"{command} failed: {status}")
    return data


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
