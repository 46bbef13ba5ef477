"""Whether a technician is fit for a job: the checks instant assignment and a dispatcher's own choice of
technician share, in the words the dispatcher reads."""

from __future__ import annotations

from datetime import date

from dispatch.domain.assignment.model import Job
from dispatch.domain.technicians import Technician


def doing(technician: Technician) -> str:
    """What the technician is doing, since when: ``technician is off duty since 2026-03-10 07:00 UTC``."""
    since = f" since {technician.status_since:%Y-%m-%d %H:%M} UTC" if technician.status_since else ""
    return f"technician is {technician.status.value.replace('_', ' ')}{since}"


def status_problems(technician: Technician) -> tuple[str, ...]:
    """What keeps the technician from a job now: deactivated, or off duty (done for the day)."""
    if not technician.assignable:
        return ("technician is inactive",)
    if technician.off_duty:
        return (doing(technician),)
    return ()


def qualification_problems(job: Job, technician: Technician, *, on: date) -> tuple[str, ...]:
    """Why the technician is not qualified for ``job`` on the day ``on`` (their local date): a skill it
    needs, its region (unless the job is locked to them), a certification for its product line valid that
    day."""
    problems = []
    missing = technician.missing_skills(job.required_skills)
    if missing:
        problems.append(f"lacks skill(s) {', '.join(sorted(map(str, missing)))}")
    if not technician.covers_region(job.region_id) and job.locked_technician_id != technician.id:
        problems.append(f"does not cover region {job.region_id}")
    if job.required_certifications:
        lacking = technician.missing_certifications(job.required_certifications, job.product_line, on)
        if lacking:
            problems.append(
                f"lacks valid certification(s) {', '.join(sorted(lacking))} for {job.product_line}"
            )
    return tuple(problems)
