"""Intake merging a duplicate ticket into another, or saying a ticket no longer needs a visit (or needs one
again): the work orders follow, in whatever order the events arrive, on real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from dispatch_harness import (
    DISPATCHER,
    T0,
    TECH_ID,
    DispatchUnderTest,
    appointment,
    assign,
    of_order,
    seed_network,
    ticket_cancelled,
    ticket_created,
    ticket_number,
    work_order_of,
)

from kit.clock import ManualClock

pytestmark = pytest.mark.integration


def ticket_merged(ticket_id: str, into_ticket_id: str, version: int = 3) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "into_ticket_id": into_ticket_id,
        "version": version,
        "merged_at": (T0 + timedelta(minutes=20)).isoformat(),
        "merged_by": {"kind": "user", "id": "agent-1", "role": "agent"},
    }


def ticket_updated(
    ticket_id: str,
    version: int,
    *,
    needs_on_site: bool,
    ticket_type: str = "repair",
    priority: str = "normal",
    changed_fields: tuple[str, ...] = ("needs_on_site",),
) -> dict[str, Any]:
    details = ticket_created(ticket_id, ticket_type=ticket_type)["details"]
    details.update(needs_on_site=needs_on_site, priority=priority)
    return {
        "ticket_id": ticket_id,
        "ticket_number": ticket_number(ticket_id),
        "version": version,
        "status": "in_progress",
        "details": details,
        "changed_fields": list(changed_fields),
        "updated_at": (T0 + timedelta(minutes=version)).isoformat(),
        "updated_by": {"kind": "user", "id": "agent-1", "role": "agent"},
    }


def cancelled_event(work_order_id: str) -> Any:
    return of_order("dispatch.work_order.cancelled.v1", work_order_id)


async def orders_of(client: httpx.AsyncClient, dispatch: DispatchUnderTest, ticket_id: str) -> list[Any]:
    r = await client.get(
        f"{dispatch.prefix}/work_orders", headers=dispatch.auth(*DISPATCHER), params={"limit": 200}
    )
    assert r.status_code == 200, r.text
    return [o for o in r.json()["items"] if o["ticket_id"] == ticket_id]


async def order(client: httpx.AsyncClient, dispatch: DispatchUnderTest, work_order_id: str) -> Any:
    r = await client.get(f"{dispatch.prefix}/work_orders/{work_order_id}", headers=dispatch.auth(*DISPATCHER))
    assert r.status_code == 200, r.text
    return r.json()


async def history(client: httpx.AsyncClient, dispatch: DispatchUnderTest, work_order_id: str) -> Any:
    r = await client.get(
        f"{dispatch.prefix}/work_orders/{work_order_id}/history", headers=dispatch.auth(*DISPATCHER)
    )
    assert r.status_code == 200, r.text
    return r.json()


async def opened(dispatch: DispatchUnderTest, ticket_id: str, **kwargs: Any) -> None:
    await dispatch.deliver("intake.ticket.created.v1", ticket_created(ticket_id, **kwargs))


async def opened_with_order(client: httpx.AsyncClient, dispatch: DispatchUnderTest, ticket_id: str) -> Any:
    """The work order the ticket's creation opened."""
    await opened(dispatch, ticket_id)
    return await work_order_of(client, dispatch, ticket_id)


@asynccontextmanager
async def seeded(dispatch: DispatchUnderTest) -> AsyncIterator[httpx.AsyncClient]:
    """A client of dispatch relaying and consuming events at T0, with the network seeded."""
    async with dispatch.client(dispatch.app(ManualClock(T0), roles={"relay", "consumer"})) as client:
        await seed_network(client, dispatch)
        yield client


async def send_technician_on_the_way(
    client: httpx.AsyncClient, dispatch: DispatchUnderTest, work_order_id: str, *, in_hours: int
) -> None:
    """Assign the order to the technician for a one-hour visit ``in_hours`` after T0, who accepts it and
    sets off."""
    await assign(client, dispatch, work_order_id, TECH_ID, appointment(T0 + timedelta(hours=in_hours)))
    tech = dispatch.auth(TECH_ID, "technician")
    for step in ("accept", "start_travel"):
        r = await client.post(f"{dispatch.prefix}/work_orders/{work_order_id}/{step}", headers=tech, json={})
        assert r.status_code == 200, r.text


