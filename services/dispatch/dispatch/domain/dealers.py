"""Handing a job to an authorised service point (a dealer) when the company's own technicians cannot make
its deadline. The service point must accept and arrange it within 2 hours of receiving it
(``ServiceLevelPolicy.dealer_arranges_within``), or the job comes back to the dispatcher with an escalation
(``escalation.TimerKind.DEALER_ACCEPT_DUE``)."""

from __future__ import annotations

from collections.abc import Iterable

from dispatch.domain.assignment import InstantAssignment
from dispatch.domain.network import ServiceCentre
from dispatch.domain.values import GeoPoint
from kit.domain import DomainError


def own_technician_in_time(choice: InstantAssignment) -> str | None:
    """The company technician (not a dealer's) who can be on site by the deadline, if any: the best one
    when it is in time, else the cheapest of the runners-up who is."""
    for candidate in (choice.best, *choice.runners_up):
        if candidate is not None and (candidate.slack_minutes is None or candidate.slack_minutes >= 0):
            return candidate.technician_id
    return None


def service_point_for(
    region_id: str,
    centres: Iterable[ServiceCentre],
    *,
    site: GeoPoint | None = None,
    responsible_centre_id: str | None = None,
    chosen: str | None = None,
) -> ServiceCentre:
    """The authorised service point that covers ``region_id`` (the one ``chosen`` by the dispatcher, which
    must cover it): the region's responsible centre when it is one, else the nearest to the site."""
    covering = [
        c for c in centres if c.is_dealer and (region_id in c.region_ids or c.id == responsible_centre_id)
    ]
    if chosen is not None:
        match = next((c for c in covering if c.id == chosen), None)
        if match is None:
            raise DomainError(
                f"{chosen} is not an authorised service point covering region {region_id}",
                code="service-point-not-covering",
            )
        return match
    if not covering:
        raise DomainError(
            f"no authorised service point covers region {region_id}", code="no-service-point-covering"
        )

    def rank(c: ServiceCentre) -> tuple[bool, float, str]:
        distance = site.distance_km(c.location) if site is not None and c.location is not None else 0.0
        return (c.id != responsible_centre_id, distance, c.id)

    return min(covering, key=rank)
