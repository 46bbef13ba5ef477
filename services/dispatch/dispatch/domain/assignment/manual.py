"""A dispatcher's own choice of technician ("dispatchers can override, lock, and re-run"): checked against
the rules the planner keeps, so that an override is an informed one and stays on the record.

An inactive technician is refused outright. Anything else that speaks against the choice (off duty or on
a break on the day of the visit, a skill, the region, a certification valid on the day, an absence that
day) refuses it with every problem listed, unless the dispatcher overrides: then the job is assigned and
the problems become the assignment's reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dispatch.domain.assignment.fitness import doing, qualification_problems
from dispatch.domain.assignment.model import Job
from dispatch.domain.technicians import Technician, TechnicianStatus
from dispatch.domain.values import Actor, TimeWindow
from kit.domain import Conflict

# what the technician is doing now matters for a visit on the same (local) day only
_TODAYS_STATUS = frozenset({TechnicianStatus.OFF_DUTY, TechnicianStatus.ON_BREAK})


def choice_problems(job: Job, technician: Technician, visit: TimeWindow, *, now: datetime) -> tuple[str, ...]:
    """What speaks against ``technician`` taking ``job`` for ``visit``, as of ``now`` (an inactive
    technician aside: see :func:`reasons_for_choice`)."""
    day = technician.local_date(visit.start)
    problems = []
    if technician.status in _TODAYS_STATUS and day == technician.local_date(now):
        problems.append(doing(technician))
    problems.extend(qualification_problems(job, technician, on=day))
    absence = technician.absent_during(visit)
    if absence is not None:
        problems.append(f"absent ({absence.reason}) during the visit")
    else:
        absence = technician.absent_during(technician.local_day(day))
        if absence is not None:
            problems.append(f"absent ({absence.reason}) on {day}, the day of the visit")
    return tuple(problems)


def reasons_for_choice(
    job: Job,
    technician: Technician,
    visit: TimeWindow,
    *,
    now: datetime,
    actor: Actor,
    given: Sequence[str] = (),
    override: bool = False,
) -> tuple[str, ...]:
    """The reasons to record when ``actor`` gives ``job`` to ``technician`` for ``visit``: when overriding,
    each problem the choice has (``assigned by dispatcher despite: ...``), then the ones ``given``
    (default: chosen by the actor).

    Refused (409) for an inactive technician whatever ``override`` says, and for any other problem unless
    ``override``."""
    if not technician.assignable:
        raise Conflict(
            f"technician {technician.id} is inactive: reactivate them before giving them a job",
            code="technician-inactive",
            technician_id=technician.id,
        )
    problems = choice_problems(job, technician, visit, now=now)
    if problems and not override:
        raise Conflict(
            f"technician {technician.id} for job {job.id}: {'; '.join(problems)} "
            "(send override: true to assign anyway)",
            code="assignment-needs-override",
            technician_id=technician.id,
            problems=list(problems),
        )
    # one reason per problem, first: the assigned event carries 20 reasons of 300 characters at most
    overridden = tuple(f"assigned by {actor.role.value} despite: {problem}" for problem in problems)
    return (*overridden, *(tuple(given) or (f"chosen by the {actor.role.value}",)))
