"""Shared catalogue for the warranty rule tests: one air-conditioner line, one model, one policy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from kit.domain import Money
from warranty.domain.claims import Claim, RepairRecord, ReplacedPart
from warranty.domain.policy import (
    FaultCause,
    PartCost,
    ProductLine,
    ProductModel,
    StandardRepair,
    WarrantyPolicy,
)
from warranty.domain.units import RegisteredUnit

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
#: units are registered after every installation the tests record
REGISTERED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


COMPRESSOR = PartCost("CMP-100", eur("180.00"))
E4_REPAIR = StandardRepair("E4", standard_minutes=90, typical_parts=(COMPRESSOR,))


@pytest.fixture
def line() -> ProductLine:
    return ProductLine("AC", "Split air conditioners", standard_repairs={"E4": E4_REPAIR})


@pytest.fixture
def model() -> ProductModel:
    return ProductModel(
        code="AC-3500",
        name="Split AC 3.5 kW",
        line_code="AC",
        grade="3.5kW-standard",
        bill_of_materials=frozenset({"CMP-100", "FAN-20", "PCB-7"}),
    )


@pytest.fixture
def policy() -> WarrantyPolicy:
    return WarrantyPolicy(policy_id="AC-STD", version=1, effective_from=date(2020, 1, 1), line_code="AC")


MakeUnit = Callable[..., RegisteredUnit]


@pytest.fixture
def make_unit() -> MakeUnit:
    def make(
        *,
        serial: str = "SN-1",
        sold_on: date = date(2026, 1, 10),
        installed_on: date | None = None,
        accepted_on: date | None = None,
        card_received_on: date | None = date(2026, 1, 15),
        dealer_id: str = "D-1",
    ) -> RegisteredUnit:
        return RegisteredUnit.register(
            serial=serial,
            model_code="AC-3500",
            customer_id="C-1",
            dealer_id=dealer_id,
            sold_on=sold_on,
            at=REGISTERED_AT,
            actor="dealer:D-1",
            installed_on=installed_on,
            accepted_on=accepted_on,
            installer_id="T-7" if installed_on else None,
            card_received_on=card_received_on,
        )

    return make


MakeClaim = Callable[..., Claim]


@pytest.fixture
def make_claim() -> MakeClaim:
    def make(
        *,
        claim_id: str = "CL-1",
        dealer_id: str = "D-1",
        serial: str = "SN-1",
        fault_code: str = "E4",
        cause: FaultCause = FaultCause.PRODUCT_DEFECT,
        failed_on: date = date(2026, 2, 1),
        repaired_on: date = date(2026, 2, 2),
        labour_minutes: int = 90,
        labour: str = "67.50",
        travel: str | None = "25.00",
        parts: Sequence[ReplacedPart] = (ReplacedPart("CMP-100", eur("180.00"), old_part_serial="OLD-1"),),
        work_order_id: str | None = "WO-1",
        signed: bool = True,
        submit: bool = True,
    ) -> Claim:
        claim = Claim.open(
            claim_id=claim_id,
            dealer_id=dealer_id,
            serial=serial,
            record=RepairRecord(
                fault_code=fault_code,
                cause=cause,
                failed_on=failed_on,
                repaired_on=repaired_on,
                labour_minutes=labour_minutes,
                labour_amount=eur(labour),
                actions=("replaced compressor",),
                travel_km=Decimal(12),
                travel_amount=eur(travel) if travel is not None else None,
                work_order_id=work_order_id,
            ),
            parts=parts,
            at=AT,
            actor=f"dealer:{dealer_id}",
            model_code="AC-3500",
            customer_signature_ref="sig/1.png" if signed else None,
            photo_refs=("photo/1.jpg",),
        )
        if submit:
            claim.submit(at=AT, actor=f"dealer:{dealer_id}")
        return claim

    return make
