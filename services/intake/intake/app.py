"""Wiring of the intake service: its tables, routers, event handlers, timers and channel listeners."""

from __future__ import annotations

from pathlib import Path

from intake.api import routers
from intake.handlers import handlers
from intake.operations.sla import fire_sla_timer
from intake.store.sla import TIMER_KIND as SLA_TIMER
from intake.tables import metadata, platform
from kit.scheduler import TimerHandler
from kit.service import ServiceDefinition

# every SLA timer re-checks the ticket's clocks as they are now before warning or escalating
timers: dict[str, TimerHandler] = {SLA_TIMER: fire_sla_timer}

service = ServiceDefinition(
    name="intake",
    title="Intake",
    description=(
        "Customer file, tickets with SLA clocks, hotline (CTI), email and fax channels, complaints."
    ),
    metadata=metadata,
    tables=platform,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    routers=routers,
    handlers=handlers,
    timers=timers,
)
