import logging

import pytest
from pydantic import ValidationError

from kit.logging import mask_personal_data
from kit.settings import Settings


def test_production_refuses_the_development_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(environment="production", amqp_url="amqp://x")


def test_production_refuses_a_short_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="32"):
        Settings(environment="production", amqp_url="amqp://x", jwt_secret="short")


def test_production_refuses_the_in_process_transport() -> None:
    with pytest.raises(ValidationError, match="AMQP_URL"):
        Settings(environment="production", jwt_secret="s" * 40)


def test_a_service_specific_variable_beats_the_shared_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://db/{service}")
    monkeypatch.setenv("WARRANTY_DATABASE_URL", "postgresql+asyncpg://warranty-db/w")
    assert (
        Settings.for_service("warranty").service_database_url("warranty")
        == "postgresql+asyncpg://warranty-db/w"
    )
    assert (
        Settings.for_service("dispatch").service_database_url("dispatch")
        == "postgresql+asyncpg://db/dispatch"
    )


def test_personal_data_is_masked_in_logs() -> None:
    masked = mask_personal_data("caller +49 30 1234567 wrote from anna.schmidt@example.com")
    assert "1234567" not in masked and "anna.schmidt" not in masked
    assert masked.endswith("a***@example.com") and "***67" in masked
    logging.getLogger(__name__).info("not crashing on args %s", "x")


@pytest.mark.parametrize(
    ("service", "variable", "value"),
    [
        ("dispatch", "DISPATCH_REQUIRED_CERTIFICATIONS", '["not a map"]'),
        ("intake", "INTAKE_TICKET_NUMBER_BLOCK", "0"),
        ("warranty", "WARRANTY_SETTLEMENT_PERIOD_MONTHS", "-1"),
    ],
)
def test_a_bad_service_setting_stops_the_process_at_start_up(
    monkeypatch: pytest.MonkeyPatch, service: str, variable: str, value: str
) -> None:
    from kit.app import create_app
    from kit.cli import load_service

    definition = load_service(service)
    for read in definition.settings:  # read once already by an earlier test: read again
        getattr(read, "cache_clear", lambda: None)()
    monkeypatch.setenv(variable, value)
    try:
        with pytest.raises(ValidationError, match=variable.split("_", 1)[1].lower()):
            create_app(definition, settings=Settings(environment="test"))
    finally:
        monkeypatch.delenv(variable)
        for read in definition.settings:
            getattr(read, "cache_clear", lambda: None)()
