import sys
from pathlib import Path

import pytest
from infra import require

# The per-service harnesses live beside their integration tests.
for folder in ("warranty", "dispatch"):
    sys.path.insert(0, str(Path(__file__).parent.parent / "integration" / folder))


@pytest.fixture(autouse=True)
def _real_infrastructure() -> None:
    require("127.0.0.1", 5432, "PostgreSQL")
    require("127.0.0.1", 5672, "RabbitMQ")
