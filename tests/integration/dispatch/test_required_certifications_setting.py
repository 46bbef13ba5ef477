"""Work orders on a product line the operator set certifications for (DISPATCH_REQUIRED_CERTIFICATIONS)
require them, whether opened from intake's ticket (RabbitMQ) or by the API, on real PostgreSQL; a list
given through the API adds to them, and other product lines are left alone."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from dispatch_harness import (
    DISPATCHER,
    T0,
    DispatchUnderTest,
    add_centre_and_region,
    ticket_created,
    work_order_of,
)

from dispatch.settings import dispatch_settings
from kit.clock import ManualClock

pytestmark = pytest.mark.integration

REFRIGERANT = "refrigerant_handling"
BY_LINE = {"air_conditioner": [REFRIGERANT], "gas_boiler": ["gas_safe"]}


@pytest.fixture
def certifications_by_line(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The operator's setting, as the environment of the dispatch process gives it."""
    monkeypatch.setenv("DISPATCH_REQUIRED_CERTIFICATIONS", json.dumps(BY_LINE))
    dispatch_settings.cache_clear()
    yield
    dispatch_settings.cache_clear()  # the next reader sees the environment restored


async def test_orders_opened_from_tickets_require_their_lines_certifications(
    dispatch: DispatchUnderTest, certifications_by_line: None
) -> None:
    async with dispatch.client(dispatch.app(ManualClock(T0), roles={"consumer"})) as client:
        air_conditioner, water_heater = str(uuid.uuid4()), str(uuid.uuid4())
        ac_ticket = ticket_created(air_conditioner)
        ac_ticket["details"]["product"] = {
            "serial_number": "AC-2001",
            "model_code": "AC-9000",
            "product_line": "air_conditioner",
        }
        await dispatch.deliver("intake.ticket.created.v1", ac_ticket)
        await dispatch.deliver("intake.ticket.created.v1", ticket_created(water_heater))

        ac_order = await work_order_of(client, dispatch, air_conditioner)
        wh_order = await work_order_of(client, dispatch, water_heater)

        assert ac_order["required_certifications"] == [REFRIGERANT]
        assert wh_order["required_certifications"] == []


async def test_a_list_given_through_the_api_adds_to_the_lines_certifications(
    dispatch: DispatchUnderTest, certifications_by_line: None
) -> None:
    async with dispatch.client(dispatch.app(ManualClock(T0), roles=set())) as client:
        p, auth = dispatch.prefix, dispatch.auth(*DISPATCHER)
        await add_centre_and_region(
            client, dispatch, name="Gas", centre_id="gas-centre", region_id="gas-region"
        )
        order = {"type": "repair", "region_id": "gas-region", "customer_id": "cust-1"}

        listed = await client.post(
            f"{p}/work_orders",
            headers=auth,
            json={**order, "product_line": "gas_boiler", "required_certifications": ["working_at_height"]},
        )
        defaults_only = await client.post(
            f"{p}/work_orders", headers=auth, json={**order, "product_line": "gas_boiler"}
        )

        assert listed.status_code == 201, listed.text
        assert sorted(listed.json()["required_certifications"]) == ["gas_safe", "working_at_height"]
        assert defaults_only.json()["required_certifications"] == ["gas_safe"]
        # the requirement is the order's own: it is stored with it
        stored = await client.get(f"{p}/work_orders/{listed.json()['id']}", headers=auth)
        assert sorted(stored.json()["required_certifications"]) == ["gas_safe", "working_at_height"]


async def test_preventive_visits_on_the_line_require_its_certifications(
    dispatch: DispatchUnderTest, certifications_by_line: None
) -> None:
    app = dispatch.app(ManualClock(T0), roles=set())
    async with dispatch.client(app) as client:
        p, auth = dispatch.prefix, dispatch.auth(*DISPATCHER)
        suffix = uuid.uuid4().hex[:6]
        await add_centre_and_region(
            client, dispatch, name="Lyon", centre_id=f"c-{suffix}", region_id=f"r-{suffix}"
        )
        r = await client.post(
            f"{p}/maintenance_plans",
            headers=auth,
            json={
                "serial_number": f"AC-{suffix}",
                "customer_id": "cust-1",
                "product_line": "air_conditioner",
                "region_id": f"r-{suffix}",
                "site": {"line1": "1 Place Bellecour", "city": "Lyon", "country": "FR"},
                "starts_on": "2026-01-15",
                "ends_on": "2026-12-31",
                "lead_days": 40,  # the first visit, due on 15 April, is requested at once
            },
        )
        assert r.status_code == 201, r.text

        assert await app.state.runtime.scheduler.run_due() >= 1

        [visit] = (await client.get(f"{p}/maintenance_plans/{r.json()['id']}", headers=auth)).json()["visits"]
        order = (await client.get(f"{p}/work_orders/{visit['work_order_id']}", headers=auth)).json()
        assert (order["type"], order["required_certifications"]) == ("preventive_maintenance", [REFRIGERANT])
