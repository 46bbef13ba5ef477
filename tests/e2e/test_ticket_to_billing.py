"""Choreography across services: a ticket event reaches warranty and dispatch, and dispatch bills the
work order from warranty's entitlement decision — no service reads another's data."""

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from dispatch_harness import (
    DISPATCHER,
    DispatchUnderTest,
    seed_network,
    ticket_created,
    work_order_of,
)
from warranty_harness import running_warranty

from kit.clock import ManualClock

pytestmark = pytest.mark.e2e


async def test_a_covered_units_ticket_opens_a_work_order_billed_to_the_warranty() -> None:
    dispatch = DispatchUnderTest()
    await dispatch.setup()
    try:
        async with running_warranty() as warranty:
            line = {"code": "WH", "name": "Water heaters"}
            assert (
                await warranty.call("PUT", "/product-lines/WH", "warranty_reviewer", json=line)
            ).status_code == 200
            model = {"code": "WH-80", "name": "Water heater 80 l", "line_code": "WH", "grade": "B"}
            assert (
                await warranty.call("PUT", "/product-models/WH-80", "warranty_reviewer", json=model)
            ).status_code == 200
            policy = {"policy_id": "WH-STD", "version": 1, "effective_from": "2020-01-01", "line_code": "WH"}
            assert (await warranty.call("POST", "/policies", "admin", json=policy)).status_code == 201
            serial = "SN-E2E-" + uuid.uuid4().hex[:6]
            sold_on = (date.today() - timedelta(days=100)).isoformat()
            registered = await warranty.call(
                "POST",
                "/units",
                "dealer",
                dealer_id="D-E2E",
                json={"serial": serial, "model_code": "WH-80", "customer_id": "cust-1", "sold_on": sold_on},
            )
            assert registered.status_code == 201, registered.text

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
                for _ in range(100):
                    if order.get("billing") == "warranty":
                        break
                    await asyncio.sleep(0.1)
                    response = await client.get(
                        f"{dispatch.prefix}/work_orders/{order['id']}", headers=dispatch.auth(*DISPATCHER)
                    )
                    order = response.json()
                assert order["billing"] == "warranty"
    finally:
        await dispatch.teardown()
