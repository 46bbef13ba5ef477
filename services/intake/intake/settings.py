"""The intake service's own settings (environment variables ``INTAKE_...``), beside the kit's.

The SLA policy book and business calendar are not here: supervisors edit them through the API.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IntakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", case_sensitive=False)

    phone_region: str = Field(
        default="DE",
        pattern=r"^[A-Za-z]{2}$",
        description="ISO 3166-1 country of phone numbers written without a country code.",
    )
    ticket_number_block: int = Field(
        default=20,
        ge=1,
        le=1000,
        description=(
            "Ticket numbers an API process takes from the database at a time (PostgreSQL). Larger blocks "
            "save round trips; numbers then interleave between processes and a restart skips the rest of "
            "a block. 1 gives strictly increasing numbers across processes."
        ),
    )


@lru_cache(maxsize=1)
def intake_settings() -> IntakeSettings:
    """The settings read once from the environment."""
    return IntakeSettings()
