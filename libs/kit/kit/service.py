"""What a service declares about itself; the kit builds its app, worker, relay and scheduler from it."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from sqlalchemy import MetaData

from kit.db import UnitOfWork
from kit.scheduler import TimerHandler
from kit.tables import PlatformTables
from messaging.consumer import EventHandlers

if TYPE_CHECKING:
    from kit.runtime import Runtime

BackgroundTask = Callable[["Runtime"], Coroutine[Any, Any, None]]

SERVICE_NAMES = ("intake", "dispatch", "inventory", "warranty", "surveys", "webhooks")


@dataclass
class ServiceDefinition:
    name: str
    title: str
    description: str
    metadata: MetaData
    tables: PlatformTables
    migrations: Path
    routers: Sequence[APIRouter] = ()
    handlers: EventHandlers[UnitOfWork] = field(default_factory=EventHandlers)
    timers: dict[str, TimerHandler] = field(default_factory=dict)
    extra_bindings: tuple[str, ...] = ()
    background: Sequence[BackgroundTask] = ()
    #: Readers of the service's own settings (``INTAKE_…``, ``DISPATCH_…``): called when a process builds
    #: the app, so a bad value stops it at start-up with pydantic's message instead of failing the first
    #: request, event or timer that needs the value.
    settings: Sequence[Callable[[], object]] = ()
    #: Body limits of the routes that take files (``{"/emails": 26_000_000}``, paths under ``prefix``), asked
    #: with the service's name when the app is built; every other request is held to ``MAX_BODY_BYTES``.
    body_limits: Callable[[str], Mapping[str, int]] | None = None
    version: str = "1.0.0"

    @property
    def prefix(self) -> str:
        return f"/{self.name}/v1"
