"""Due timers -> warranty operations (thin): review deadlines and the settlement schedule."""

from __future__ import annotations

from kit.db import UnitOfWork
from kit.scheduler import Timer, TimerHandler
from warranty import operations, settings
from warranty.operations.settlements import period_of


async def review_due(uow: UnitOfWork, timer: Timer) -> None:
    await operations.escalate_overdue_review(uow, str(timer.payload.get("claim_id") or timer.key))


async def settlement_run(uow: UnitOfWork, timer: Timer) -> None:
    await operations.run_settlement(uow, period_of(timer.payload), settings.current().schedule)


async def settle_dealer(uow: UnitOfWork, timer: Timer) -> None:
    await operations.settle_dealer(uow, str(timer.payload["dealer_id"]), period_of(timer.payload))


timers: dict[str, TimerHandler] = {
    operations.REVIEW_DUE: review_due,
    operations.SETTLEMENT_RUN: settlement_run,
    operations.SETTLE_DEALER: settle_dealer,
}
