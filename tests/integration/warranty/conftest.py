import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from warranty_harness import Warranty, running_warranty


@pytest.fixture(scope="module")
async def warranty() -> AsyncIterator[Warranty]:
    async with running_warranty() as harness:
        yield harness
