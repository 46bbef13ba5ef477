"""What the channel routers (hotline, email, fax, quarantine) share beyond ``intake.api.common``:
cursors over (time, id), downloads of stored files, the webhooks' authentication, refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response

from intake.api.common import Staff, Supervisor, actor_of
from intake.channels.email.parts import sanitise_filename
from intake.channels.fax import FaxWebhookAuth, authenticate_fax_webhook

__all__ = [
    "WEBHOOK_ERRORS",
    "Agent",
    "Supervisor",
    "actor_of",
    "after_of",
    "check_webhook",
    "cursor_of",
    "download",
    "refused",
]
from kit.deps import RuntimeDep
from kit.domain import DomainError
from kit.errors import HTTPProblem
from kit.pagination import decode_cursor, encode_cursor

Agent = Staff
"""Agents and supervisors work the hotline, the call-back list and the inbound mail and faxes."""

WEBHOOK_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "The token or signature is missing or wrong; nothing was stored"},
    503: {"description": "The webhook is not configured (no token or secret set)"},
}


def after_of(cursor: str | None) -> tuple[datetime, str] | None:
    """A (time, id) position from a cursor made by :func:`cursor_of`."""
    values = decode_cursor(cursor)
    if values is None:
        return None
    try:
        at = datetime.fromisoformat(str(values[0]))
        return (at if at.tzinfo else at.replace(tzinfo=UTC)), str(values[1])
    except (ValueError, IndexError) as exc:
        raise DomainError("The cursor is not valid; start again without it.", code="invalid-cursor") from exc


def cursor_of(rows: list[Any], limit: int, position: Any) -> str | None:
    """The next page's cursor when ``rows`` (``limit + 1`` fetched) has more."""
    if len(rows) <= limit:
        return None
    at, key = position(rows[limit - 1])
    return encode_cursor(at, key)


def download(data: bytes, *, filename: str, content_type: str = "application/octet-stream") -> Response:
    """A stored file as a download the browser will never render inline or sniff into something else."""
    safe = sanitise_filename(filename) or "download.bin"
    ascii_name = safe.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return Response(
        content=data,
        media_type=content_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(safe)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, no-store",
        },
    )


def check_webhook(auth: FaxWebhookAuth | None, body: bytes, request: Request, runtime: RuntimeDep) -> None:
    """Refuse a webhook delivery that does not prove it comes from the provider (401, not stored)."""
    if auth is None:
        raise HTTPProblem(503, "webhook-not-configured", "No token or secret is configured for this webhook.")
    refused = authenticate_fax_webhook(body, dict(request.headers), auth, now=runtime.clock.now())
    if refused is not None:
        raise HTTPProblem(401, "webhook-unauthenticated", refused.reason)


def refused(code: str, reason: str, quarantine_id: str, *, what: str) -> DomainError:
    """The 422 problem for input a channel refused; the body names the quarantined item that keeps it."""
    return DomainError(
        f"The {what} was refused ({reason}) and kept in quarantine.", code=code, quarantine_id=quarantine_id
    )
