"""The dispatch service on real PostgreSQL and RabbitMQ under a unique name, with a tap on the events exchange."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import aio_pika
import asyncpg
import httpx
from fastapi import FastAPI
from infra import PG_ADMIN_DSN, wait_until
from service_under_test import ServiceUnderTest, publish

from dispatch.app import service

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # a Tuesday, 08:00

#: the site tickets give unless told otherwise, in the seeded ``paris`` region
PARIS_ADDRESS = {
    "line1": "1 Rue de Rivoli",
    "city": "Paris",
    "country": "FR",
    "region_code": "paris",
    "location": {"latitude": 48.8566, "longitude": 2.3522},
}
#: a site in Paris near the seeded technicians, and one in Lyon
PARIS_SITE = {
    "line1": "2 Rue de Rivoli",
    "city": "Paris",
    "country": "FR",
    "location": {"latitude": 48.857, "longitude": 2.353},
}
LYON_SITE = {
    "line1": "1 Place Bellecour",
    "city": "Lyon",
    "country": "FR",
    "location": {"latitude": 45.7578, "longitude": 4.8320},
}


class DispatchUnderTest(ServiceUnderTest):
    keeps_unmatched = True

    def __init__(self) -> None:
        super().__init__(service)

    async def setup(self) -> None:
        await self.create_database()
        await self.observe()

    async def teardown(self) -> None:
        await self.remove()

    @asynccontextmanager
    async def client(self, app: FastAPI, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
        async with super().client(app, **options) as client:
            yield client
            if "relay" in app.state.runtime.roles:
                # stop with the relay idle: cancelling it in the middle of a database call can leave the
                # shutdown waiting on it (noted for the messaging library)
                await self.outbox_published()
                await asyncio.sleep(0.3)

    async def publish(self, event_type: str, data: dict[str, Any], *, at: datetime = T0) -> str:
        """Publish an event as another service would; its id."""
        event_id = str(uuid.uuid4())
        body = {
            "specversion": "1.0",
            "id": event_id,
            "source": "aftersales/tests",
            "type": event_type,
            "time": at.isoformat(),
            "datacontenttype": "application/json",
            "data": data,
        }
        message = aio_pika.Message(
            json.dumps(body).encode(), message_id=event_id, content_type="application/cloudevents+json"
        )
        await publish(message, event_type)
        return event_id

    async def deliver(self, event_type: str, data: dict[str, Any], *, at: datetime = T0) -> str:
        """Publish an event and wait until dispatch has handled it; its id."""
        event_id = await self.publish(event_type, data, at=at)
        await self.handled(event_id)
        return event_id

    async def handled(self, event_id: str, *, within: float = 15.0) -> None:
        """Wait until dispatch has handled the event (its id is in dispatch's inbox)."""

        async def in_inbox() -> bool:
            [row] = await self.sql("SELECT count(*) AS handled FROM inbox WHERE event_id = $1", event_id)
            return bool(row["handled"])

        await wait_until(in_inbox, timeout=within, what=f"event {event_id} handled")

    async def outbox_published(self, *, within: float = 10.0) -> None:
        """Wait until every event dispatch committed has been published."""

        async def published() -> bool:
            [row] = await self.sql("SELECT count(*) AS pending FROM outbox WHERE published_at IS NULL")
            return int(row["pending"]) == 0

        await wait_until(published, timeout=within, what="outbox published")

    async def sql(self, query: str, *args: Any) -> list[Any]:
        """Rows of a query on dispatch's own database (to check what is stored, as an operator would)."""
        conn = await asyncpg.connect(PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + self.db_name)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def no_event(self, matches: Callable[[dict[str, Any]], bool], *, within: float = 1.0) -> None:
        """No event that ``matches`` arrives within ``within`` seconds."""
        try:
            event = await self.next_event(matches, within=within)
        except AssertionError:
            return
        raise AssertionError(f"unexpected event {event['type']}: {event['data']}")


@asynccontextmanager
async def running_dispatch() -> AsyncIterator[DispatchUnderTest]:
    """Dispatch set up on its own database and queues, torn down afterwards."""
    under_test = DispatchUnderTest()
    await under_test.setup()
    try:
        yield under_test
    finally:
        await under_test.teardown()


DISPATCHER = ("dispatcher-1", "dispatcher")
TECH_ID = "tech-" + uuid.uuid4().hex[:6]


def of_order(event_type: str, work_order_id: str, **data: Any) -> Callable[[dict[str, Any]], bool]:
    """Matches an event of ``event_type`` about the work order (and with ``data`` among its fields)."""

    def matches(e: dict[str, Any]) -> bool:
        return (
            e["type"] == event_type
            and e["data"]["work_order_id"] == work_order_id
            and all(e["data"].get(k) == v for k, v in data.items())
        )

    return matches


def ticket_number(ticket_id: str) -> str:
    return "T-" + ticket_id[:8]


def ticket_created(
    ticket_id: str, *, needs_on_site: bool = True, ticket_type: str = "repair"
) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "ticket_number": ticket_number(ticket_id),
        "version": 1,
        "details": {
            "channel": "phone",
            "type": ticket_type,
            "priority": "normal",
            "customer_id": "cust-1",
            "product": {"serial_number": "SN-1001", "model_code": "WH-80", "product_line": "water_heater"},
            "fault_description": "no hot water",
            "site_address": {**PARIS_ADDRESS},
            "region_code": "paris",
            "needs_on_site": needs_on_site,
        },
        "opened_at": T0.isoformat(),
        "opened_by": {"kind": "user", "id": "agent-1", "role": "agent"},
    }


