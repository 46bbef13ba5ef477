"""Wiring of the warranty service: its tables, routers, event handlers, timers and the settlement
schedule kept by its scheduler."""

from __future__ import annotations

from pathlib import Path

from kit.service import ServiceDefinition
from warranty import settings
from warranty.api import routers
from warranty.handlers import handlers
from warranty.operations import keep_settlement_schedule
from warranty.tables import metadata, platform
from warranty.timers import timers

service = ServiceDefinition(
    name="warranty",
    title="Warranty",
    description=(
        "Registered units, entitlement decisions by rule, repeat failures, dealer claims with "
        "automatic appraisal and review deadlines, scheduled settlement statements and fault statistics."
    ),
    metadata=metadata,
    tables=platform,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    routers=routers,
    handlers=handlers,
    timers=timers,
    background=[keep_settlement_schedule],
    settings=[settings.environment_settings],
)
