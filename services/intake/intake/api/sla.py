"""SLA policy (targets by channel, type, priority and tier), the business calendar, and the
compliance report per channel, agent or period (JSON or CSV)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from intake.api.common import Staff, Supervisor, actor_of
from intake.domain.contact_points import ServiceTier
from intake.domain.sla_policy import ClockKind, SlaPolicyBook, SlaRule, SlaTarget, TimeBasis
from intake.domain.sla_report import ComplianceRow, ReportDimension
from intake.domain.ticket_values import Channel, Priority, TicketType
from intake.operations import sla as ops
from intake.store.sla import SlaSettings
from kit.calendar_api import CalendarDto
from kit.concurrency import IfMatch, etag
from kit.deps import Db

router = APIRouter(tags=["sla"])


class TargetDto(BaseModel):
    minutes: Annotated[float, Field(ge=0, le=60 * 24 * 366)]
    basis: TimeBasis = Field(description="calendar time, or working time on the business calendar")
    pauses_while_waiting_customer: bool = True


class RuleDto(BaseModel):
    """Targets for the tickets the rule names; a dimension left out matches any ticket."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    channel: Channel | None = None
    type: TicketType | None = None
    priority: Priority | None = None
    tier: ServiceTier | None = None
    targets: dict[ClockKind, TargetDto] = Field(min_length=1)

    def domain(self) -> SlaRule:
        return SlaRule(
            name=self.name,
            targets={
                kind: SlaTarget(timedelta(minutes=t.minutes), t.basis, t.pauses_while_waiting_customer)
                for kind, t in self.targets.items()
            },
            channel=self.channel,
            type=self.type,
            priority=self.priority,
            tier=self.tier,
        )

    @classmethod
    def of(cls, rule: SlaRule) -> RuleDto:
        return cls(
            name=rule.name,
            channel=rule.channel,
            type=rule.type,
            priority=rule.priority,
            tier=rule.tier,
            targets={
                kind: TargetDto(
                    minutes=t.duration / timedelta(minutes=1),
                    basis=t.basis,
                    pauses_while_waiting_customer=t.pauses_while_waiting_customer,
                )
                for kind, t in rule.targets.items()
            },
        )


class SlaPolicyIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "at_risk_ratio": 0.8,
                    "escalate_to": "supervisor",
                    "rules": [
                        {
                            "name": "first response within 10 minutes; resolved within 48 hours",
                            "targets": {
                                "acknowledge": {"minutes": 10, "basis": "working"},
                                "first_response": {"minutes": 10, "basis": "working"},
                                "resolve": {"minutes": 2880, "basis": "calendar"},
                            },
                        },
                        {
                            "name": "fax acknowledged within 5 minutes",
                            "channel": "fax",
                            "targets": {"acknowledge": {"minutes": 5, "basis": "working"}},
                        },
                    ],
                    "calendar": {
                        "timezone": "Europe/Berlin",
                        "working_hours": {str(d): {"opens": "08:00", "closes": "18:00"} for d in range(5)},
                        "holidays": ["2026-12-25"],
                    },
                }
            ]
        }
    )

    rules: list[RuleDto] = Field(min_length=1, max_length=500)
    at_risk_ratio: Annotated[float, Field(gt=0, lt=1, description="Warn when this share of a target is used")]
    escalate_to: Annotated[str, Field(min_length=1, max_length=64)] = "supervisor"
    calendar: CalendarDto


class SlaPolicyOut(SlaPolicyIn):
    version: int = Field(description="0 while the built-in defaults (DESIGN §1) are in force")
    updated_at: datetime | None
    updated_by: str | None

    @classmethod
    def of(cls, settings: SlaSettings) -> SlaPolicyOut:
        return cls(
            rules=[RuleDto.of(rule) for rule in settings.book.rules],
            at_risk_ratio=settings.book.at_risk_ratio,
            escalate_to=settings.book.escalate_to,
            calendar=CalendarDto.of(settings.calendar),
            version=settings.version,
            updated_at=settings.updated_at,
            updated_by=settings.updated_by,
        )