def ticket_cancelled(
    ticket_id: str, version: int, *, cancelled_after: timedelta = timedelta(minutes=30)
) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "ticket_number": ticket_number(ticket_id),
        "version": version,
        "customer_id": "cust-1",
        "type": "repair",
        "opened_at": T0.isoformat(),
        "reason": "customer_withdrew",
        "cancelled_at": (T0 + cancelled_after).isoformat(),
        "cancelled_by": {"kind": "user", "id": "agent-1", "role": "agent"},
    }


async def add_centre_and_region(
    client: Any,
    dispatch: DispatchUnderTest,
    *,
    name: str = "Paris",
    grade: str = "B",
    centre_id: str | None = None,
    region_id: str | None = None,
    **centre: Any,
) -> tuple[str, str]:
    """A centre (``centre``: more of its fields) and a region it serves, by the dispatcher; their ids,
    ``centre-<suffix>`` and ``region-<suffix>`` unless given."""
    suffix = uuid.uuid4().hex[:6]
    centre_id, region_id = centre_id or f"centre-{suffix}", region_id or f"region-{suffix}"
    auth = dispatch.auth(*DISPATCHER)
    r = await client.post(
        f"{dispatch.prefix}/centres",
        headers=auth,
        json={"id": centre_id, "name": name, "kind": "regional_centre", **centre},
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{dispatch.prefix}/regions",
        headers=auth,
        json={"id": region_id, "name": name, "grade": grade, "centre_id": centre_id},
    )
    assert r.status_code == 201, r.text
    return centre_id, region_id


async def add_technician(
    client: Any,
    dispatch: DispatchUnderTest,
    technician_id: str,
    *,
    centre_id: str,
    region_id: str,
    name: str,
    home_lat: float,
    home_lon: float,
    skills: Sequence[str] = ("repair:water_heater",),
    **extra: Any,
) -> str:
    """A technician added by the dispatcher (``extra``: more fields, or ones replacing the defaults); the id."""
    r = await client.post(
        f"{dispatch.prefix}/technicians",
        headers=dispatch.auth(*DISPATCHER),
        json={
            "id": technician_id,
            "name": name,
            "centre_id": centre_id,
            "region_ids": [region_id],
            "skills": list(skills),
            "home_lat": home_lat,
            "home_lon": home_lon,
            **extra,
        },
    )
    assert r.status_code == 201, r.text
    return technician_id


