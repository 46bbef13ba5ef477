"""The service network: headquarters, regional centres and authorised service points, the regions they
cover with their A/B/C grade, and the service levels each grade promises (configuration, not code)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType

from dispatch.domain.calendar import ALWAYS_OPEN, WorkingCalendar
from dispatch.domain.values import GeoPoint
from kit.domain import DomainError, NotFound


class RegionGrade(StrEnum):
    A = "A"
    B = "B"
    C = "C"


class CentreKind(StrEnum):
    HEADQUARTERS = "headquarters"
    REGIONAL_CENTRE = "regional_centre"
    SERVICE_POINT = "service_point"


@dataclass(frozen=True)
class ServiceCentre:
    """A place technicians work from. An authorised service point is run by a dealer (``dealer_id``)."""

    id: str
    name: str
    kind: CentreKind
    region_ids: frozenset[str]
    location: GeoPoint | None = None
    dealer_id: str | None = None
    warehouse_location_id: str | None = None
    calendar: WorkingCalendar = ALWAYS_OPEN

    def __post_init__(self) -> None:
        if self.kind is CentreKind.SERVICE_POINT and not self.dealer_id:
            raise DomainError(
                "an authorised service point belongs to a dealer", code="service-point-without-dealer"
            )
        if self.kind is not CentreKind.SERVICE_POINT and self.dealer_id:
            raise DomainError(f"a {self.kind.value} is not run by a dealer", code="dealer-on-own-centre")

    @property
    def is_dealer(self) -> bool:
        return self.kind is CentreKind.SERVICE_POINT


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    grade: RegionGrade
    centre_id: str
    timezone: str = "UTC"


class FixClockStart(StrEnum):
    """Where the 'fixed within' clock starts: on arrival on site, or when the work order was opened."""

    ARRIVAL = "arrival"
    OPENING = "opening"


@dataclass(frozen=True)
class GradeServiceLevels:
    """What one region grade promises. ``premium`` grades fix within the premium time and get a loaner."""

    on_site_within: timedelta
    premium: bool = False


@dataclass(frozen=True)
class ServiceLevelPolicy:
    """Every service-level number dispatch measures, with the business defaults.

    ``count_working_time_only`` makes every duration run on the responsible centre's business calendar
    instead of the wall clock (premium grades usually keep the wall clock: pass an always-open calendar).
    """

    grades: Mapping[RegionGrade, GradeServiceLevels] = field(
        default_factory=lambda: MappingProxyType(
            {
                RegionGrade.A: GradeServiceLevels(on_site_within=timedelta(hours=2), premium=True),
                RegionGrade.B: GradeServiceLevels(on_site_within=timedelta(hours=24)),
                RegionGrade.C: GradeServiceLevels(on_site_within=timedelta(hours=24)),
            }
        )
    )
    arrange_priority_within: timedelta = timedelta(minutes=30)
    arrange_normal_within: timedelta = timedelta(hours=2)
    dealer_arranges_within: timedelta = timedelta(hours=2)
    supervisor_check_after: timedelta = timedelta(hours=4)
    remote_support_escalates_after: timedelta = timedelta(hours=4)
    premium_fix_within: timedelta = timedelta(hours=4)
    premium_fix_clock: FixClockStart = FixClockStart.ARRIVAL
    standard_fix_within: timedelta = timedelta(hours=48)
    standard_fix_clock: FixClockStart = FixClockStart.OPENING
    on_site_at_risk_margin: timedelta = timedelta(minutes=30)
    count_working_time_only: bool = False

    def __post_init__(self) -> None:
        missing = set(RegionGrade) - set(self.grades)
        if missing:
            raise DomainError(
                f"service levels missing for grade(s) {', '.join(sorted(missing))}",
                code="incomplete-service-levels",
            )

    def for_grade(self, grade: RegionGrade) -> GradeServiceLevels:
        return self.grades[grade]


DEFAULT_SERVICE_LEVELS = ServiceLevelPolicy()


def counted_on(
    calendar: WorkingCalendar | None, policy: ServiceLevelPolicy = DEFAULT_SERVICE_LEVELS
) -> tuple[ServiceLevelPolicy, WorkingCalendar]:
    """The policy and calendar of a work order whose responsible centre keeps ``calendar``.

    A centre with its own business calendar counts every service-level duration in its working time:
    nights, weekends and holidays it is closed do not count (a round-the-clock centre keeps a calendar
    open all day every day). A centre without one counts on the wall clock, as ``policy`` says.
    """
    if calendar is None:
        return policy, ALWAYS_OPEN
    return replace(policy, count_working_time_only=True), calendar


@dataclass(frozen=True)
class ServiceNetwork:
    """The centres and regions, with the lookups dispatch needs."""

    centres: Mapping[str, ServiceCentre]
    regions: Mapping[str, Region]

    @classmethod
    def of(cls, centres: Iterable[ServiceCentre], regions: Iterable[Region]) -> ServiceNetwork:
        network = cls(
            MappingProxyType({c.id: c for c in centres}),
            MappingProxyType({r.id: r for r in regions}),
        )
        for region in network.regions.values():
            if region.centre_id not in network.centres:
                raise DomainError(
                    f"region {region.id} names unknown centre {region.centre_id}", code="unknown-centre"
                )
        return network

    def region(self, region_id: str) -> Region:
        try:
            return self.regions[region_id]
        except KeyError:
            raise NotFound(f"region {region_id} not found") from None

    def centre(self, centre_id: str) -> ServiceCentre:
        try:
            return self.centres[centre_id]
        except KeyError:
            raise NotFound(f"service centre {centre_id} not found") from None

    def responsible_centre(self, region_id: str) -> ServiceCentre:
        return self.centre(self.region(region_id).centre_id)

    def centres_covering(self, region_id: str) -> list[ServiceCentre]:
        """Every centre that serves the region, the responsible one first, then by id."""
        responsible = self.region(region_id).centre_id
        covering = [c for c in self.centres.values() if region_id in c.region_ids or c.id == responsible]
        return sorted(covering, key=lambda c: (c.id != responsible, c.id))