@router.get("/sla/policy", summary="The SLA rules and business calendar in force")
async def get_policy(db: Db, principal: Staff, response: Response) -> SlaPolicyOut:
    async with db.transaction() as uow:
        current = await ops.settings(uow)
    response.headers["ETag"] = etag(current.version)
    return SlaPolicyOut.of(current)


@router.put("/sla/policy", summary="Replace the SLA rules and business calendar")
async def put_policy(
    body: SlaPolicyIn, db: Db, principal: Supervisor, response: Response, if_match: IfMatch = None
) -> SlaPolicyOut:
    """For tickets opened from now on; clocks already running keep their targets. For each target the
    most specific matching rule wins (type, then tier, then priority, then channel)."""
    book = SlaPolicyBook(
        tuple(rule.domain() for rule in body.rules),
        at_risk_ratio=body.at_risk_ratio,
        escalate_to=body.escalate_to,
    )
    async with db.transaction() as uow:
        saved = await ops.change_settings(
            uow, book=book, calendar=body.calendar.domain(), actor=actor_of(principal), if_match=if_match
        )
    response.headers["ETag"] = etag(saved.version)
    return SlaPolicyOut.of(saved)


# --- compliance --------------------------------------------------------------------------------------------


class ComplianceRowOut(BaseModel):
    group: dict[ReportDimension, str]
    target: ClockKind
    total: int
    met_on_time: int
    met_late: int
    open_breached: int
    open_on_track: int
    compliance_percent: Decimal | None = Field(description="Met on time over decided; None when none decided")

    @classmethod
    def of(cls, row: ComplianceRow) -> ComplianceRowOut:
        return cls(
            group=dict(row.group),
            target=row.kind,
            total=row.total,
            met_on_time=row.met_on_time,
            met_late=row.met_late,
            open_breached=row.open_breached,
            open_on_track=row.open_on_track,
            compliance_percent=row.compliance_percent,
        )


class ComplianceOut(BaseModel):
    period_start: datetime
    period_end: datetime
    as_of: datetime
    group_by: list[ReportDimension]
    rows: list[ComplianceRowOut]


@router.get(
    "/sla/compliance",
    summary="How many SLA targets were met on time, per channel, agent, type, tier or period",
    response_model=ComplianceOut,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def compliance(
    db: Db,
    principal: Supervisor,
    period_start: datetime,
    period_end: datetime,
    group_by: Annotated[list[ReportDimension] | None, Query(max_length=4)] = None,
    format: Literal["json", "csv"] = "json",
) -> ComplianceOut | Response:
    """A clock counts in the period its ticket opened in; compliance is met-on-time over met on time,
    met late and still open past due. ``format=csv`` answers a spreadsheet."""
    dimensions = group_by or [ReportDimension.CHANNEL]
    async with db.transaction() as uow:
        rows = await ops.compliance(
            uow, period_start=period_start, period_end=period_end, group_by=dimensions
        )
        now = uow.now()
    out = ComplianceOut(
        period_start=period_start,
        period_end=period_end,
        as_of=now,
        group_by=dimensions,
        rows=[ComplianceRowOut.of(row) for row in rows],
    )
    if format == "csv":
        return _csv(out)
    return out


def _csv(report: ComplianceOut) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    counts = ["total", "met_on_time", "met_late", "open_breached", "open_on_track", "compliance_percent"]
    writer.writerow([d.value for d in report.group_by] + ["target", *counts])
    for row in report.rows:
        percent = "" if row.compliance_percent is None else str(row.compliance_percent)
        writer.writerow(
            [row.group[d] for d in report.group_by]
            + [
                row.target.value,
                row.total,
                row.met_on_time,
                row.met_late,
                row.open_breached,
                row.open_on_track,
                percent,
            ]
        )
    filename = f"sla-compliance-{report.period_start.date()}-{report.period_end.date()}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