async def test_a_duplicate_not_started_is_cancelled_when_the_surviving_ticket_has_its_own_order(
    dispatch: DispatchUnderTest,
) -> None:
    async with seeded(dispatch) as client:
        duplicate, survivor = str(uuid.uuid4()), str(uuid.uuid4())
        duplicate_order = await opened_with_order(client, dispatch, duplicate)
        survivor_order = await opened_with_order(client, dispatch, survivor)

        merged = ticket_merged(duplicate, survivor)
        merge_id = await dispatch.deliver("intake.ticket.merged.v1", merged)
        # the same merge replayed (a new event id): nothing more happens
        await dispatch.deliver("intake.ticket.merged.v1", merged)

        cancelled = await dispatch.next_event(cancelled_event(duplicate_order["id"]))
        assert cancelled["data"]["reason"] == "ticket_merged"
        assert cancelled["data"]["note"] == f"duplicate ticket merged into {ticket_number(survivor)}"
        by = cancelled["data"]["cancelled_by"]
        assert (by["kind"], by["id"]) == ("system", f"intake:{merge_id}")
        await dispatch.no_event(cancelled_event(duplicate_order["id"]))
        await dispatch.no_event(cancelled_event(survivor_order["id"]))

        assert (await order(client, dispatch, duplicate_order["id"]))["state"] == "cancelled"
        assert (await order(client, dispatch, survivor_order["id"]))["state"] == "new"
        notes = (await history(client, dispatch, duplicate_order["id"]))["notes"]
        assert [(n["kind"], n["text"]) for n in notes] == [
            ("ticket_merged", f"duplicate ticket merged into {ticket_number(survivor)}")
        ]


async def test_the_only_order_follows_the_surviving_ticket_whichever_event_arrives_first(
    dispatch: DispatchUnderTest,
) -> None:
    async with seeded(dispatch) as client:
        # the merge arrives before the surviving ticket's creation: the duplicate's order serves it
        duplicate, survivor = str(uuid.uuid4()), str(uuid.uuid4())
        moved = await opened_with_order(client, dispatch, duplicate)
        merge_id = await dispatch.deliver("intake.ticket.merged.v1", ticket_merged(duplicate, survivor))
        assert await orders_of(client, dispatch, duplicate) == []
        [serving] = await orders_of(client, dispatch, survivor)
        assert (serving["id"], serving["state"]) == (moved["id"], "new")
        [*_, move] = (await history(client, dispatch, moved["id"]))["transitions"]
        assert (move["action"], move["actor_id"]) == ("move_to_ticket", f"intake:{merge_id}")

        # the survivor's creation, then its edit, reach that order instead of opening a second one
        await opened(dispatch, survivor)
        await dispatch.deliver(
            "intake.ticket.updated.v1",
            ticket_updated(survivor, 2, needs_on_site=True, priority="urgent", changed_fields=("priority",)),
        )
        [serving] = await orders_of(client, dispatch, survivor)
        assert (serving["id"], serving["priority"]) == (moved["id"], "urgent")

        # and so does its cancellation
        cancellation = ticket_cancelled(survivor, 5, cancelled_after=timedelta(minutes=40))
        await dispatch.deliver("intake.ticket.cancelled.v1", cancellation)
        cancelled = await dispatch.next_event(cancelled_event(moved["id"]))
        assert (cancelled["data"]["reason"], cancelled["data"]["ticket_id"]) == ("ticket_cancelled", survivor)

        # the merge arrives before the duplicate's own creation: the duplicate never gets an order
        late, other = str(uuid.uuid4()), str(uuid.uuid4())
        await opened(dispatch, other)
        await dispatch.deliver("intake.ticket.merged.v1", ticket_merged(late, other))
        await opened(dispatch, late)
        assert await orders_of(client, dispatch, late) == []
        assert len(await orders_of(client, dispatch, other)) == 1


