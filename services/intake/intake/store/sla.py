"""All SQL of SLA clocks: one row per target of a ticket, their durable timer, the policy settings row,
and the clock facts the compliance report counts."""

from __future__ import annotations

import time as monotonic_time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from intake.domain.contact_points import ServiceTier
from intake.domain.sla import ClockFact, ClockState, SlaClock, TicketSla
from intake.domain.sla_policy import (
    ClockKind,
    PolicyKey,
    SlaPolicyBook,
    SlaRule,
    SlaTarget,
    TimeBasis,
    default_policy_book,
)
from intake.domain.ticket_values import Channel, Priority, TicketType
from intake.tables.tickets import sla_clocks, sla_settings
from kit import scheduler
from kit.calendar import BusinessCalendar
from kit.db import Database, UnitOfWork
from kit.domain import Conflict

TIMER_KIND = "intake.sla_clock"
SETTINGS_ROW = 1


# --- clocks ------------------------------------------------------------------------------------------


def _clock_rows(sla: TicketSla, now: datetime) -> list[dict[str, Any]]:
    key = sla.key
    return [
        {
            "ticket_id": sla.ticket_id,
            "kind": kind.value,
            "channel": key.channel.value,
            "type": key.type.value,
            "priority": key.priority.value,
            "tier": key.tier.value if key.tier else None,
            "owner_id": sla.owner_id,
            "state": clock.state.value,
            "started_at": clock.started_at,
            "due_at": clock.due_at,
            "stopped_at": clock.stopped_at,
            "at_risk_at": clock.at_risk_at,
            "running_since": clock.running_since,
            "consumed_seconds": clock.consumed.total_seconds(),
            "target_seconds": clock.target.duration.total_seconds(),
            "basis": clock.target.basis.value,
            "pauses": clock.target.pauses_while_waiting_customer,
            "warned": clock.warned,
            "breach_reported": clock.breach_reported,
            "breached": clock.is_breached(now, sla.calendar),
        }
        for kind, clock in sla.clocks.items()
    ]


async def add_clocks(uow: UnitOfWork, sla: TicketSla) -> None:
    rows = _clock_rows(sla, uow.now())
    if rows:
        uow.insert(sla_clocks, rows)
    await sync_timer(uow, sla, replace=False)


async def save_clocks(uow: UnitOfWork, sla: TicketSla) -> None:
    await uow.conn.execute(delete(sla_clocks).where(sla_clocks.c.ticket_id == sla.ticket_id))
    rows = _clock_rows(sla, uow.now())
    if rows:
        await uow.conn.execute(sla_clocks.insert(), rows)
    await sync_timer(uow, sla)


async def load_clocks(uow: UnitOfWork, ticket_id: str, settings: SlaSettings) -> TicketSla | None:
    """The ticket's clocks, counted on today's calendar; None for a ticket without SLA rows."""
    query = select(sla_clocks).where(sla_clocks.c.ticket_id == ticket_id)
    rows = (await uow.conn.execute(query)).mappings().all()
    if not rows:
        return None
    first = rows[0]
    sla = TicketSla(
        ticket_id=ticket_id,
        key=PolicyKey(
            Channel(first["channel"]),
            TicketType(first["type"]),
            Priority(first["priority"]),
            ServiceTier(first["tier"]) if first["tier"] else None,
        ),
        calendar=settings.calendar,
        at_risk_ratio=settings.book.at_risk_ratio,
        escalate_to=settings.book.escalate_to,
        owner_id=first["owner_id"],
    )
    for row in rows:
        kind = ClockKind(row["kind"])
        sla.clocks[kind] = SlaClock(
            kind=kind,
            target=SlaTarget(
                timedelta(seconds=row["target_seconds"]), TimeBasis(row["basis"]), bool(row["pauses"])
            ),
            started_at=row["started_at"],
            due_at=row["due_at"],
            state=ClockState(row["state"]),
            consumed=timedelta(seconds=row["consumed_seconds"]),
            running_since=row["running_since"],
            stopped_at=row["stopped_at"],
            at_risk_at=row["at_risk_at"],
            warned=bool(row["warned"]),
            breach_reported=bool(row["breach_reported"]),
        )
    return sla


async def sync_timer(uow: UnitOfWork, sla: TicketSla, *, replace: bool = True) -> None:
    """One durable timer per ticket, due when its next SLA timer is; none when no clock runs.

    A timer never falls due in the past: one that a clock would fire again at once waits a second.
    """
    wanted = sla.timers()
    if not wanted:
        if replace:
            await scheduler.cancel(uow, kind=TIMER_KIND, key=sla.ticket_id)
        return
    due = max(wanted[0].due_at, uow.now() + timedelta(seconds=1)) if replace else wanted[0].due_at
    await scheduler.schedule(
        uow,
        kind=TIMER_KIND,
        key=sla.ticket_id,
        due_at=due,
        payload={"ticket_id": sla.ticket_id},
        replace=replace,
    )


