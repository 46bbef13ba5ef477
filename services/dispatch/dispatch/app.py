"""The dispatch service: its tables, API, event handlers and work order timers, wired on the kit."""

from __future__ import annotations

from pathlib import Path

from dispatch.api import routers
from dispatch.commands import fire_timer
from dispatch.domain.escalation import TimerKind
from dispatch.handlers import handlers
from dispatch.maintenance import request_due_visits
from dispatch.settings import dispatch_settings
from dispatch.store import PLAN_TIMER, timer_kind
from dispatch.tables import metadata, tables
from kit.scheduler import TimerHandler
from kit.service import ServiceDefinition

# every timer kind re-checks the order as it is now (``escalation.decide``) before escalating
timers: dict[str, TimerHandler] = {timer_kind(kind): fire_timer for kind in TimerKind}
# a maintenance plan's timer requests its visits that fall due within the lead time
timers[PLAN_TIMER] = request_due_visits

service = ServiceDefinition(
    name="dispatch",
    title="Dispatch",
    description="Work orders, technicians, appointments, assignment and service-level escalations.",
    metadata=metadata,
    tables=tables,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    routers=routers,
    handlers=handlers,
    timers=timers,
    settings=[dispatch_settings],
)