async def test_a_visit_under_way_is_never_cancelled_by_a_merge_but_left_to_the_dispatcher(
    dispatch: DispatchUnderTest,
) -> None:
    async with seeded(dispatch) as client:
        duplicate, survivor = str(uuid.uuid4()), str(uuid.uuid4())
        travelling = await opened_with_order(client, dispatch, duplicate)
        survivor_order = await opened_with_order(client, dispatch, survivor)
        await send_technician_on_the_way(client, dispatch, travelling["id"], in_hours=1)

        await dispatch.deliver("intake.ticket.merged.v1", ticket_merged(duplicate, survivor))
        await dispatch.no_event(cancelled_event(travelling["id"]))
        now = await order(client, dispatch, travelling["id"])
        assert (now["state"], now["ticket_id"], now["technician_id"]) == ("en_route", survivor, TECH_ID)
        [note] = (await history(client, dispatch, travelling["id"]))["notes"]
        assert survivor_order["id"] in note["text"]
        assert "decide which visit to keep" in note["text"]


async def test_a_ticket_no_longer_needing_a_visit_cancels_the_order_and_asking_again_opens_one(
    dispatch: DispatchUnderTest,
) -> None:
    async with seeded(dispatch) as client:
        ticket_id = str(uuid.uuid4())
        first = await opened_with_order(client, dispatch, ticket_id)

        update_id = await dispatch.deliver(
            "intake.ticket.updated.v1", ticket_updated(ticket_id, 2, needs_on_site=False)
        )
        cancelled = await dispatch.next_event(cancelled_event(first["id"]))
        assert cancelled["data"]["reason"] == "other"
        assert cancelled["data"]["note"] == "the ticket no longer needs an on-site visit"
        by = cancelled["data"]["cancelled_by"]
        assert (by["kind"], by["id"]) == ("system", f"intake:{update_id}")

        # an edit of something else does not bring the visit back, even for a repair ticket
        await dispatch.deliver(
            "intake.ticket.updated.v1",
            ticket_updated(ticket_id, 3, needs_on_site=False, priority="high", changed_fields=("priority",)),
        )
        assert [o["id"] for o in await orders_of(client, dispatch, ticket_id)] == [first["id"]]

        # a visit is needed again: a new order opens, as the ticket's creation would have
        await dispatch.deliver("intake.ticket.updated.v1", ticket_updated(ticket_id, 4, needs_on_site=True))
        orders = await orders_of(client, dispatch, ticket_id)
        assert sorted(o["state"] for o in orders) == ["cancelled", "new"]
        [second] = [o for o in orders if o["state"] == "new"]
        await dispatch.next_event(of_order("dispatch.work_order.created.v1", second["id"]))

        # a consultation asked to become a visit opens its first order
        consultation = str(uuid.uuid4())
        await opened(dispatch, consultation, needs_on_site=False, ticket_type="consultation")
        assert await orders_of(client, dispatch, consultation) == []
        await dispatch.deliver(
            "intake.ticket.updated.v1",
            ticket_updated(consultation, 2, needs_on_site=True, ticket_type="consultation"),
        )
        assert [o["state"] for o in await orders_of(client, dispatch, consultation)] == ["new"]


async def test_a_technician_already_on_the_way_is_not_called_off_when_the_visit_is_dropped(
    dispatch: DispatchUnderTest,
) -> None:
    async with seeded(dispatch) as client:
        ticket_id = str(uuid.uuid4())
        travelling = await opened_with_order(client, dispatch, ticket_id)
        await send_technician_on_the_way(client, dispatch, travelling["id"], in_hours=5)

        await dispatch.deliver("intake.ticket.updated.v1", ticket_updated(ticket_id, 2, needs_on_site=False))
        await dispatch.no_event(cancelled_event(travelling["id"]))
        assert (await order(client, dispatch, travelling["id"]))["state"] == "en_route"
        notes = [n["text"] for n in (await history(client, dispatch, travelling["id"]))["notes"]]
        assert notes == ["the ticket no longer needs an on-site visit, but the technician is en route"]
