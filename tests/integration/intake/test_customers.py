"""The customer file through the HTTP API on real PostgreSQL: search, duplicates, merge, history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from intake_harness import AGENT, Intake, intake_service

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def intake() -> AsyncIterator[Intake]:
    async with intake_service() as harness:
        yield harness


async def test_customers_are_found_by_phone_email_name_and_company(intake: Intake) -> None:
    agent = intake.auth(*AGENT)
    r = await intake.call(
        "POST",
        "/customers",
        agent,
        json={
            "kind": "company",
            "name": "Dr. Hans Müller",
            "company_name": "Müller Haustechnik GmbH",
            "phones": [{"number": "030 7654321"}],
            "emails": ["Info@Mueller-Haustechnik.DE"],
            "addresses": [
                {
                    "line1": "Hauptstr. 1",
                    "city": "Berlin",
                    "postal_code": "10115",
                    "country": "DE",
                    "tier": "A",
                }
            ],
        },
    )
    assert r.status_code == 201, r.text
    customer = r.json()
    assert customer["phones"] == [{"number": "+49307654321", "kind": "landline"}]
    assert customer["tier"] == "A"
    for params in (
        {"phone": "+49 (30) 765-4321"},
        {"email": "info@mueller-haustechnik.de"},
        {"name": "muller hans"},
        {"company": "haustechnik"},
    ):
        found = await intake.call("GET", "/customers", agent, params=params)
        assert [c["id"] for c in found.json()["items"]] == [customer["id"]], params
    bad = await intake.call("GET", "/customers", agent, params={"phone": "12"})
    assert bad.status_code == 422 and bad.json()["type"].endswith("invalid-phone")


async def test_a_duplicate_is_reported_and_merged_with_its_tickets_and_history(intake: Intake) -> None:
    agent = intake.auth(*AGENT)
    first = await intake.call(
        "POST", "/customers", agent, json={"name": "Eva Schmidt", "phones": [{"number": "040 1112223"}]}
    )
    survivor_id = first.json()["id"]
    intake.clock.advance(timedelta(seconds=1))
    second = await intake.call(
        "POST",
        "/customers",
        agent,
        json={
            "name": "Schmidt, Eva",
            "phones": [{"number": "+49 40 1112223"}],
            "emails": ["eva@example.org"],
        },
    )
    duplicate_id = second.json()["id"]
    assert [d["customer_id"] for d in second.json()["possible_duplicates"]] == [survivor_id]
    ticket = await intake.call(
        "POST", "/tickets", agent, json={"channel": "email", "customer_id": duplicate_id}
    )
    await intake.call(
        "POST",
        f"/customers/{duplicate_id}/history",
        agent,
        json={"kind": "letter", "summary": "Sent the warranty card", "reference": "letter-1"},
    )

    found = (await intake.call("GET", f"/customers/{survivor_id}/duplicates", agent)).json()
    assert found[0]["customer_id"] == duplicate_id and found[0]["score"] >= 60
    stale = await intake.call(
        "POST",
        f"/customers/{survivor_id}/merge",
        agent,
        headers={"If-Match": 'W/"7"'},
        json={"absorbed_id": duplicate_id},
    )
    assert stale.status_code == 412
    r = await intake.call(
        "POST", f"/customers/{survivor_id}/merge", agent, json={"absorbed_id": duplicate_id}
    )
    assert r.status_code == 200, r.text
    merged = r.json()
    assert merged["tickets_moved"] == 1
    assert merged["customer"]["emails"] == ["eva@example.org"]

    moved = (await intake.call("GET", f"/tickets/{ticket.json()['id']}", agent)).json()
    assert moved["customer_id"] == survivor_id
    history = (await intake.call("GET", f"/customers/{survivor_id}/history", agent)).json()["items"]
    assert {h["kind"] for h in history} == {"ticket", "letter"}
    assert all(h["merged_from"] == duplicate_id for h in history)
    absorbed = (await intake.call("GET", f"/customers/{duplicate_id}", agent)).json()
    assert absorbed["merged_into"] == survivor_id
    by_phone = (await intake.call("GET", "/customers", agent, params={"phone": "0401112223"})).json()["items"]
    assert [c["id"] for c in by_phone] == [survivor_id]
    event = await intake.event("intake.customer.merged.v1", customer_id=survivor_id)
    assert event["merged_customer_ids"] == [duplicate_id]
    again = await intake.call(
        "POST", f"/customers/{survivor_id}/merge", agent, json={"absorbed_id": duplicate_id}
    )
    assert again.status_code == 409 and again.json()["type"].endswith("customer-merged")
