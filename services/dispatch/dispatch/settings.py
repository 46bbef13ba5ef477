"""Dispatch's own settings (environment variables prefixed ``DISPATCH_``), beside the kit's."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DispatchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISPATCH_", extra="ignore", case_sensitive=False)

    maintenance_lead_days: int = Field(
        default=30,
        ge=0,
        le=365,
        description="How many days before its due date a preventive visit becomes a work order "
        "(the default of new maintenance plans).",
    )


@lru_cache(maxsize=1)
def dispatch_settings() -> DispatchSettings:
    return DispatchSettings()
