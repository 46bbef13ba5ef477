"""All SQL of the warranty service, one module per kind of record.

- :mod:`.catalogue` — product lines, models, policy versions; the catalogue kept in memory
- :mod:`.units` — registered units, service contracts, the facts of an entitlement decision
- :mod:`.repairs` — decisions kept, repairs, replacements earned, old-part returns
- :mod:`.claims` — claims, their lines and transitions
- :mod:`.settlements` — settlement statements and what they settle
"""

from warranty.store.catalogue import (
    add_policy,
    catalogue,
    get_line,
    get_model,
    list_models,
    list_policies,
    save_line,
    save_model,
)
from warranty.store.claims import (
    claim_number_of,
    claims_decided_between,
    claims_for_serial,
    get_claim,
    insert_claim,
    list_claims,
    new_claim_number,
    require_claim,
    update_claim,
)
from warranty.store.repairs import (
    add_repair,
    part_returns_for,
    record_entitlement,
    record_part_return,
    record_replacement,
    repair_facts,
    repair_times,
    repairs_for,
    replacement_already_earned,
)
from warranty.store.settlements import (
    StoredStatement,
    claims_by_id,
    claims_for_dealer,
    dealers_to_settle,
    get_statement,
    list_statements,
    mark_statement_issued,
    save_statement,
    settled_claims_for_dealer,
    statement_for,
)
from warranty.store.units import (
    DecisionFacts,
    add_contract,
    contracts_for,
    decision_facts,
    get_unit,
    insert_unit,
    list_units,
    update_unit,
)

__all__ = [
    "DecisionFacts",
    "StoredStatement",
    "add_contract",
    "add_policy",
    "add_repair",
    "catalogue",
    "claim_number_of",
    "claims_by_id",
    "claims_decided_between",
    "claims_for_dealer",
    "claims_for_serial",
    "contracts_for",
    "dealers_to_settle",
    "decision_facts",
    "get_claim",
    "get_line",
    "get_model",
    "get_statement",
    "get_unit",
    "insert_claim",
    "insert_unit",
    "list_claims",
    "list_models",
    "list_policies",
    "list_statements",
    "list_units",
    "mark_statement_issued",
    "new_claim_number",
    "part_returns_for",
    "record_entitlement",
    "record_part_return",
    "record_replacement",
    "repair_facts",
    "repair_times",
    "repairs_for",
    "replacement_already_earned",
    "require_claim",
    "save_line",
    "save_model",
    "save_statement",
    "settled_claims_for_dealer",
    "statement_for",
    "update_claim",
    "update_unit",
]