async def clock_facts(
    uow: UnitOfWork, *, started_from: datetime, started_until: datetime, at: datetime
) -> list[ClockFact]:
    """The clocks started in ``[started_from, started_until)``, breaches judged as of ``at``."""
    c = sla_clocks.c
    query = select(sla_clocks).where(c.started_at >= started_from, c.started_at < started_until)
    facts = []
    for row in (await uow.conn.execute(query)).mappings():
        state = ClockState(row["state"])
        due_at = row["due_at"]
        facts.append(
            ClockFact(
                ticket_id=row["ticket_id"],
                kind=ClockKind(row["kind"]),
                channel=Channel(row["channel"]),
                type=TicketType(row["type"]),
                priority=Priority(row["priority"]),
                tier=ServiceTier(row["tier"]) if row["tier"] else None,
                agent_id=row["owner_id"],
                started_at=row["started_at"],
                due_at=due_at,
                state=state,
                stopped_at=row["stopped_at"],
                breached=bool(row["breached"]) or (state is ClockState.RUNNING and due_at <= at),
            )
        )
    return facts


# --- the policy book and the calendar ----------------------------------------------------------------


@dataclass(frozen=True)
class SlaSettings:
    """The SLA policy book and the business calendar in force, with the version that is the ETag."""

    book: SlaPolicyBook
    calendar: BusinessCalendar
    version: int = 0
    updated_at: datetime | None = None
    updated_by: str | None = None


def default_calendar() -> BusinessCalendar:
    """Until a supervisor sets one: the desk is staffed around the clock (working time = elapsed)."""
    return BusinessCalendar.always_open()


DEFAULT_SETTINGS = SlaSettings(default_policy_book(), default_calendar())


#: How long a process reuses the SLA settings it read when opening tickets. A change made through this
#: process applies at once; one made through another API process reaches this one within this time.
SETTINGS_CACHE_SECONDS = 5.0
_settings_cache: weakref.WeakKeyDictionary[Database, tuple[float, SlaSettings]] = weakref.WeakKeyDictionary()


async def cached_settings(uow: UnitOfWork) -> SlaSettings:
    """The settings for opening a ticket, read at most every ``SETTINGS_CACHE_SECONDS`` per database (a
    ticket opened meanwhile uses the policy in force a moment ago; the SLA report shows which)."""
    cached = _settings_cache.get(uow.db)
    now = monotonic_time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    settings = await load_settings(uow)
    _settings_cache[uow.db] = (now + SETTINGS_CACHE_SECONDS, settings)
    return settings


async def load_settings(uow: UnitOfWork) -> SlaSettings:
    row = (
        (await uow.conn.execute(select(sla_settings).where(sla_settings.c.id == SETTINGS_ROW)))
        .mappings()
        .first()
    )
    if row is None:
        return DEFAULT_SETTINGS
    return SlaSettings(
        book=SlaPolicyBook(
            tuple(rule_of(r) for r in row["rules"]),
            at_risk_ratio=row["at_risk_ratio"],
            escalate_to=row["escalate_to"],
        ),
        calendar=calendar_of(row["calendar"]),
        version=row["version"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


async def save_settings(
    uow: UnitOfWork, *, book: SlaPolicyBook, calendar: BusinessCalendar, stored_version: int, by: str
) -> int:
    """Store new settings if nobody changed them since ``stored_version`` (0: the defaults)."""
    _settings_cache.pop(uow.db, None)
    values = {
        "rules": [rule_json(rule) for rule in book.rules],
        "at_risk_ratio": book.at_risk_ratio,
        "escalate_to": book.escalate_to,
        "calendar": calendar_json(calendar),
        "updated_at": uow.now(),
        "updated_by": by,
        "version": stored_version + 1,
    }
    if stored_version == 0:
        exists = await uow.conn.execute(select(sla_settings.c.id).where(sla_settings.c.id == SETTINGS_ROW))
        if exists.first() is not None:
            raise Conflict("the SLA settings were changed concurrently", code="concurrent-update")
        await uow.conn.execute(sla_settings.insert().values(id=SETTINGS_ROW, **values))
        return 1
    done = await uow.conn.execute(
        update(sla_settings)
        .where(sla_settings.c.id == SETTINGS_ROW, sla_settings.c.version == stored_version)
        .values(**values)
    )
    if done.rowcount != 1:
        raise Conflict("the SLA settings were changed concurrently", code="concurrent-update")
    return stored_version + 1


def rule_json(rule: SlaRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "channel": rule.channel.value if rule.channel else None,
        "type": rule.type.value if rule.type else None,
        "priority": rule.priority.value if rule.priority else None,
        "tier": rule.tier.value if rule.tier else None,
        "targets": {
            kind.value: {
                "seconds": target.duration.total_seconds(),
                "basis": target.basis.value,
                "pauses_while_waiting_customer": target.pauses_while_waiting_customer,
            }
            for kind, target in rule.targets.items()
        },
    }


def rule_of(data: Mapping[str, Any]) -> SlaRule:
    return SlaRule(
        name=str(data["name"]),
        targets={
            ClockKind(kind): SlaTarget(
                timedelta(seconds=float(t["seconds"])),
                TimeBasis(t["basis"]),
                bool(t.get("pauses_while_waiting_customer", True)),
            )
            for kind, t in data["targets"].items()
        },
        channel=Channel(data["channel"]) if data.get("channel") else None,
        type=TicketType(data["type"]) if data.get("type") else None,
        priority=Priority(data["priority"]) if data.get("priority") else None,
        tier=ServiceTier(data["tier"]) if data.get("tier") else None,
    )


def calendar_json(calendar: BusinessCalendar) -> dict[str, Any]:
    return calendar.to_json()


def calendar_of(data: Mapping[str, Any]) -> BusinessCalendar:
    return BusinessCalendar.from_json(data)
