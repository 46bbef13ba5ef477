"""Choreography across services: a ticket event reaches warranty and dispatch, and dispatch bills the
work order from warranty's entitlement decision — no service reads another's data."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from dispatch_harness import once_billed, running_dispatch, seed_network, ticket_created, work_order_of
from warranty_harness import register_water_heater, running_warranty

from kit.clock import ManualClock

pytestmark = pytest.mark.e2e


async def test_a_covered_units_ticket_opens_a_work_order_billed_to_the_warranty() -> None:
    async with running_dispatch() as dispatch, running_warranty() as warranty:
        serial = "SN-E2E-" + uuid.uuid4().hex[:6]
        sold_on = (date.today() - timedelta(days=100)).isoformat()
        await register_water_heater(warranty, serial, sold_on)

        app = dispatch.app(ManualClock(datetime.now(UTC)), roles={"api", "relay", "consumer"})
        async with dispatch.client(app) as client:
            await seed_network(client, dispatch)
            ticket_id = str(uuid.uuid4())
            event = ticket_created(ticket_id)
            event["details"]["product"]["serial_number"] = serial
            event["opened_at"] = datetime.now(UTC).isoformat()
            await dispatch.publish("intake.ticket.created.v1", event, at=datetime.now(UTC))

            decision = await warranty.event("warranty.entitlement.determined.v1", ticket_id=ticket_id)
            assert decision["coverage"] == "covered"
            assert decision["billing"] == "warranty"

            order = await work_order_of(client, dispatch, ticket_id)
            order = await once_billed(client, dispatch, order, "warranty", tries=100)
            assert order["billing"] == "warranty"
