"""``create_app()``: one FastAPI application per service, all built the same way."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Response
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from kit.auth import Principal, Role, require
from kit.clock import Clock
from kit.deps import RuntimeDep
from kit.domain import NotFound
from kit.errors import PROBLEM_RESPONSES, install_problem_handlers
from kit.middleware import RequestContextMiddleware
from kit.runtime import Runtime
from kit.service import ServiceDefinition
from kit.settings import Settings
from messaging.inprocess import InProcessBroker
from messaging.transport import Transport


def create_app(
    definition: ServiceDefinition,
    *,
    settings: Settings | None = None,
    clock: Clock | None = None,
    transport: Transport | None = None,
    broker: InProcessBroker | None = None,
    roles: set[str] | None = None,
    migrate_on_start: bool | None = None,
    freeze_heap: bool = False,
) -> FastAPI:
    """Build the service's app. Its lifespan starts the relay, consumers and scheduler per ``roles``.

    Migrations run on start only in the embedded mode (or when asked); deployments run
    ``aftersales migrate`` as a separate step and ``/readyz`` reports a database not at head.
    ``freeze_heap`` (for a process that serves, not for tests): once started, everything built so far
    (modules, routes, models, mappers) is moved out of the garbage collector's view, so a full collection
    walks only what requests created - without it, each one stalls every request in flight for tens of
    milliseconds.
    """
    settings = settings or Settings.for_service(definition.name)
    for read in definition.settings:
        read()
    runtime = Runtime(definition, settings, clock=clock, transport=transport, broker=broker)
    auto_migrate = settings.embedded if migrate_on_start is None else migrate_on_start

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if auto_migrate:
            await runtime.migrate()
        await runtime.start(roles)
        if freeze_heap:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await runtime.stop()

    prefix = definition.prefix
    route_limits = definition.body_limits(definition.name) if definition.body_limits else {}
    app = FastAPI(
        title=f"{definition.title} API",
        description=definition.description,
        version=definition.version,
        lifespan=lifespan,
        openapi_url=f"{prefix}/openapi.json",
        docs_url=f"{prefix}/docs",
        redoc_url=None,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[o.strip() for o in settings.cors_origins.split(",")],
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "X-Correlation-ID", "Idempotent-Replayed"],
        )
    app.add_middleware(
        RequestContextMiddleware,
        service=definition.name,
        max_body_bytes=settings.max_body_bytes,
        route_body_bytes={prefix + path: limit for path, limit in route_limits.items()},
    )
    for router in definition.routers:
        app.include_router(router, prefix=prefix, responses=PROBLEM_RESPONSES)
    app.include_router(operations_router(definition.name))
    app.include_router(admin_router(), prefix=prefix, responses=PROBLEM_RESPONSES)
    return app


class Readiness(BaseModel):
    status: str
    checks: dict[str, Any]


def operations_router(service: str) -> APIRouter:
    router = APIRouter(tags=["operations"])

    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    async def readyz(runtime: RuntimeDep, response: Response) -> Readiness:
        checks = await runtime.readiness()
        status = runtime.readiness_status(checks)
        response.status_code = 503 if status == "not ready" else 200
        return Readiness(status=status, checks=checks)

    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for base in ("", f"/{service}"):
        router.add_api_route(f"{base}/healthz", healthz, methods=["GET"], summary="Liveness")
        router.add_api_route(
            f"{base}/readyz",
            readyz,
            methods=["GET"],
            summary="Readiness",
            responses={503: {"model": Readiness}},
        )
        router.add_api_route(f"{base}/metrics", metrics, methods=["GET"], include_in_schema=False)
    return router


class DeadLetterOut(BaseModel):
    event_id: str
    event_type: str
    attempts: int
    error: str
    failed_at: str | None
    event: dict[str, Any] | None = None
    raw: str | None = None


class ReplayRequest(BaseModel):
    event_ids: list[Annotated[str, Field(max_length=200)]] | None = Field(
        default=None, max_length=10_000, description="Omit to replay every dead letter."
    )


class ReplayResult(BaseModel):
    replayed: list[str]


class OutboxStatus(BaseModel):
    pending: int
    oldest_age_seconds: float


Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


def admin_router() -> APIRouter:
    router = APIRouter(prefix="/admin", tags=["operations"])

    @router.get("/dead-letters", summary="List dead-lettered events")
    async def list_dead_letters(
        runtime: RuntimeDep, _: Admin, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> list[DeadLetterOut]:
        return [DeadLetterOut(**vars(d)) for d in await runtime.dead_letters.list(limit)]

    @router.get("/dead-letters/{event_id}", summary="Inspect one dead-lettered event")
    async def get_dead_letter(event_id: str, runtime: RuntimeDep, _: Admin) -> DeadLetterOut:
        found = await runtime.dead_letters.get(event_id)
        if found is None:
            raise NotFound(f"No dead letter with event id {event_id}.")
        return DeadLetterOut(**vars(found))

    @router.post("/dead-letters/replay", summary="Replay dead-lettered events (all, or those named)")
    async def replay(body: ReplayRequest, runtime: RuntimeDep, _: Admin) -> ReplayResult:
        ids = set(body.event_ids) if body.event_ids is not None else None
        return ReplayResult(replayed=await runtime.dead_letters.replay(ids))

    @router.delete("/dead-letters/{event_id}", status_code=204, summary="Discard a dead-lettered event")
    async def discard(event_id: str, runtime: RuntimeDep, _: Admin) -> Response:
        if not await runtime.dead_letters.discard(event_id):
            raise NotFound(f"No dead letter with event id {event_id}.")
        return Response(status_code=204)

    @router.get("/outbox", summary="Unpublished events and the age of the oldest")
    async def outbox(runtime: RuntimeDep, _: Admin) -> OutboxStatus:
        pending, age = await runtime.relay.pending()
        return OutboxStatus(pending=pending, oldest_age_seconds=age)

    return router
