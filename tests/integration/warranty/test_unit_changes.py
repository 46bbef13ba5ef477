"""Units on real PostgreSQL and RabbitMQ: registered and installed from completed installation jobs,
completed by the dealer's card, and every change announced as ``warranty.unit.updated.v1``."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from warranty_harness import Warranty

from contracts.common import ProductRef
from contracts.dispatch import WorkOrderCompleted

pytestmark = pytest.mark.integration

TODAY = datetime.now(UTC).date()
DEALER = "dealer-inst"


def _id() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture(scope="module", autouse=True)
async def catalogue(warranty: Warranty) -> None:
    line = {"name": "Water heaters", "standard_repairs": [{"fault_code": "W1", "standard_minutes": 45}]}
    assert (
        await warranty.call("PUT", "/product-lines/WH", "warranty_reviewer", json=line)
    ).status_code == 200
    model = {"name": "WH 80 l", "line_code": "WH", "grade": "80l"}
    assert (
        await warranty.call("PUT", "/product-models/WH-80", "warranty_reviewer", json=model)
    ).status_code == 200
    policy = {"policy_id": "WH-STD", "version": 1, "effective_from": "2020-01-01", "line_code": "WH"}
    assert (await warranty.call("POST", "/policies", "warranty_reviewer", json=policy)).status_code == 201


def _installation(
    serial: str, on: date, *, technician: str = "tech-7", dealer: str | None = DEALER
) -> WorkOrderCompleted:
    return WorkOrderCompleted(
        work_order_id="wo-" + _id(),
        work_order_number="WO-" + _id()[:8],
        version=4,
        dealer_id=dealer,
        technician_id=technician,
        type="installation",
        customer_id="cust-" + _id(),
        product=ProductRef(serial_number=serial, model_code="WH-80"),
        billing="customer",
        mode="on_site",
        labour_minutes=120,
        first_time_fix=True,
        completed_at=datetime.combine(on, time(15), tzinfo=UTC),
    )


async def _register(w: Warranty, *, sold_days_ago: int = 10) -> str:
    serial = "WH-" + _id()
    body = {
        "serial": serial,
        "model_code": "WH-80",
        "customer_id": "cust-" + _id(),
        "sold_on": (TODAY - timedelta(days=sold_days_ago)).isoformat(),
    }
    response = await w.call("POST", "/units", "dealer", dealer_id=DEALER, json=body)
    assert response.status_code == 201, response.text
    return serial


async def test_a_completed_installation_job_sets_the_installation_date_and_installer(
    warranty: Warranty,
) -> None:
    serial = await _register(warranty)
    installed_on = TODAY - timedelta(days=3)
    await warranty.publish(_installation(serial, installed_on))
    updated = await warranty.event("warranty.unit.updated.v1", serial_number=serial)
    assert set(updated["changed_fields"]) == {"installation_date", "installer_id"}
    assert updated["unit"]["installation_date"] == installed_on.isoformat()
    assert updated["unit"]["installer_id"] == "tech-7"
    assert updated["unit"]["warranty_starts_on"] == installed_on.isoformat()
    unit = (await warranty.call("GET", f"/units/{serial}", "agent")).json()
    assert (unit["installed_on"], unit["installer_id"], unit["version"]) == (
        installed_on.isoformat(),
        "tech-7",
        2,
    )


async def test_a_second_installation_job_does_not_restart_the_warranty(warranty: Warranty) -> None:
    serial = await _register(warranty)
    first = _installation(serial, TODAY - timedelta(days=5))
    await warranty.publish(first)
    await warranty.event("warranty.unit.updated.v1", serial_number=serial)
    await warranty.consumed(await warranty.publish(_installation(serial, TODAY, technician="tech-9")))
    assert len(warranty.events("warranty.unit.updated.v1", serial_number=serial)) == 1
    unit = (await warranty.call("GET", f"/units/{serial}", "agent")).json()
    assert (unit["installer_id"], unit["version"]) == ("tech-7", 2)


async def test_an_installation_of_an_unregistered_unit_registers_it_until_the_dealers_card_states_the_sale(
    warranty: Warranty,
) -> None:
    serial = "WH-" + _id()
    installed_on = TODAY - timedelta(days=2)
    await warranty.publish(_installation(serial, installed_on))
    registered = await warranty.event("warranty.unit.registered.v1", serial_number=serial)
    assert registered["channel"] == "installation"
    assert registered["dealer_id"] == DEALER
    assert registered["unit"]["installer_id"] == "tech-7"
    unit = (await warranty.call("GET", f"/units/{serial}", "dealer", dealer_id=DEALER)).json()
    assert unit["sale_date_known"] is False
    assert unit["registration_status"] == "pending"

    sold_on = TODAY - timedelta(days=9)
    card = await warranty.call(
        "POST",
        f"/units/{serial}/registration-card",
        "dealer",
        dealer_id=DEALER,
        json={"sold_on": sold_on.isoformat()},
    )
    assert card.status_code == 200, card.text
    assert card.json()["sold_on"] == sold_on.isoformat()
    assert card.json()["registration_status"] == "on_time"
    updated = await warranty.event("warranty.unit.updated.v1", serial_number=serial)
    assert {"sale_date", "registration_card_received_on"} <= set(updated["changed_fields"])


async def test_a_dealers_card_counts_on_the_day_it_arrives(warranty: Warranty) -> None:
    serial = "WH-" + _id()
    body = {
        "serial": serial,
        "model_code": "WH-80",
        "customer_id": "c-1",
        "sold_on": (TODAY - timedelta(days=30)).isoformat(),
        "card_received_on": (TODAY - timedelta(days=25)).isoformat(),
    }
    backdated = await warranty.call("POST", "/units", "dealer", dealer_id=DEALER, json=body)
    assert backdated.status_code == 403
    assert backdated.json()["type"].endswith("card-date-is-arrival")
    del body["card_received_on"]
    registered = await warranty.call("POST", "/units", "dealer", dealer_id=DEALER, json=body)
    assert registered.json()["card_received_on"] == TODAY.isoformat()
    assert registered.json()["registration_status"] == "late"  # day 30 after the sale


async def test_installation_and_card_take_if_match_and_refuse_a_stale_write(warranty: Warranty) -> None:
    serial = await _register(warranty)
    unit = await warranty.call("GET", f"/units/{serial}", "agent")
    etag = unit.headers["ETag"]
    body = {"installed_on": TODAY.isoformat(), "installer_id": "tech-1"}
    first = await warranty.call(
        "POST", f"/units/{serial}/installation", "agent", json=body, headers={"If-Match": etag}
    )
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] != etag
    stale = await warranty.call(
        "POST", f"/units/{serial}/registration-card", "agent", json={}, headers={"If-Match": etag}
    )
    assert stale.status_code == 412


async def test_every_change_of_a_unit_is_announced_with_a_newer_version(warranty: Warranty) -> None:
    serial = await _register(warranty)
    contract = {"contract_id": "k-" + _id(), "tier": "premium", "starts_on": TODAY.isoformat(), "months": 12}
    assert (
        await warranty.call("POST", f"/units/{serial}/contracts", "agent", json=contract)
    ).status_code == 201
    transfer = {"to_customer_id": "new-owner", "transferred_on": TODAY.isoformat()}
    assert (
        await warranty.call("POST", f"/units/{serial}/transfer", "agent", json=transfer)
    ).status_code == 200
    await warranty.event("warranty.unit.transferred.v1", serial_number=serial, version=3)
    contract_update = await warranty.event("warranty.unit.updated.v1", serial_number=serial, version=2)
    assert contract_update["changed_fields"] == ["service_contracts"]
    owner_update = await warranty.event("warranty.unit.updated.v1", serial_number=serial, version=3)
    assert set(owner_update["changed_fields"]) == {"customer_id", "owners"}
    assert owner_update["unit"]["customer_id"] == "new-owner"
