"""Product lines, models and versioned warranty policies."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from kit.deps import Db
from kit.domain import NotFound
from warranty import codec, store
from warranty.api.common import AnyStaff, CatalogueAdmin, MoneyDto
from warranty.domain import (
    Exclusion,
    MaintenancePlan,
    OutOfWarrantyPricing,
    PartCost,
    ProductLine,
    ProductModel,
    RepeatFailureRule,
    StandardRepair,
    StartBasis,
    WarrantyPolicy,
)

router = APIRouter(tags=["catalogue"])

Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")]


class PartCostDto(BaseModel):
    part_number: Annotated[str, Field(min_length=1, max_length=60)]
    unit_cost: MoneyDto
    quantity: Annotated[int, Field(ge=1, le=1000)] = 1


class StandardRepairDto(BaseModel):
    fault_code: Code
    standard_minutes: Annotated[int, Field(ge=0, le=10_000)]
    typical_parts: list[PartCostDto] = Field(default_factory=list, max_length=50)

    def domain(self) -> StandardRepair:
        return StandardRepair(
            self.fault_code,
            self.standard_minutes,
            tuple(PartCost(p.part_number, p.unit_cost.money(), p.quantity) for p in self.typical_parts),
        )


class ProductLineDto(BaseModel):
    code: Code | None = Field(default=None, description="Taken from the path on PUT")
    name: Annotated[str, Field(min_length=1, max_length=200)]
    standard_repairs: list[StandardRepairDto] = Field(default_factory=list, max_length=500)


class ProductModelDto(BaseModel):
    code: Annotated[str, Field(min_length=1, max_length=60)] | None = Field(
        default=None, description="Taken from the path on PUT"
    )
    name: Annotated[str, Field(min_length=1, max_length=200)]
    line_code: Code
    grade: Code
    bill_of_materials: list[Annotated[str, Field(max_length=60)]] = Field(
        default_factory=list, max_length=2000
    )
    standard_repairs: list[StandardRepairDto] = Field(default_factory=list, max_length=500)


def _repairs_dto(repairs: dict[str, StandardRepair]) -> list[StandardRepairDto]:
    return [StandardRepairDto.model_validate(r) for r in codec.standard_repairs_json(repairs.values())]


def _model_dto(model: ProductModel) -> ProductModelDto:
    return ProductModelDto(
        code=model.code,
        name=model.name,
        line_code=model.line_code,
        grade=model.grade,
        bill_of_materials=sorted(model.bill_of_materials),
        standard_repairs=_repairs_dto(dict(model.standard_repairs)),
    )


@router.put("/product-lines/{code}")
async def put_product_line(
    code: Code, body: ProductLineDto, db: Db, principal: CatalogueAdmin
) -> ProductLineDto:
    line = ProductLine(code, body.name, {r.fault_code: r.domain() for r in body.standard_repairs})
    async with db.transaction() as uow:
        await store.save_line(uow.conn, line)
        uow.audit(
            actor=principal.actor, action="product_line.saved", entity_type="product_line", entity_id=code
        )
    return body.model_copy(update={"code": code})


@router.put("/product-models/{code}")
async def put_product_model(
    code: str, body: ProductModelDto, db: Db, principal: CatalogueAdmin
) -> ProductModelDto:
    model = ProductModel(
        code=code,
        name=body.name,
        line_code=body.line_code,
        grade=body.grade,
        bill_of_materials=frozenset(body.bill_of_materials),
        standard_repairs={r.fault_code: r.domain() for r in body.standard_repairs},
    )
    async with db.transaction() as uow:
        if await store.get_line(uow.conn, body.line_code) is None:
            raise NotFound(f"product line {body.line_code} not found")
        await store.save_model(uow.conn, model)
        uow.audit(
            actor=principal.actor, action="product_model.saved", entity_type="product_model", entity_id=code
        )
    return _model_dto(model)


@router.get("/product-models")
async def list_product_models(
    db: Db, principal: AnyStaff, line_code: str | None = None
) -> list[ProductModelDto]:
    async with db.engine.connect() as conn:
        return [_model_dto(m) for m in await store.list_models(conn, line_code=line_code)]


@router.get("/product-models/{code}")
async def get_product_model(code: str, db: Db, principal: AnyStaff) -> ProductModelDto:
    async with db.engine.connect() as conn:
        model = await store.get_model(conn, code)
    if model is None:
        raise NotFound(f"product model {code} not found")
    return _model_dto(model)


class PricingDto(BaseModel):
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    labour_rate_per_hour: Annotated[Decimal, Field(ge=0, decimal_places=2)] = Decimal("45.00")
    parts_markup: Annotated[Decimal, Field(ge=0, le=10)] = Decimal(0)
    travel_flat: Annotated[Decimal, Field(ge=0, decimal_places=2)] = Decimal("25.00")
    travel_per_km: Annotated[Decimal, Field(ge=0, decimal_places=2)] = Decimal("0.00")


class MaintenancePlanDto(BaseModel):
    every_months: Annotated[int, Field(ge=1, le=60)] = 3
    while_under_warranty: bool = True


class RepeatFailureDto(BaseModel):
    repairs: Annotated[int, Field(ge=2, le=20)] = 3
    within_days: Annotated[int, Field(ge=1, le=3650)] = 30


class PolicyDto(BaseModel):
    """A policy version: the rules a unit sold while it is in force keeps for life."""

    policy_id: Code
    version: Annotated[int, Field(ge=1)]
    effective_from: date
    line_code: Code
    model_code: Annotated[str, Field(max_length=60)] | None = None
    return_days: Annotated[int, Field(ge=0, le=365)] = 15
    exchange_days: Annotated[int, Field(ge=0, le=365)] = 30
    repair_months: Annotated[int, Field(ge=0, le=240)] = 24
    start_basis: StartBasis = StartBasis.INSTALLATION_ELSE_SALE
    covers_parts: bool = True
    covers_labour: bool = True
    covers_travel: bool = True
    exclusions: list[Exclusion] = Field(default_factory=lambda: list(Exclusion))
    pricing: PricingDto = Field(default_factory=PricingDto)
    maintenance_plan: MaintenancePlanDto | None = None
    repeat_failure: RepeatFailureDto = Field(default_factory=RepeatFailureDto)
    registration_days: Annotated[int, Field(ge=1, le=365)] = 20

    def domain(self) -> WarrantyPolicy:
        p = self.pricing
        return WarrantyPolicy(
            policy_id=self.policy_id,
            version=self.version,
            effective_from=self.effective_from,
            line_code=self.line_code,
            model_code=self.model_code,
            return_days=self.return_days,
            exchange_days=self.exchange_days,
            repair_months=self.repair_months,
            start_basis=self.start_basis,
            covers_parts=self.covers_parts,
            covers_labour=self.covers_labour,
            covers_travel=self.covers_travel,
            exclusions=frozenset(self.exclusions),
            pricing=OutOfWarrantyPricing(
                currency=p.currency,
                labour_rate_per_hour=MoneyDto(amount=p.labour_rate_per_hour, currency=p.currency).money(),
                parts_markup=p.parts_markup,
                travel_flat=MoneyDto(amount=p.travel_flat, currency=p.currency).money(),
                travel_per_km=MoneyDto(amount=p.travel_per_km, currency=p.currency).money(),
            ),
            maintenance_plan=(
                MaintenancePlan(
                    self.maintenance_plan.every_months, self.maintenance_plan.while_under_warranty
                )
                if self.maintenance_plan
                else None
            ),
            repeat_failure=RepeatFailureRule(self.repeat_failure.repairs, self.repeat_failure.within_days),
            registration_days=self.registration_days,
        )

    @classmethod
    def of(cls, policy: WarrantyPolicy) -> PolicyDto:
        return cls.model_validate(
            {
                "policy_id": policy.policy_id,
                "version": policy.version,
                "effective_from": policy.effective_from,
                "line_code": policy.line_code,
                "model_code": policy.model_code,
                **codec.policy_json(policy),
            }
        )


@router.post("/policies", status_code=201)
async def add_policy(body: PolicyDto, db: Db, principal: CatalogueAdmin) -> PolicyDto:
    policy = body.domain()
    async with db.transaction() as uow:
        if await store.get_line(uow.conn, policy.line_code) is None:
            raise NotFound(f"product line {policy.line_code} not found")
        await store.add_policy(uow.conn, policy, at=uow.now())
        uow.audit(actor=principal.actor, action="policy.added", entity_type="policy", entity_id=policy.label)
    return PolicyDto.of(policy)


@router.get("/policies")
async def list_policies(db: Db, principal: AnyStaff, line_code: str | None = None) -> list[PolicyDto]:
    async with db.engine.connect() as conn:
        return [PolicyDto.of(p) for p in await store.list_policies(conn, line_code=line_code)]
