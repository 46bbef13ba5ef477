"""``Idempotency-Key`` for creating POSTs: a replay returns the first response.

The key, the request's fingerprint and the response are stored in the same transaction as the
resource the request created, so a crash can never leave a resource without its key (or a key
without its resource). Two concurrent requests with one key: the loser's transaction rolls back
on the key's primary key and it returns the winner's response.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kit.db import Database, UnitOfWork
from kit.errors import HTTPProblem

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="Makes a create safe to retry."),
]


async def _fingerprint(request: Request) -> str:
    body = await request.body()
    return hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + body
    ).hexdigest()


def _scope(request: Request) -> str:
    principal = getattr(request.state, "principal", None)
    who = principal.subject if principal is not None else "anonymous"
    return f"{who}:{request.method}:{request.url.path}"[:300]


async def _stored(uow: UnitOfWork, scope: str, key: str, fingerprint: str) -> Response | None:
    table = uow.tables.idempotency
    row = (await uow.conn.execute(select(table).where(table.c.scope == scope, table.c.key == key))).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise HTTPProblem(
            422, "idempotency-key-reused", "This Idempotency-Key was used for a different request."
        )
    return Response(
        content=bytes(row.body),
        status_code=row.status_code,
        media_type="application/json",
        headers={**(row.headers or {}), "Idempotent-Replayed": "true"},
    )


async def run_idempotent(
    request: Request,
    db: Database,
    key: str | None,
    create: Callable[[UnitOfWork], Awaitable[BaseModel]],
    *,
    status_code: int = 201,
    headers: Callable[[BaseModel], dict[str, str]] | None = None,
) -> Response:
    """Run ``create`` in one transaction, or replay the stored response for a known key."""
    fingerprint = await _fingerprint(request) if key else ""
    scope = _scope(request)
    try:
        async with db.transaction() as uow:
            if key:
                stored = await _stored(uow, scope, key, fingerprint)
                if stored is not None:
                    return stored
            result = await create(uow)
            body = result.model_dump_json().encode()
            extra = headers(result) if headers else {}
            if key:
                uow.insert(  # a concurrent twin's key makes the commit fail: handled below
                    uow.tables.idempotency,
                    {
                        "scope": scope,
                        "key": key,
                        "request_hash": fingerprint,
                        "status_code": status_code,
                        "body": body,
                        "headers": extra,
                        "created_at": datetime.now(UTC),
                    },
                )
    except IntegrityError:
        if not key:
            raise
        async with db.transaction() as uow:
            stored = await _stored(uow, scope, key, fingerprint)
        if stored is None:
            raise
        return stored
    return Response(content=body, status_code=status_code, media_type="application/json", headers=extra)


def json_response(model: BaseModel, *, status_code: int = 200, etag: str | None = None) -> JSONResponse:
    headers = {"ETag": etag} if etag else None
    return JSONResponse(json.loads(model.model_dump_json()), status_code=status_code, headers=headers)
