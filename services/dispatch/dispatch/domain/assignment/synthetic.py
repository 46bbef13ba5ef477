"""Reproducible planning problems for benchmarks, tests and demonstrations.

A country of graded regions, each around a city; technicians homed near their region's city with a few
product lines each, some covering a neighbouring region, some absent for part of the day; jobs clustered
around the cities with customer availability, on-site deadlines by grade, units installed by a
technician, parts on vans, and a few dispatcher locks and confirmed appointments. Same seed, same problem.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType

from dispatch.domain.assignment.model import Crew, Job, PlanningProblem, Weights
from dispatch.domain.network import DEFAULT_SERVICE_LEVELS, RegionGrade
from dispatch.domain.technicians import Absence, Technician, weekday_shifts
from dispatch.domain.values import Capability, GeoPoint, PartNeed, Priority, Skill, TimeWindow

PRODUCT_LINES = ("air_conditioner", "water_heater", "washing_machine", "refrigerator", "boiler")
_GRADES = (RegionGrade.A, RegionGrade.A, RegionGrade.B, RegionGrade.B, RegionGrade.B) + (RegionGrade.C,) * 5
_CAPABILITIES = (
    (Capability.REPAIR,) * 6
    + (Capability.MAINTENANCE,) * 2
    + (Capability.INSTALLATION, Capability.INSPECTION)
)
_DURATION = {
    Capability.REPAIR: (30, 60),
    Capability.MAINTENANCE: (20, 45),
    Capability.INSTALLATION: (45, 90),
    Capability.INSPECTION: (15, 30),
}


def synthetic_problem(
    *,
    jobs: int = 500,
    technicians: int = 100,
    regions: int = 10,
    seed: int = 7,
    day: date = date(2026, 3, 10),
    weights: Weights | None = None,
) -> PlanningProblem:
    """A one-day backlog of ``jobs`` open jobs for ``technicians`` technicians (all times UTC)."""
    rng = random.Random(seed)
    start_of_day = datetime.combine(day, time(7), UTC)
    horizon = TimeWindow(start_of_day, start_of_day + timedelta(hours=12))
    cities = _cities(rng, regions)
    grades = [_GRADES[i % len(_GRADES)] for i in range(regions)]
    weight = [3.0 if g is RegionGrade.A else 1.5 if g is RegionGrade.B else 1.0 for g in grades]

    job_regions = [_pick_region(rng, weight) for _ in range(jobs)]
    crew_regions = _staffing(job_regions, regions, technicians)
    crews = [_crew(rng, i, region, cities, horizon) for i, region in enumerate(crew_regions)]
    installers: dict[int, list[Technician]] = {}
    for crew in crews:
        installers.setdefault(_home_region(crew.technician), []).append(crew.technician)
    job_list = [
        _job(rng, i, region, cities, grades, installers, horizon) for i, region in enumerate(job_regions)
    ]
    job_list = _lock_some(rng, job_list, crews, horizon)
    return PlanningProblem(horizon, tuple(job_list), tuple(crews), weights or Weights())


def _cities(rng: random.Random, regions: int) -> list[GeoPoint]:
    # spread over roughly 450 km x 450 km, cities at least ~60 km apart
    cities: list[GeoPoint] = []
    while len(cities) < regions:
        candidate = GeoPoint(rng.uniform(44.0, 48.0), rng.uniform(1.0, 7.0))
        if all(candidate.distance_km(c) > 60 for c in cities):
            cities.append(candidate)
    return cities


def _near(rng: random.Random, centre: GeoPoint, sigma_km: float) -> GeoPoint:
    dy, dx = rng.gauss(0, sigma_km), rng.gauss(0, sigma_km)
    return GeoPoint(centre.lat + dy / 111.0, centre.lon + dx / (111.0 * math.cos(math.radians(centre.lat))))


def _pick_region(rng: random.Random, weight: list[float]) -> int:
    return rng.choices(range(len(weight)), weights=weight)[0]


def _staffing(job_regions: list[int], regions: int, technicians: int) -> list[int]:
    """Home regions of the technicians, in proportion to each region's jobs (largest remainder):
    regions are staffed for their demand."""
    counts = [job_regions.count(r) for r in range(regions)]
    total = max(1, sum(counts))
    quotas = [technicians * n / total for n in counts]
    seats = [int(q) for q in quotas]
    by_remainder = sorted(range(regions), key=lambda r: (-(quotas[r] - seats[r]), r))
    for r in by_remainder[: technicians - sum(seats)]:
        seats[r] += 1
    return [r for r in range(regions) for _ in range(seats[r])]


def _home_region(technician: Technician) -> int:
    return int(technician.home_centre_id.removeprefix("centre-"))


def _crew(rng: random.Random, i: int, region: int, cities: list[GeoPoint], horizon: TimeWindow) -> Crew:
    covered = {region}
    nearest = sorted(range(len(cities)), key=lambda r: cities[region].distance_km(cities[r]))[1]
    if rng.random() < 0.5 and cities[region].distance_km(cities[nearest]) < 120:
        covered.add(nearest)
    lines = rng.sample(PRODUCT_LINES, 4)
    capabilities = [Capability.REPAIR, Capability.MAINTENANCE, Capability.INSPECTION]
    if rng.random() < 0.5:
        capabilities.append(Capability.INSTALLATION)
    skills = frozenset(Skill(line, cap) for line in lines for cap in capabilities)
    begin = rng.choice((time(7), time(8), time(8), time(8), time(10)))
    shifts = weekday_shifts(range(7), begin, time(begin.hour + 9))
    absences: tuple[Absence, ...] = ()
    roll = rng.random()
    if roll < 0.03:
        absences = (Absence(horizon, "leave"),)
    elif roll < 0.09:
        half = horizon.start + timedelta(hours=6)
        part = TimeWindow(horizon.start, half) if rng.random() < 0.5 else TimeWindow(half, horizon.end)
        absences = (Absence(part, "appointment"),)
    home = _near(rng, cities[region], 15)
    technician = Technician(
        id=f"tech-{i:03d}",
        name=f"Technician {i}",
        home_centre_id=f"centre-{region}",
        region_ids=frozenset(f"region-{r}" for r in covered),
        skills=skills,
        shifts=shifts,
        absences=absences,
        daily_capacity_minutes=rng.choice((420, 480, 480)),
        home=home,
        van_location_id=f"van-{i:03d}",
    )
    stock = {f"part-{rng.randrange(40):02d}": rng.randint(1, 3) for _ in range(12)}
    return Crew(technician, home, horizon.start, van_stock=MappingProxyType(stock))


def _job(
    rng: random.Random,
    i: int,
    region: int,
    cities: list[GeoPoint],
    grades: list[RegionGrade],
    installers: dict[int, list[Technician]],
    horizon: TimeWindow,
) -> Job:
    grade = grades[region]
    capability = rng.choice(_CAPABILITIES)
    line = rng.choice(PRODUCT_LINES)
    low, high = _DURATION[capability]
    duration = 5 * rng.randint(low // 5, high // 5)
    levels = DEFAULT_SERVICE_LEVELS.for_grade(grade)
    # the backlog of the day: premium jobs came in this morning, the others over the past day
    ago = rng.randint(0, 60) if grade is RegionGrade.A else rng.randint(4 * 60, 22 * 60)
    opened = horizon.start - timedelta(minutes=ago)
    priority = Priority.HIGH if rng.random() < 0.15 else Priority.NORMAL
    roll = rng.random()
    day_start = horizon.start
    windows: tuple[TimeWindow, ...] = ()
    if roll < 0.3:
        windows = (TimeWindow(day_start + timedelta(hours=1), day_start + timedelta(hours=5)),)
    elif roll < 0.6:
        windows = (TimeWindow(day_start + timedelta(hours=6), day_start + timedelta(hours=10)),)
    serial = installer_id = None
    if capability is Capability.REPAIR and rng.random() < 0.35 and installers.get(region):
        installer = rng.choice(installers[region])
        serial = f"SN-{i:05d}"
        installer_id = installer.id
    parts: tuple[PartNeed, ...] = ()
    if capability is Capability.REPAIR and rng.random() < 0.4:
        parts = (PartNeed(f"part-{rng.randrange(40):02d}"),)
    return Job(
        id=f"wo-{i:04d}",
        location=_near(rng, cities[region], 20),
        region_id=f"region-{region}",
        required_skills=frozenset({Skill(line, capability)}),
        duration_minutes=duration,
        product_line=line,
        windows=windows,
        due_at=opened + levels.on_site_within,
        priority=priority,
        premium=levels.premium,
        unit_serial=serial,
        installer_id=installer_id,
        needed_parts=parts,
    )


def _lock_some(rng: random.Random, jobs: list[Job], crews: list[Crew], horizon: TimeWindow) -> list[Job]:
    """Lock about 2% of the jobs to a qualified technician of their region who works the whole day from
    8:00 (so the lock can be kept)."""
    out = []
    for job in jobs:
        if rng.random() < 0.02:
            fit = [
                c
                for c in crews
                if c.technician.home_centre_id == job.region_id.replace("region-", "centre-")
                and not c.technician.missing_skills(job.required_skills)
                and not c.technician.absences
                and c.technician.shifts[horizon.start.weekday()][0].start <= time(8)
            ]
            if fit:
                job = Job(**{**job.__dict__, "locked_technician_id": rng.choice(fit).id})
        out.append(job)
    return out
