"""Small value objects every part of the dispatch domain speaks in: who acted, where, when, what skill."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from kit.domain import DomainError

EARTH_RADIUS_KM = 6371.0088


def ensure_utc(at: datetime, what: str = "time") -> datetime:
    """``at`` as a UTC datetime; a naive datetime is refused rather than guessed."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise DomainError(f"{what} must be timezone-aware", code="naive-datetime")
    return at.astimezone(UTC)


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    DEALER = "dealer"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who did something: a person (by id and role) or the system itself (timers, optimiser)."""

    id: str
    role: Role

    @classmethod
    def system(cls, name: str = "dispatch") -> Actor:
        return cls(name, Role.SYSTEM)


@dataclass(frozen=True)
class GeoPoint:
    """A WGS-84 position in decimal degrees."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0) or not (-180.0 <= self.lon <= 180.0):
            raise DomainError(f"({self.lat}, {self.lon}) is not a position on Earth", code="bad-coordinates")

    def distance_km(self, other: GeoPoint) -> float:
        """Great-circle (haversine) distance."""
        p1, p2 = math.radians(self.lat), math.radians(other.lat)
        dp, dl = p2 - p1, math.radians(other.lon - self.lon)
        h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class TravelModel:
    """Road travel estimated from coordinates: great-circle distance stretched by a road factor, driven at
    an average speed. Minutes are rounded up so that a plan never promises an arrival it cannot make."""

    road_factor: float = 1.3
    average_speed_kmh: float = 50.0

    def __post_init__(self) -> None:
        if self.road_factor < 1.0 or self.average_speed_kmh <= 0:
            raise DomainError("road factor must be >= 1 and average speed > 0", code="bad-travel-model")

    def road_km(self, origin: GeoPoint, destination: GeoPoint) -> float:
        return origin.distance_km(destination) * self.road_factor

    def minutes_for_km(self, road_km: float) -> int:
        return math.ceil(road_km / self.average_speed_kmh * 60.0 - 1e-9)

    def minutes(self, origin: GeoPoint, destination: GeoPoint) -> int:
        return self.minutes_for_km(self.road_km(origin, destination))


@dataclass(frozen=True, order=True)
class TimeWindow:
    """A half-open interval ``[start, end)`` of UTC time."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", ensure_utc(self.start, "window start"))
        object.__setattr__(self, "end", ensure_utc(self.end, "window end"))
        if self.end <= self.start:
            raise DomainError("a time window must end after it starts", code="bad-time-window")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def covers(self, start: datetime, end: datetime) -> bool:
        return self.start <= start and end <= self.end

    def overlaps(self, other: TimeWindow) -> bool:
        return self.start < other.end and other.start < self.end


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def is_priority(self) -> bool:
        """High and urgent requests are arranged on the priority service level."""
        return self in (Priority.HIGH, Priority.URGENT)


class WorkOrderType(StrEnum):
    INSTALLATION = "installation"
    REPAIR = "repair"
    PREVENTIVE_MAINTENANCE = "preventive_maintenance"
    INSPECTION = "inspection"
    REMOTE_SUPPORT = "remote_support"

    @property
    def capability(self) -> Capability:
        return _CAPABILITY_OF[self]


class Capability(StrEnum):
    """What a technician can do to a product line; each work order type needs one."""

    INSTALLATION = "installation"
    REPAIR = "repair"
    MAINTENANCE = "maintenance"
    INSPECTION = "inspection"
    REMOTE_SUPPORT = "remote_support"


@dataclass(frozen=True, order=True)
class Skill:
    """A capability on one product line, e.g. repair of air conditioners."""

    product_line: str
    capability: Capability

    def __str__(self) -> str:
        return f"{self.capability.value}:{self.product_line}"

    @classmethod
    def parse(cls, text: str) -> Skill:
        """``repair:water_heater`` -> ``Skill("water_heater", Capability.REPAIR)``; an unknown capability
        raises ``ValueError``."""
        capability, _, product_line = text.partition(":")
        return cls(product_line, Capability(capability))


@dataclass(frozen=True, order=True)
class PartNeed:
    """A spare part a job is expected to use."""

    part_number: str
    quantity: int = 1

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise DomainError("a needed part has a quantity of at least 1", code="bad-quantity")


_CAPABILITY_OF = {
    WorkOrderType.INSTALLATION: Capability.INSTALLATION,
    WorkOrderType.REPAIR: Capability.REPAIR,
    WorkOrderType.PREVENTIVE_MAINTENANCE: Capability.MAINTENANCE,
    WorkOrderType.INSPECTION: Capability.INSPECTION,
    WorkOrderType.REMOTE_SUPPORT: Capability.REMOTE_SUPPORT,
}
