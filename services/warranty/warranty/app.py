"""Wiring of the warranty service: its tables, routers and event handlers."""

from __future__ import annotations

from pathlib import Path

from kit.service import ServiceDefinition
from warranty.api import routers
from warranty.handlers import handlers
from warranty.tables import metadata, platform

service = ServiceDefinition(
    name="warranty",
    title="Warranty",
    description=(
        "Registered units, entitlement decisions by rule, repeat failures, dealer claims with "
        "automatic appraisal, settlement statements and fault statistics."
    ),
    metadata=metadata,
    tables=platform,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    routers=routers,
    handlers=handlers,
)
