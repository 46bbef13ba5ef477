"""Wiring of the intake service: its tables, routers, event handlers, timers and channel listeners."""

from __future__ import annotations

from pathlib import Path

from intake.api import routers
from intake.channels.settings import channel_body_limits, environment_channel_settings
from intake.channels.workers import BACKGROUND as CHANNEL_LISTENERS
from intake.handlers import handlers
from intake.operations.channels.hotline import CALLBACK_DUE, callback_due
from intake.operations.sla import fire_sla_timer
from intake.settings import intake_settings
from intake.store.sla import TIMER_KIND as SLA_TIMER
from intake.tables import metadata, platform
from kit.scheduler import TimerHandler
from kit.service import ServiceDefinition

# every SLA timer re-checks the ticket's clocks as they are now before warning or escalating
timers: dict[str, TimerHandler] = {SLA_TIMER: fire_sla_timer}
# channels: overdue call-backs go to the supervisors
timers |= {CALLBACK_DUE: callback_due}

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
    background=CHANNEL_LISTENERS,
    settings=[intake_settings, environment_channel_settings],
    body_limits=channel_body_limits,
)
