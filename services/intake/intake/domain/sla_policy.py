"""Which service-level targets a ticket gets: rules by channel, type, priority and customer tier.

For each target the most specific matching rule that sets it wins. Dimensions rank type, then tier,
then priority, then channel: a rule naming the ticket type beats every rule that does not; among
those, naming the tier wins; and so on. Each target counts calendar time or working time on a
business calendar. The defaults are DESIGN.md §1's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from intake.domain.contact_points import ServiceTier
from intake.domain.ticket_values import Channel, Priority, TicketType
from intake.domain.tickets import Ticket
from kit.calendar import BusinessCalendar
from kit.domain import DomainError


class ClockKind(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    FIRST_RESPONSE = "first_response"
    TECHNICIAN_CONTACT = "technician_contact"
    RESOLVE = "resolve"
    SUPERVISOR_REVIEW = "supervisor_review"


class TimeBasis(StrEnum):
    CALENDAR = "calendar"
    WORKING = "working"


@dataclass(frozen=True)
class SlaTarget:
    """How long a target allows, counted in calendar or working time."""

    duration: timedelta
    basis: TimeBasis = TimeBasis.CALENDAR
    pauses_while_waiting_customer: bool = True

    def __post_init__(self) -> None:
        if self.duration < timedelta(0):
            raise DomainError("an SLA target cannot be negative", code="bad-sla-target")

    def add(self, start: datetime, amount: timedelta, calendar: BusinessCalendar) -> datetime:
        if self.basis is TimeBasis.WORKING:
            return calendar.add_working_time(start, amount)
        return start + amount

    def measure(self, start: datetime, end: datetime, calendar: BusinessCalendar) -> timedelta:
        if self.basis is TimeBasis.WORKING:
            return calendar.working_time_between(start, end)
        return max(end - start, timedelta(0))


def minutes(value: int, basis: TimeBasis = TimeBasis.WORKING) -> SlaTarget:
    return SlaTarget(timedelta(minutes=value), basis)


def hours(value: int, basis: TimeBasis = TimeBasis.CALENDAR, *, pauses: bool = True) -> SlaTarget:
    return SlaTarget(timedelta(hours=value), basis, pauses)


# --- policies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyKey:
    """The facts of a ticket that choose its targets."""

    channel: Channel
    type: TicketType
    priority: Priority
    tier: ServiceTier | None = None

    @classmethod
    def of(cls, ticket: Ticket) -> PolicyKey:
        return cls(ticket.channel, ticket.type, ticket.priority, ticket.customer_tier)


@dataclass(frozen=True)
class SlaRule:
    """Targets for the tickets this rule names; a dimension left as None matches anything."""

    name: str
    targets: Mapping[ClockKind, SlaTarget]
    channel: Channel | None = None
    type: TicketType | None = None
    priority: Priority | None = None
    tier: ServiceTier | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", MappingProxyType(dict(self.targets)))

    @property
    def dimensions(self) -> tuple[object, ...]:
        return (self.type, self.tier, self.priority, self.channel)

    @property
    def specificity(self) -> int:
        """Type counts 8, tier 4, priority 2, channel 1, so rules rank by their most important dimension."""
        return sum(
            weight for weight, value in zip((8, 4, 2, 1), self.dimensions, strict=True) if value is not None
        )

    def matches(self, key: PolicyKey) -> bool:
        return (
            self.channel in (None, key.channel)
            and self.type in (None, key.type)
            and self.priority in (None, key.priority)
            and self.tier in (None, key.tier)
        )


@dataclass(frozen=True)
class SlaPolicy:
    """The targets chosen for one ticket, with the rule each came from (for "why this due time")."""

    targets: Mapping[ClockKind, SlaTarget]
    rule_names: Mapping[ClockKind, str]


@dataclass(frozen=True)
class SlaPolicyBook:
    """All SLA rules, the "about to breach" threshold, and who a breach escalates to."""

    rules: tuple[SlaRule, ...]
    at_risk_ratio: float = 0.8
    escalate_to: str = "supervisor"

    def __post_init__(self) -> None:
        if not 0 < self.at_risk_ratio < 1:
            raise DomainError("the at-risk threshold is a fraction between 0 and 1", code="bad-sla-policy")
        seen: dict[tuple[object, ...], str] = {}
        for rule in self.rules:
            if rule.dimensions in seen:
                raise DomainError(
                    f"SLA rules {seen[rule.dimensions]!r} and {rule.name!r} name the same tickets",
                    code="bad-sla-policy",
                )
            seen[rule.dimensions] = rule.name

    def policy_for(self, key: PolicyKey) -> SlaPolicy:
        """Per target, the most specific rule that matches ``key`` and sets that target."""
        targets: dict[ClockKind, SlaTarget] = {}
        names: dict[ClockKind, str] = {}
        ranks: dict[ClockKind, int] = {}
        for rule in self.rules:
            if not rule.matches(key):
                continue
            for kind, target in rule.targets.items():
                if rule.specificity > ranks.get(kind, -1):
                    targets[kind], names[kind], ranks[kind] = target, rule.name, rule.specificity
        return SlaPolicy(MappingProxyType(targets), MappingProxyType(names))


K = ClockKind
WORKING = TimeBasis.WORKING
CALENDAR = TimeBasis.CALENDAR

# DESIGN.md §1 service levels. Responses count working time (nobody is on the desk at 3 am unless the
# calendar says so); resolutions and complaints count calendar time, as promised to the customer.
DEFAULT_RULES: tuple[SlaRule, ...] = (
    SlaRule(
        "first response within 10 minutes; resolved within 48 hours",
        {K.ACKNOWLEDGE: minutes(10), K.FIRST_RESPONSE: minutes(10), K.RESOLVE: hours(48)},
    ),
    SlaRule("email picked up within 10 minutes", {K.ACKNOWLEDGE: minutes(10)}, channel=Channel.EMAIL),
    SlaRule("fax acknowledged within 5 minutes", {K.ACKNOWLEDGE: minutes(5)}, channel=Channel.FAX),
    SlaRule(
        "technician contacts the customer within 5 minutes of a hotline ticket",
        {K.TECHNICIAN_CONTACT: minutes(5)},
        channel=Channel.PHONE,
    ),
    SlaRule("premium: on site in 2 hours, fixed within 4 on site", {K.RESOLVE: hours(6)}, tier=ServiceTier.A),
    SlaRule(
        "complaint: answered in 24 hours, supervisor after 2 days, resolved within a month",
        {
            K.FIRST_RESPONSE: hours(24),
            K.SUPERVISOR_REVIEW: hours(48, pauses=False),
            K.RESOLVE: SlaTarget(timedelta(days=30)),
        },
        type=TicketType.COMPLAINT,
    ),
)


def default_policy_book() -> SlaPolicyBook:
    return SlaPolicyBook(DEFAULT_RULES)


def describe_duration(target: SlaTarget) -> str:
    """``2 days``, ``10 working minutes``: a target as a person would say it."""
    seconds = int(target.duration.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if (seconds >= size and seconds % size == 0) or size == 1:
            count = seconds // size
            working = "working " if target.basis is TimeBasis.WORKING else ""
            return f"{count} {working}{unit}{'' if count == 1 else 's'}"
    raise AssertionError("unreachable")