class Territory:
    """A centre and a region of a test's own, so its technicians never compete with other tests'; set it
    up with ``await Territory(client, dispatch).setup()``. Subclasses name the place, its grade and where
    its technicians live."""

    name = "Paris"
    grade = "B"
    home = (48.85, 2.34)

    def __init__(self, client: Any, dispatch: DispatchUnderTest) -> None:
        self.client, self.dispatch = client, dispatch
        self.p, self.auth = dispatch.prefix, dispatch.auth(*DISPATCHER)
        self.suffix = uuid.uuid4().hex[:6]
        self.centre, self.region = f"centre-{self.suffix}", f"region-{self.suffix}"

    async def setup(self) -> Self:
        await add_centre_and_region(
            self.client,
            self.dispatch,
            name=self.name,
            grade=self.grade,
            centre_id=self.centre,
            region_id=self.region,
        )
        return self

    async def technician(self, name: str, **fields: Any) -> str:
        """A technician of the territory living at ``home``, id ``<name>-<suffix>`` (``fields``: more of
        its fields, or ones replacing the defaults); the id."""
        home_lat, home_lon = self.home
        defaults: dict[str, Any] = {"name": name, "home_lat": home_lat, "home_lon": home_lon}
        return await add_technician(
            self.client,
            self.dispatch,
            f"{name}-{self.suffix}",
            centre_id=self.centre,
            region_id=self.region,
            **{**defaults, **fields},
        )


async def open_work_order(client: Any, dispatch: DispatchUnderTest, **order: Any) -> dict[str, Any]:
    """A repair opened by the dispatcher (``order``: its fields, or ones replacing the defaults)."""
    r = await client.post(
        f"{dispatch.prefix}/work_orders",
        headers=dispatch.auth(*DISPATCHER),
        json={"type": "repair", "customer_id": "cust-1", "product_line": "water_heater", **order},
    )
    assert r.status_code == 201, r.text
    opened: dict[str, Any] = r.json()
    return opened


def appointment(start: datetime, length: timedelta = timedelta(hours=1)) -> dict[str, str]:
    return {"start": start.isoformat(), "end": (start + length).isoformat()}


async def assign(
    client: Any, dispatch: DispatchUnderTest, work_order_id: str, technician_id: str, visit: dict[str, str]
) -> None:
    """The dispatcher gives the order to the technician for the ``visit`` window."""
    r = await client.post(
        f"{dispatch.prefix}/work_orders/{work_order_id}/assign",
        headers=dispatch.auth(*DISPATCHER),
        json={"technician_id": technician_id, "appointment": visit},
    )
    assert r.status_code == 200, r.text


async def seed_network(client: Any, dispatch: DispatchUnderTest) -> None:
    auth = dispatch.auth(*DISPATCHER)
    p = dispatch.prefix
    if (await client.get(f"{p}/technicians", headers=auth)).json():
        return
    await add_centre_and_region(
        client, dispatch, grade="A", centre_id="paris-centre", region_id="paris", lat=48.86, lon=2.35
    )
    await add_technician(
        client,
        dispatch,
        TECH_ID,
        centre_id="paris-centre",
        region_id="paris",
        name="Camille",
        home_lat=48.85,
        home_lon=2.34,
    )


async def work_order_of(client: Any, dispatch: DispatchUnderTest, ticket_id: str) -> dict[str, Any]:
    auth = dispatch.auth(*DISPATCHER)
    for _ in range(150):
        r = await client.get(f"{dispatch.prefix}/work_orders", headers=auth)
        found: list[dict[str, Any]] = [w for w in r.json()["items"] if w["ticket_id"] == ticket_id]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    dl = await client.get(f"{dispatch.prefix}/admin/dead-letters", headers=dispatch.auth("a", "admin"))
    raise AssertionError(f"no work order opened for ticket {ticket_id}: {dl.text}")


async def once_billed(
    client: Any, dispatch: DispatchUnderTest, order: dict[str, Any], billing: str, *, tries: int
) -> dict[str, Any]:
    """The work order read again (every 0.1 s, ``tries`` times at most) until its billing is ``billing``;
    as last read."""
    for _ in range(tries):
        if order.get("billing") == billing:
            break
        await asyncio.sleep(0.1)
        response = await client.get(
            f"{dispatch.prefix}/work_orders/{order['id']}", headers=dispatch.auth(*DISPATCHER)
        )
        order = response.json()
    return order
