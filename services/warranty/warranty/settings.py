"""The warranty service's own settings (``WARRANTY_*`` environment variables).

They sit beside the platform settings every service shares (``kit.settings``): the review period
of claims, the settlement schedule and the amount above which finance approves a statement.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from warranty.domain.settlement import SettlementSchedule


class WarrantySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WARRANTY_", extra="ignore", case_sensitive=False)

    claim_review_days: int = Field(
        default=5, ge=1, le=90, description="Days a reviewer has to decide a claim before it is escalated."
    )
    settlement_period_months: int = Field(
        default=1, description="Length of a settlement period in calendar months (1, 2, 3, 4, 6 or 12)."
    )
    settlement_issue_day: int = Field(
        default=1,
        ge=1,
        le=28,
        description="Day of the month after a period on which its statements are issued.",
    )
    settlement_approval_above: Decimal | None = Field(
        default=None,
        ge=0,
        description="Statements paying more than this (net, in any currency) wait for a finance approval. "
        "Unset: none do.",
    )

    @field_validator("settlement_period_months")
    @classmethod
    def _whole_part_of_a_year(cls, months: int) -> int:
        if months not in (1, 2, 3, 4, 6, 12):
            raise ValueError("a settlement period is 1, 2, 3, 4, 6 or 12 months")
        return months

    @property
    def review_within(self) -> timedelta:
        return timedelta(days=self.claim_review_days)

    @property
    def schedule(self) -> SettlementSchedule:
        return SettlementSchedule(
            period_months=self.settlement_period_months, issue_day=self.settlement_issue_day
        )


_override: WarrantySettings | None = None


@lru_cache(maxsize=1)
def environment_settings() -> WarrantySettings:
    """The settings read once from the environment (``WARRANTY_…``)."""
    return WarrantySettings()


def current() -> WarrantySettings:
    """The settings in force: read from the environment once, unless :func:`use` set others."""
    return _override if _override is not None else environment_settings()


def use(settings: WarrantySettings | None) -> None:
    """Run with ``settings`` instead of the environment's (None goes back to the environment)."""
    global _override
    _override = settings
