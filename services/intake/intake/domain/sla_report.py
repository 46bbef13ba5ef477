"""Compliance with the service levels: how many targets were met on time, per channel, agent or period.

Built from :class:`ClockFact` rows (what :meth:`TicketSla.facts` returns). A clock counts in the
period its ticket opened in. Compliance is met-on-time over everything decided: met on time, met
late, and still open past due. Clocks still on track are shown but not yet judged; cancelled
tickets are left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from intake.domain.common import utc
from intake.domain.sla import ClockFact, ClockKind, ClockState
from kit.domain import DomainError


class ReportDimension(StrEnum):
    CHANNEL = "channel"
    AGENT = "agent"
    TYPE = "type"
    PRIORITY = "priority"
    TIER = "tier"
    DAY = "day"
    MONTH = "month"


_VALUE_OF: dict[ReportDimension, Callable[[ClockFact], str]] = {
    ReportDimension.CHANNEL: lambda fact: fact.channel.value,
    ReportDimension.AGENT: lambda fact: fact.agent_id or "unassigned",
    ReportDimension.TYPE: lambda fact: fact.type.value,
    ReportDimension.PRIORITY: lambda fact: fact.priority.value,
    ReportDimension.TIER: lambda fact: fact.tier.value if fact.tier else "none",
    ReportDimension.DAY: lambda fact: fact.started_at.date().isoformat(),
    ReportDimension.MONTH: lambda fact: fact.started_at.strftime("%Y-%m"),
}


@dataclass(frozen=True)
class ComplianceRow:
    group: tuple[tuple[ReportDimension, str], ...]
    kind: ClockKind
    total: int
    met_on_time: int
    met_late: int
    open_breached: int
    open_on_track: int

    @property
    def decided(self) -> int:
        return self.met_on_time + self.met_late + self.open_breached

    @property
    def compliance_percent(self) -> Decimal | None:
        """Met on time as a share of the decided clocks, one decimal; None when none is decided yet."""
        if not self.decided:
            return None
        return (Decimal(100 * self.met_on_time) / Decimal(self.decided)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )


def compliance_report(
    facts: Iterable[ClockFact],
    *,
    period_start: datetime,
    period_end: datetime,
    group_by: Sequence[ReportDimension] = (ReportDimension.CHANNEL,),
) -> list[ComplianceRow]:
    """One row per group and target for the clocks started in ``[period_start, period_end)``."""
    period_start, period_end = utc(period_start, "period_start"), utc(period_end, "period_end")
    if period_end <= period_start:
        raise DomainError("a report period ends after it starts", code="bad-period")
    counts: dict[tuple[tuple[tuple[ReportDimension, str], ...], ClockKind], list[int]] = defaultdict(
        lambda: [0, 0, 0, 0, 0]
    )
    for fact in facts:
        if fact.state is ClockState.CANCELLED or not period_start <= fact.started_at < period_end:
            continue
        group = tuple((dimension, _VALUE_OF[dimension](fact)) for dimension in group_by)
        row = counts[(group, fact.kind)]
        row[0] += 1
        if fact.state is ClockState.MET:
            row[2 if fact.breached else 1] += 1
        else:
            row[3 if fact.breached else 4] += 1
    return [
        ComplianceRow(group, kind, *values)
        for (group, kind), values in sorted(counts.items(), key=lambda item: (item[0][0], item[0][1].value))
    ]
