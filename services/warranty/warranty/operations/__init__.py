"""Use cases shared by the API, the event handlers and the timers: load the facts, apply the rules,
save, emit.

- :mod:`.entitlements` — decide (and record) an entitlement
- :mod:`.repairs` — completed repairs: repeat failures, claims of service points
- :mod:`.units` — register units, record their installation, card, contracts and owners; every
  change of a unit emits ``warranty.unit.updated.v1``
- :mod:`.claims` — submit, appraise and save claims; the review deadline and its escalation
- :mod:`.settlements` — dealer statements: issue, approve, and the settlement schedule
"""

from warranty.operations.claims import (
    REVIEW_DUE,
    appraise_claim,
    escalate_overdue_review,
    save_claim,
    submit_claim,
)
from warranty.operations.entitlements import STATUTORY_POLICY, Decision, decide, record_decision
from warranty.operations.repairs import record_completed_repair
from warranty.operations.settlements import (
    SETTLE_DEALER,
    SETTLEMENT_RUN,
    approve_statement,
    issue_statement,
    keep_settlement_schedule,
    run_settlement,
    settle_dealer,
)
from warranty.operations.units import (
    UnitChange,
    add_contract,
    change_unit,
    record_installation_from_work_order,
    register_unit,
    transfer_unit,
)

__all__ = [
    "REVIEW_DUE",
    "SETTLEMENT_RUN",
    "SETTLE_DEALER",
    "STATUTORY_POLICY",
    "Decision",
    "UnitChange",
    "add_contract",
    "appraise_claim",
    "approve_statement",
    "change_unit",
    "decide",
    "escalate_overdue_review",
    "issue_statement",
    "keep_settlement_schedule",
    "record_completed_repair",
    "record_decision",
    "record_installation_from_work_order",
    "register_unit",
    "run_settlement",
    "save_claim",
    "settle_dealer",
    "submit_claim",
    "transfer_unit",
]
