"""RFC 9457 problem details for every error a service returns. Never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from kit.domain import DomainError
from messaging import context
from messaging.consumer import is_transient

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:aftersales:problem:"
#: ``Retry-After`` of a 503 answered while the database is unreachable.
RETRY_AFTER_SECONDS = 5


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=[TYPE_PREFIX + "validation-failed"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    correlation_id: str | None = None
    errors: list[FieldError] | None = None
    allowed_actions: list[str] | None = None


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem_response(
    request: Request | None,
    *,
    status: int,
    code: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    **fields: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": str(request.url.path) if request is not None else None,
        "correlation_id": context.correlation_id(),
        **(extra or {}),
        **fields,
    }
    return JSONResponse(
        {k: v for k, v in body.items() if v is not None},
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


class HTTPProblem(Exception):
    """Raise from the HTTP layer for a problem that is not a business rule (auth, headers)."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(request, status=exc.status, code=exc.code, detail=exc.detail, extra=exc.extra)

    @app.exception_handler(HTTPProblem)
    async def _http_problem(request: Request, exc: HTTPProblem) -> JSONResponse:
        return problem_response(
            request, status=exc.status, code=exc.code, detail=exc.detail, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body",
                "message": err.get("msg", "invalid"),
                "type": err.get("type", "invalid"),
            }
            for err in exc.errors()
        ]
        return problem_response(
            request, status=422, code="validation-failed", detail="The request is not valid.", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed", 401: "unauthorized", 403: "forbidden"}.get(
            exc.status_code, "http-error"
        )
        return problem_response(
            request,
            status=exc.status_code,
            code=code,
            detail=str(exc.detail),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(
            request,
            status=500,
            code="internal-error",
            detail="An unexpected error occurred; it has been logged.",
        )

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        """The database cannot be reached (down, restarting, failing over): retrying later works."""
        if not is_transient(exc):
            return await _unhandled(request, exc)
        log.warning("database unavailable: %s", exc.__class__.__name__, extra={"path": request.url.path})
        return _retry_later(request, "unavailable", "The service cannot reach its database right now")

    async def _busy(request: Request, exc: Exception) -> JSONResponse:
        """Every connection of this process's pool stayed in use for ``DB_POOL_WAIT`` seconds."""
        log.warning("no database connection free in time", extra={"path": request.url.path})
        return _retry_later(request, "busy", "The service is too busy to take this request now")

    app.add_exception_handler(DBAPIError, _unavailable)
    app.add_exception_handler(PoolTimeout, _busy)
    app.add_exception_handler(OSError, _unavailable)  # connection refused/reset, timeouts


def _retry_later(request: Request, code: str, why: str) -> JSONResponse:
    """A 503 that a client retries after ``Retry-After`` seconds (safe with an ``Idempotency-Key``)."""
    return problem_response(
        request,
        status=503,
        code=code,
        detail=f"{why}; retry shortly.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": _TITLES[status]}
    for status in (400, 401, 403, 404, 409, 412, 422)
}
