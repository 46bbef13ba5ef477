from collections.abc import AsyncIterator

import pytest
from ledger_harness import Ledger


@pytest.fixture
async def ledger() -> AsyncIterator[Ledger]:
    harness = Ledger()
    await harness.setup()
    try:
        yield harness
    finally:
        await harness.teardown()
