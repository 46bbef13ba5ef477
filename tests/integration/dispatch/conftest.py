from collections.abc import AsyncIterator

import pytest
from dispatch_harness import DispatchUnderTest, running_dispatch


@pytest.fixture(scope="module")
async def dispatch() -> AsyncIterator[DispatchUnderTest]:
    """Dispatch of its own for each test module."""
    async with running_dispatch() as under_test:
        yield under_test
