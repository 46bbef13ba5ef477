"""Dealers edit their own draft claims (and claims returned for information) with ETag/If-Match,
then submit them; a submitted claim can no longer be edited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from warranty_harness import Warranty

pytestmark = pytest.mark.integration

TODAY = datetime.now(UTC).date()
DEALER = "dealer-drafts"


def _content(labour_minutes: int = 60, labour: str = "45.00") -> dict[str, Any]:
    return {
        "fault_code": "G1",
        "cause": "product_defect",
        "failed_on": TODAY.isoformat(),
        "repaired_on": TODAY.isoformat(),
        "labour_minutes": labour_minutes,
        "labour_amount": {"amount": labour},
        "customer_signature_ref": "sig-1",
    }


@pytest.fixture(scope="module")
async def catalogue(warranty: Warranty) -> None:
    line = {"name": "Dryers", "standard_repairs": [{"fault_code": "G1", "standard_minutes": 60}]}
    assert (
        await warranty.call("PUT", "/product-lines/DR", "warranty_reviewer", json=line)
    ).status_code == 200
    model = {"name": "Dryer 8 kg", "line_code": "DR", "grade": "8"}
    assert (
        await warranty.call("PUT", "/product-models/DR-8", "warranty_reviewer", json=model)
    ).status_code == 200
    policy = {"policy_id": "DR-STD", "version": 1, "effective_from": "2020-01-01", "line_code": "DR"}
    assert (await warranty.call("POST", "/policies", "warranty_reviewer", json=policy)).status_code == 201


@pytest.fixture
async def serial(warranty: Warranty, catalogue: None) -> str:
    """A unit of the dealer's (one per test: a second claim for the same repair is a duplicate)."""
    serial = "DR-" + uuid.uuid4().hex[:10]
    unit = {
        "serial": serial,
        "model_code": "DR-8",
        "customer_id": "c-1",
        "sold_on": (TODAY - timedelta(days=2)).isoformat(),
    }
    registered = await warranty.call("POST", "/units", "dealer", dealer_id=DEALER, json=unit)
    assert registered.status_code == 201
    assert (
        registered.headers["ETag"]
        == (await warranty.call("GET", f"/units/{serial}", "admin")).headers["ETag"]
    )
    return serial


async def _draft(w: Warranty, serial: str) -> Any:
    response = await w.call(
        "POST", "/claims", "dealer", dealer_id=DEALER, json={**_content(240, "180.00"), "serial": serial}
    )
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "draft"
    return response


async def test_a_dealer_corrects_its_draft_and_submits_it(warranty: Warranty, serial: str) -> None:
    draft = await _draft(warranty, serial)
    claim_id = draft.json()["claim_id"]
    etag = draft.headers["ETag"]  # the create answers with the version to edit against
    assert (await warranty.call("GET", f"/claims/{claim_id}", "dealer", dealer_id=DEALER)).headers[
        "ETag"
    ] == etag
    edited = await warranty.call(
        "PUT", f"/claims/{claim_id}", "dealer", dealer_id=DEALER, json=_content(), headers={"If-Match": etag}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["state"] == "draft"
    assert edited.json()["claimed"] == {"amount": "45.00", "currency": "EUR"}
    assert edited.json()["history"][-1]["action"] == "revise"
    submitted = await warranty.call(
        "POST",
        f"/claims/{claim_id}/submit",
        "dealer",
        dealer_id=DEALER,
        headers={"If-Match": edited.headers["ETag"]},
    )
    assert submitted.json()["state"] == "approved"  # the corrected labour time is within the standard
    again = await warranty.call(
        "PUT", f"/claims/{claim_id}", "dealer", dealer_id=DEALER, json=_content(30, "22.50")
    )
    assert again.status_code == 409
    assert again.json()["allowed_actions"] == ["settle"]


async def test_an_edit_from_a_stale_copy_is_refused(warranty: Warranty, serial: str) -> None:
    draft = await _draft(warranty, serial)
    claim_id = draft.json()["claim_id"]
    etag = draft.headers["ETag"]  # the create answers with the version to edit against
    assert (await warranty.call("GET", f"/claims/{claim_id}", "dealer", dealer_id=DEALER)).headers[
        "ETag"
    ] == etag
    first = await warranty.call(
        "PUT", f"/claims/{claim_id}", "agent", json=_content(), headers={"If-Match": etag}
    )
    assert first.status_code == 200
    stale = await warranty.call(
        "PUT",
        f"/claims/{claim_id}",
        "dealer",
        dealer_id=DEALER,
        json=_content(90, "67.50"),
        headers={"If-Match": etag},
    )
    assert stale.status_code == 412
    current = (await warranty.call("GET", f"/claims/{claim_id}", "dealer", dealer_id=DEALER)).json()
    assert current["claimed"]["amount"] == "45.00"


async def test_a_claim_returned_for_information_is_edited_and_resubmitted(
    warranty: Warranty, serial: str
) -> None:
    draft = await _draft(warranty, serial)
    claim_id = draft.json()["claim_id"]
    submitted = await warranty.call("POST", f"/claims/{claim_id}/submit", "dealer", dealer_id=DEALER)
    assert submitted.json()["state"] == "under_review"  # four hours against a standard of one
    returned = await warranty.call(
        "POST", f"/claims/{claim_id}/return", "warranty_reviewer", json={"questions": "Why four hours?"}
    )
    assert returned.json()["state"] == "returned_for_information"
    edited = await warranty.call("PUT", f"/claims/{claim_id}", "dealer", dealer_id=DEALER, json=_content())
    assert edited.status_code == 200, edited.text
    resubmitted = await warranty.call("POST", f"/claims/{claim_id}/submit", "dealer", dealer_id=DEALER)
    assert resubmitted.json()["state"] == "approved"
