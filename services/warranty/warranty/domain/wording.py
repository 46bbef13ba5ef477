"""How numbers and lists read in the sentences an agent reads out (dates: :mod:`.dates`)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal


def spoken_number(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: ``108.00`` -> ``108``, ``12.50`` -> ``12.5``."""
    return f"{value.normalize():f}"


def spoken_list(items: Sequence[str], joiner: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {joiner} {items[-1]}"
