from collections.abc import AsyncIterator

import pytest
from warranty_harness import Warranty, running_warranty


@pytest.fixture(scope="module")
async def warranty() -> AsyncIterator[Warranty]:
    async with running_warranty() as harness:
        yield harness
