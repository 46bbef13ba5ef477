"""Configuration from environment variables (documented in the README's configuration table).

Every field can be set for all services (``DATABASE_URL``) or for one (``WARRANTY_DATABASE_URL``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    environment: Literal["development", "test", "production"] = "development"
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; '{service}' is replaced by the service name. "
        "Unset: an embedded SQLite file per service under DATA_DIR.",
    )
    amqp_url: str | None = Field(
        default=None, description="RabbitMQ URL. Unset: the in-process transport (embedded mode only)."
    )
    data_dir: Path = Path("var")
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_jwks_url: str | None = None
    jwt_issuer: str = "aftersales"
    jwt_audience: str = "aftersales"
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    roles: str = Field(default="all", description="Comma list of api, consumer, relay, scheduler; or all.")
    db_pool_size: int = Field(default=20, ge=1, le=200, description="Database connections per process.")
    db_pool_wait: float = Field(
        default=10.0, gt=0, description="Seconds a request waits for a free connection before a 503."
    )
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    relay_poll_interval: float = Field(default=1.0, gt=0)
    publish_timeout: float = Field(default=10.0, gt=0)
    consumer_prefetch: int = Field(default=200, ge=1, le=10_000)
    consumer_concurrency: int = Field(default=4, ge=1, le=100, description="Parallel consumer transactions.")
    consumer_batch_size: int = Field(
        default=100, ge=1, le=1000, description="Events applied per transaction."
    )
    retry_delays: str = Field(default="1,10,60", description="Seconds between handler attempts.")
    scheduler_interval: float = Field(default=1.0, gt=0)
    scheduler_batch: int = Field(default=100, ge=1)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    cors_origins: str = ""
    outbound_allowlist: str = Field(default="", description="Hosts/CIDRs outgoing requests may reach.")

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment == "production":
            secret = self.jwt_secret.get_secret_value()
            if self.jwt_jwks_url is None and (secret == DEV_JWT_SECRET or len(secret) < 32):
                raise ValueError(
                    "JWT_SECRET must be set to 32+ characters (or use JWT_JWKS_URL) in production"
                )
            if self.amqp_url is None:
                raise ValueError(
                    "AMQP_URL must be set in production: the in-process transport is not durable"
                )
        return self

    @classmethod
    def for_service(cls, service: str, **overrides: Any) -> Settings:
        """Settings for one service: ``<SERVICE>_<FIELD>`` beats ``<FIELD>``."""
        prefix = service.upper() + "_"
        per_service = {
            name: os.environ[prefix + name.upper()]
            for name in cls.model_fields
            if prefix + name.upper() in os.environ
        }
        return cls(**{**per_service, **overrides})

    def service_database_url(self, service: str) -> str:
        if self.database_url:
            return self.database_url.replace("{service}", service)
        return f"sqlite+aiosqlite:///{self.data_dir / (service + '.db')}"

    @property
    def role_set(self) -> set[str]:
        roles = {r.strip() for r in self.roles.split(",") if r.strip()}
        return {"api", "consumer", "relay", "scheduler"} if "all" in roles else roles

    @property
    def retry_delay_list(self) -> tuple[float, ...]:
        return tuple(float(x) for x in self.retry_delays.split(",") if x.strip())

    @property
    def embedded(self) -> bool:
        return self.amqp_url is None
