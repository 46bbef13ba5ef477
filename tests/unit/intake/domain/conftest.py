from collections.abc import Callable
from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest

from intake.domain.common import Actor
from intake.domain.ticket_values import Channel, TicketType, format_ticket_number
from intake.domain.tickets import Ticket

OPENED_AT = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # a Monday morning


@pytest.fixture
def agent() -> Actor:
    return Actor.user("anna", "agent", name="Anna Agent")


@pytest.fixture
def colleague() -> Actor:
    return Actor.user("ben", "agent")


@pytest.fixture
def supervisor() -> Actor:
    return Actor.user("sue", "agent", "supervisor")


@pytest.fixture
def system() -> Actor:
    return Actor.system()


@pytest.fixture
def new_ticket(system: Actor) -> Callable[..., Ticket]:
    """Open a ticket as it arrives from a channel; keyword arguments override the defaults."""
    numbers = count(1)

    def make(**overrides: Any) -> Ticket:
        arguments: dict[str, Any] = {
            "number": format_ticket_number(2026, next(numbers)),
            "channel": Channel.EMAIL,
            "type": TicketType.REPAIR,
            "customer_id": "cust-1",
            "at": OPENED_AT,
            "actor": system,
        }
        arguments.update(overrides)
        return Ticket.open(**arguments)

    return make
