"""Wake-ups for the channels' background loops: work stored by one task (a fax, an acknowledgment to
send) is looked at at once by this process's loop instead of at its next poll. Other replicas find it
at their next poll."""

from __future__ import annotations

import asyncio

_events: dict[tuple[str, str], asyncio.Event] = {}


def waiter(service: str, loop_name: str) -> asyncio.Event:
    """The event ``loop_name`` of ``service`` waits on (created on first use)."""
    return _events.setdefault((service, loop_name), asyncio.Event())


def wake(service: str, loop_name: str) -> None:
    event = _events.get((service, loop_name))
    if event is not None:
        event.set()


def forget(service: str, loop_name: str) -> None:
    _events.pop((service, loop_name), None)
