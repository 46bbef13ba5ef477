import pytest
from infra import require


@pytest.fixture(autouse=True)
def _real_infrastructure() -> None:
    require("127.0.0.1", 5432, "PostgreSQL")
    require("127.0.0.1", 5672, "RabbitMQ")
