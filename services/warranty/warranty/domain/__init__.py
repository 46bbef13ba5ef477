"""The warranty service's business rules, in pure Python (no web framework, ORM or I/O).

- :mod:`~warranty.domain.policy` — product lines and models, versioned warranty policies
- :mod:`~warranty.domain.units` — registered units, ownership, service contracts, the 20-day rule
- :mod:`~warranty.domain.coverage` — a unit's warranty period and cover (warranty + contracts)
- :mod:`~warranty.domain.entitlement` — what is covered on a day and which remedies are open
- :mod:`~warranty.domain.repeats` — repeat failures that earn a like-for-like replacement
- :mod:`~warranty.domain.claims` — dealer claims, their state machine and automatic appraisal
- :mod:`~warranty.domain.settlement` — dealer settlement statements and their exports
- :mod:`~warranty.domain.statistics` — monthly fault statistics
- :mod:`~warranty.domain.dates` — the day and month counting every rule shares
"""

from warranty.domain.coverage import (
    CoverageSpan,
    WarrantyPeriod,
    coverage_on,
    maintenance_visits,
    warranty_period,
)
from warranty.domain.entitlement import (
    Coverage,
    Entitlement,
    EntitlementBasis,
    Remedy,
    RemedyKind,
    ReportedFault,
    decide_entitlement,
)
from warranty.domain.policy import (
    Catalogue,
    Exclusion,
    FaultCause,
    MaintenancePlan,
    OutOfWarrantyPricing,
    PartCost,
    PriceEstimate,
    ProductLine,
    ProductModel,
    RepeatFailureRule,
    StandardRepair,
    StartBasis,
    StartEvent,
    WarrantyPolicy,
    like_for_like_replacements,
    policy_in_force,
)
from warranty.domain.repeats import (
    RepairEvent,
    ReplacementEligibility,
    first_replacement_eligibility,
    repairs_in_window,
    replacement_earned_by,
)
from warranty.domain.units import (
    ContractTier,
    Ownership,
    RegisteredUnit,
    RegistrationStatus,
    ServiceContract,
    registered_on_time,
    registration_deadline,
    registration_status,
)

__all__ = [
    "Catalogue",
    "ContractTier",
    "Coverage",
    "CoverageSpan",
    "Entitlement",
    "EntitlementBasis",
    "Exclusion",
    "FaultCause",
    "MaintenancePlan",
    "OutOfWarrantyPricing",
    "Ownership",
    "PartCost",
    "PriceEstimate",
    "ProductLine",
    "ProductModel",
    "RegisteredUnit",
    "RegistrationStatus",
    "Remedy",
    "RemedyKind",
    "RepairEvent",
    "RepeatFailureRule",
    "ReplacementEligibility",
    "ReportedFault",
    "ServiceContract",
    "StandardRepair",
    "StartBasis",
    "StartEvent",
    "WarrantyPeriod",
    "WarrantyPolicy",
    "coverage_on",
    "decide_entitlement",
    "first_replacement_eligibility",
    "like_for_like_replacements",
    "maintenance_visits",
    "policy_in_force",
    "registered_on_time",
    "registration_deadline",
    "registration_status",
    "repairs_in_window",
    "replacement_earned_by",
    "warranty_period",
]
