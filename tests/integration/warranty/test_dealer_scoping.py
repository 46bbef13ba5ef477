"""A dealer's token sees and changes only its own units, claims and statements; staff-only actions
refuse it. One case per route of the app: a route added without its case fails
``test_every_route_of_the_app_has_a_dealer_scoping_case``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from warranty_harness import Warranty

pytestmark = pytest.mark.integration

TODAY = datetime.now(UTC).date()
MINE = "dealer-east"
THEIRS = "dealer-west"


def _id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class World:
    """What belongs to dealer MINE: a unit, a draft claim on it, and an issued statement."""

    serial: str
    claim_id: str
    statement_id: str


Body = Callable[[World], dict[str, Any]] | None


@dataclass(frozen=True)
class Case:
    """How one route treats dealers.

    - ``own``: MINE's token gets ``status``; THEIRS gets 404 (another dealer's data does not exist for it)
    - ``own_list``: MINE's token lists MINE's item; THEIRS's does not
    - ``for_itself``: THEIRS acting in MINE's name gets 403; THEIRS for itself gets ``status``
    - ``staff``: any dealer token gets 403
    - ``shared``: the product catalogue, the same for every caller (no dealer's data)
    """

    method: str
    path: str
    rule: str
    status: int = 200
    body: Body = None
    query: str = ""
    listed: Callable[[World], str] = field(default=lambda w: w.serial)

    @property
    def route(self) -> tuple[str, str]:
        return self.method, self.path

    def url(self, world: World) -> str:
        path = self.path.format(
            serial=world.serial,
            claim_id=world.claim_id,
            statement_id=world.statement_id,
            code="HP-8",
            event_id="e-1",
        )
        return path + (f"?{self.query}" if self.query else "")


def _unit(dealer_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "serial": "HP-" + _id(),
        "model_code": "HP-8",
        "customer_id": "c-" + _id(),
        "sold_on": (TODAY - timedelta(days=5)).isoformat(),
    }
    return body if dealer_id is None else {**body, "dealer_id": dealer_id}


def _claim_content() -> dict[str, Any]:
    return {
        "fault_code": "H1",
        "cause": "product_defect",
        "failed_on": (TODAY - timedelta(days=2)).isoformat(),
        "repaired_on": (TODAY - timedelta(days=1)).isoformat(),
        "labour_minutes": 90,
        "labour_amount": {"amount": "67.50"},
        "parts": [
            {"part_number": "PUMP-1", "amount": {"amount": "80.00"}, "old_part_serial": "OLD-" + _id()}
        ],
        "customer_signature_ref": "sig-1",
    }


def _claim(serial: str, dealer_id: str | None = None) -> dict[str, Any]:
    body = {**_claim_content(), "serial": serial}
    return body if dealer_id is None else {**body, "dealer_id": dealer_id}


CASES = [
    # catalogue: shared reading, staff writing
    Case("PUT", "/product-lines/{code}", "staff", body=lambda w: {"name": "x"}),
    Case(
        "PUT",
        "/product-models/{code}",
        "staff",
        body=lambda w: {"name": "x", "line_code": "HP", "grade": "B"},
    ),
    Case("GET", "/product-models", "shared"),
    Case("GET", "/product-models/{code}", "shared"),
    Case(
        "POST",
        "/policies",
        "staff",
        body=lambda w: {
            "policy_id": "P-" + _id(),
            "version": 1,
            "effective_from": "2020-01-01",
            "line_code": "HP",
        },
    ),
    Case("GET", "/policies", "shared"),
    # units
    Case("POST", "/units", "for_itself", 201, body=lambda w: _unit(MINE)),
    Case("POST", "/units/bulk", "for_itself", 201, body=lambda w: {"units": [_unit(MINE)]}),
    Case("GET", "/units", "own_list"),
    Case("GET", "/units/{serial}", "own"),
    Case("POST", "/units/{serial}/installation", "own", body=lambda w: {"installed_on": TODAY.isoformat()}),
    Case("POST", "/units/{serial}/registration-card", "own", body=lambda w: {}),
    Case(
        "POST",
        "/units/{serial}/transfer",
        "own",
        body=lambda w: {"to_customer_id": "c-" + _id(), "transferred_on": TODAY.isoformat()},
    ),
    Case(
        "POST",
        "/units/{serial}/contracts",
        "own",
        201,
        body=lambda w: {
            "contract_id": "k-" + _id(),
            "tier": "standard",
            "starts_on": TODAY.isoformat(),
            "months": 12,
        },
    ),
    # entitlements
    Case("POST", "/entitlements", "own", 201, body=lambda w: {"serial": w.serial, "at": TODAY.isoformat()}),
    Case("GET", "/units/{serial}/entitlement", "own", query=f"at={TODAY.isoformat()}&fault=H1"),
    # claims
    Case("POST", "/claims", "for_itself", 201, body=lambda w: _claim(w.serial, MINE)),
    Case("GET", "/claims", "own_list", listed=lambda w: w.claim_id),
    Case("GET", "/claims/{claim_id}", "own"),
    Case("PUT", "/claims/{claim_id}", "own", body=lambda w: _claim_content()),
    Case("POST", "/claims/{claim_id}/submit", "own"),
    Case("POST", "/claims/{claim_id}/approve", "staff"),
    Case(
        "POST",
        "/claims/{claim_id}/partially-approve",
        "staff",
        body=lambda w: {"removed_lines": {"labour": "no"}},
    ),
    Case("POST", "/claims/{claim_id}/reject", "staff", body=lambda w: {"reasons": ["no"]}),
    Case("POST", "/claims/{claim_id}/return", "staff", body=lambda w: {"questions": "why?"}),
    # settlements and reports
    Case(
        "POST",
        "/settlements",
        "staff",
        body=lambda w: {"dealer_id": MINE, "period_start": "2020-01-01", "period_end": "2020-01-31"},
    ),
    Case("GET", "/settlements", "own_list", listed=lambda w: w.statement_id),
    Case("GET", "/settlements/{statement_id}", "own"),
    Case("GET", "/settlements/{statement_id}/csv", "own"),
    Case("POST", "/settlements/{statement_id}/approve", "staff"),
    Case("GET", "/statistics/faults", "staff", query="month=2026-01"),
    Case("GET", "/statistics/faults.csv", "staff", query="month=2026-01"),
    # operations (the kit's, under the service's prefix)
    Case("GET", "/admin/dead-letters", "staff"),
    Case("GET", "/admin/dead-letters/{event_id}", "staff"),
    Case("DELETE", "/admin/dead-letters/{event_id}", "staff"),
    Case("POST", "/admin/dead-letters/replay", "staff", body=lambda w: {"event_ids": ["e-1"]}),
    Case("GET", "/admin/outbox", "staff"),
]


@pytest.fixture(scope="module")
async def statement_id(warranty: Warranty) -> str:
    """An issued statement of dealer MINE (one approved claim)."""
    line = {"name": "Heat pumps", "standard_repairs": [{"fault_code": "H1", "standard_minutes": 90}]}
    assert (await warranty.call("PUT", "/product-lines/HP", "admin", json=line)).status_code == 200
    model = {"name": "HP 8 kW", "line_code": "HP", "grade": "B", "bill_of_materials": ["PUMP-1"]}
    assert (await warranty.call("PUT", "/product-models/HP-8", "admin", json=model)).status_code == 200
    policy = {"policy_id": "HP-STD", "version": 1, "effective_from": "2020-01-01", "line_code": "HP"}
    assert (await warranty.call("POST", "/policies", "warranty_reviewer", json=policy)).status_code == 201
    unit = _unit()
    assert (await warranty.call("POST", "/units", "dealer", dealer_id=MINE, json=unit)).status_code == 201
    claim = await warranty.call(
        "POST", "/claims", "dealer", dealer_id=MINE, json={**_claim(unit["serial"]), "submit": True}
    )
    assert claim.json()["state"] == "approved", claim.text
    period = {
        "dealer_id": MINE,
        "period_start": TODAY.replace(day=1).isoformat(),
        "period_end": TODAY.isoformat(),
    }
    issued = await warranty.call("POST", "/settlements", "finance", json=period)
    assert issued.status_code == 201, issued.text
    return str(issued.json()["statement_id"])


@pytest.fixture
async def world(warranty: Warranty, statement_id: str) -> World:
    unit = _unit()
    assert (await warranty.call("POST", "/units", "dealer", dealer_id=MINE, json=unit)).status_code == 201
    claim = await warranty.call("POST", "/claims", "dealer", dealer_id=MINE, json=_claim(unit["serial"]))
    assert claim.status_code == 201, claim.text
    return World(unit["serial"], claim.json()["claim_id"], statement_id)


async def test_every_route_of_the_app_has_a_dealer_scoping_case(warranty: Warranty) -> None:
    prefix = warranty.base
    routes = {
        (method.upper(), path.removeprefix(prefix))
        for path, operations in warranty.running_app.openapi()["paths"].items()
        if path.startswith(prefix + "/")
        for method in operations
    }
    assert routes == {case.route for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
async def test_a_dealer_sees_and_changes_only_its_own(warranty: Warranty, world: World, case: Case) -> None:
    url = case.url(world)
    body = case.body(world) if case.body else None

    async def call(dealer: str, json: dict[str, Any] | None = body) -> Any:
        return await warranty.call(case.method, url, "dealer", dealer_id=dealer, json=json)

    if case.rule == "own":
        assert (await call(THEIRS)).status_code == 404
        mine = await call(MINE)
        assert mine.status_code == case.status, mine.text
    elif case.rule == "own_list":
        assert case.listed(world) in (await call(MINE)).text
        assert case.listed(world) not in (await call(THEIRS)).text
    elif case.rule == "for_itself":
        assert (await call(THEIRS)).status_code == 403  # the body names MINE
        response = await call(THEIRS, _without_dealer(body))
        assert response.status_code == case.status, response.text
        assert THEIRS in response.text
        assert MINE not in response.text
    elif case.rule == "staff":
        assert (await call(MINE)).status_code == 403
    else:
        assert case.rule == "shared"
        assert (await call(MINE)).status_code == 200


def _without_dealer(body: dict[str, Any] | None) -> dict[str, Any] | None:
    if body is None:
        return None
    if "units" in body:
        return {"units": [{k: v for k, v in u.items() if k != "dealer_id"} for u in body["units"]]}
    return {k: v for k, v in body.items() if k != "dealer_id"}
