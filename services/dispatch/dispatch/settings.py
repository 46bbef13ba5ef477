"""Dispatch's own settings (environment variables prefixed ``DISPATCH_``), beside the kit's."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ProductLine = Annotated[str, Field(min_length=1, max_length=64)]
CertificationName = Annotated[str, Field(min_length=1, max_length=100)]


class DispatchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISPATCH_", extra="ignore", case_sensitive=False)

    maintenance_lead_days: int = Field(
        default=30,
        ge=0,
        le=365,
        description="How many days before its due date a preventive visit becomes a work order "
        "(the default of new maintenance plans).",
    )
    required_certifications: dict[ProductLine, list[CertificationName]] = Field(
        default_factory=dict,
        description="Product line -> the certifications every work order on that line requires, as JSON, "
        'e.g. {"air_conditioner": ["refrigerant_handling"]}; a list given for one order adds to these.',
    )


@lru_cache(maxsize=1)
def dispatch_settings() -> DispatchSettings:
    return DispatchSettings()
