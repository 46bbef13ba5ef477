"""The whole choreography from the front desk, on real PostgreSQL and RabbitMQ: an agent opens a ticket
over intake's HTTP API; warranty decides the entitlement; dispatch opens the work order and bills it to the
warranty; and the agent sees both on the ticket's timeline — each service from its own data only."""

import asyncio
import uuid
from datetime import timedelta

import pytest
from dispatch_harness import once_billed, running_dispatch, seed_network, work_order_of
from intake_harness import AGENT, T0, intake_service
from warranty_harness import register_water_heater, running_warranty

from kit.clock import ManualClock

pytestmark = pytest.mark.e2e


async def test_a_ticket_opened_at_the_desk_is_decided_dispatched_and_shown_to_the_agent() -> None:
    async with running_dispatch() as dispatch, running_warranty() as warranty:
        serial = "SN-DESK-" + uuid.uuid4().hex[:6]
        sold_on = (T0.date() - timedelta(days=100)).isoformat()  # well inside the repair period
        await register_water_heater(warranty, serial, sold_on)

        app = dispatch.app(ManualClock(T0), roles={"api", "relay", "consumer", "scheduler"})
        async with dispatch.client(app) as client, intake_service() as intake:
            await seed_network(client, dispatch)
            opened = await intake.call(
                "POST",
                "/tickets",
                intake.auth(*AGENT),
                json={
                    "channel": "phone",
                    "type": "repair",
                    "contact": {"name": "Hans Müller", "phone": "030 1234567"},
                    "product": {"model_code": "WH-80", "serial_number": serial},
                    "fault_description": "No hot water since this morning",
                    "needs_on_site": True,
                    "site_address": {
                        "line1": "Hauptstr. 1",
                        "city": "Berlin",
                        "postal_code": "10115",
                        "country": "DE",
                        "region_code": "berlin",
                    },
                },
            )
            assert opened.status_code == 201, opened.text
            ticket_id = opened.json()["id"]

            decision = await warranty.event("warranty.entitlement.determined.v1", ticket_id=ticket_id)
            assert (decision["coverage"], decision["billing"]) == ("covered", "warranty")

            order = await work_order_of(client, dispatch, ticket_id)
            order = await once_billed(client, dispatch, order, "warranty", tries=150)
            assert order["billing"] == "warranty"

            async def timeline() -> set[str]:
                r = await intake.call("GET", f"/tickets/{ticket_id}/timeline", intake.auth(*AGENT))
                return {entry["kind"] for entry in r.json()["items"]}

            for _ in range(150):
                if {"entitlement_determined", "work_order_created"} <= await timeline():
                    break
                await asyncio.sleep(0.1)
            assert {"opened", "entitlement_determined", "work_order_created"} <= await timeline()
