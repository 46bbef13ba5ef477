"""What every intake aggregate shares: who acted, the events it raised, and UTC instants."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from kit.domain import DomainError

SUPERVISOR_ROLES = frozenset({"supervisor", "admin"})


class ActorKind(StrEnum):
    USER = "user"
    SYSTEM = "system"
    PARTNER = "partner"
    CUSTOMER = "customer"


@dataclass(frozen=True)
class Actor:
    """Who did something: a signed-in user (with roles), the system, a partner or the customer."""

    kind: ActorKind
    id: str
    roles: frozenset[str] = frozenset()
    name: str | None = None

    @classmethod
    def user(cls, user_id: str, *roles: str, name: str | None = None) -> Actor:
        return cls(ActorKind.USER, user_id, frozenset(roles or ("agent",)), name)

    @classmethod
    def system(cls, component: str = "intake") -> Actor:
        return cls(ActorKind.SYSTEM, component)

    @classmethod
    def customer(cls, customer_id: str) -> Actor:
        return cls(ActorKind.CUSTOMER, customer_id)

    @classmethod
    def partner(cls, partner_id: str) -> Actor:
        return cls(ActorKind.PARTNER, partner_id)

    @property
    def is_person(self) -> bool:
        """A member of staff, who can own a ticket (the system, partners and customers cannot)."""
        return self.kind is ActorKind.USER

    @property
    def is_supervisor(self) -> bool:
        return self.is_person and bool(self.roles & SUPERVISOR_ROLES)

    @property
    def ref(self) -> str:
        """A stable one-string reference for timelines and audit rows, e.g. ``user:u-17``."""
        return f"{self.kind.value}:{self.id}"


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something that happened to an aggregate; the store drains these into the outbox."""

    at: datetime


@dataclass(kw_only=True)
class Aggregate:
    """An entity that is loaded and saved whole, counts its versions and collects its events."""

    version: int = 1
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    def _record(self, event: DomainEvent) -> None:
        self.events.append(event)

    def _bump(self) -> None:
        self.version += 1

    def pull_events(self) -> list[DomainEvent]:
        """Hand over the events raised since the last call, and forget them."""
        drained, self.events = self.events, []
        return drained


def utc(at: datetime, name: str = "time") -> datetime:
    """``at`` as a UTC instant; a naive datetime is a programming error in the caller."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise DomainError(f"{name} must be timezone-aware", code="naive-datetime")
    return at.astimezone(UTC)


def require_text(value: str, name: str, *, max_length: int) -> str:
    """``value`` stripped; refused when empty or longer than ``max_length``."""
    text = value.strip()
    if not text:
        raise DomainError(f"{name} must not be empty", code="missing-field", field=name)
    if len(text) > max_length:
        raise DomainError(f"{name} is longer than {max_length} characters", code="too-long", field=name)
    return text
