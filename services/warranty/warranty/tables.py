"""The warranty service's tables: catalogue, policies, units, contracts, repairs, entitlements, claims."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

from kit.tables import UtcDateTime, define_platform_tables, new_metadata

metadata = new_metadata()
platform = define_platform_tables(metadata)

# One row: a token that changes with every catalogue write (lines, models, policies), so each
# process can keep the catalogue in memory and reload it only when the token moved.
catalogue_revision = Table(
    "catalogue_revision",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("revision", String(36), nullable=False),
)

product_lines = Table(
    "product_lines",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("standard_repairs", JSON, nullable=False, default=list),
)

product_models = Table(
    "product_models",
    metadata,
    Column("code", String(60), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("line_code", String(40), nullable=False, index=True),
    Column("grade", String(40), nullable=False),
    Column("bill_of_materials", JSON, nullable=False, default=list),
    Column("standard_repairs", JSON, nullable=False, default=list),
)

# One row per policy version; the nested configuration (windows, pricing, plan, repeat rule) is JSON.
policies = Table(
    "policies",
    metadata,
    Column("policy_id", String(60), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("line_code", String(40), nullable=False, index=True),
    Column("model_code", String(60), nullable=True),
    Column("effective_from", Date, nullable=False),
    Column("config", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

units = Table(
    "units",
    metadata,
    Column("serial", String(80), primary_key=True),
    Column("model_code", String(60), nullable=False),
    Column("dealer_id", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("sold_on", Date, nullable=False),
    Column("installed_on", Date, nullable=True),
    Column("accepted_on", Date, nullable=True),
    Column("installer_id", String(64), nullable=True),
    Column("card_received_on", Date, nullable=True),
    Column("sale_date_known", Boolean, nullable=False, default=True, server_default=true()),
    Column("owners", JSON, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("registered_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
Index("ix_units_dealer_serial", units.c.dealer_id, units.c.serial)

service_contracts = Table(
    "service_contracts",
    metadata,
    Column("contract_id", String(64), primary_key=True),
    Column("serial", String(80), nullable=False, index=True),
    Column("tier", String(20), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("covers_parts", Boolean, nullable=False),
    Column("covers_labour", Boolean, nullable=False),
    Column("covers_travel", Boolean, nullable=False),
)

entitlements = Table(
    "entitlements",
    metadata,
    Column("entitlement_id", String(64), primary_key=True),
    Column("ticket_id", String(64), nullable=True, index=True),
    Column("serial", String(80), nullable=True, index=True),
    Column("decided_on", Date, nullable=False),
    Column("coverage", String(30), nullable=False),
    Column("decision", JSON, nullable=False),
    Column("determined_at", UtcDateTime(), nullable=False),
)

repairs = Table(
    "repairs",
    metadata,
    Column("work_order_id", String(64), primary_key=True),
    Column("serial", String(80), nullable=False),
    Column("model_code", String(60), nullable=True),
    Column("fault_code", String(60), nullable=False),
    Column("repaired_on", Date, nullable=False),
    Column("dealer_id", String(64), nullable=True),
    Column("ticket_id", String(64), nullable=True),
    Column("part_numbers", JSON, nullable=False, default=list),
    Column("completed_at", UtcDateTime(), nullable=False),
)
Index("ix_repairs_serial_fault", repairs.c.serial, repairs.c.fault_code, repairs.c.repaired_on)

replacement_eligibilities = Table(
    "replacement_eligibilities",
    metadata,
    Column("serial", String(80), primary_key=True),
    Column("fault_code", String(60), primary_key=True),
    Column("earned_on", Date, primary_key=True),
    Column("work_order_ids", JSON, nullable=False),
)

claims = Table(
    "claims",
    metadata,
    Column("claim_id", String(64), primary_key=True),
    Column("claim_number", String(32), nullable=False, unique=True),
    Column("dealer_id", String(64), nullable=False),
    Column("serial", String(80), nullable=False, index=True),
    Column("work_order_id", String(64), nullable=True),
    Column("model_code", String(60), nullable=True),
    Column("origin", String(20), nullable=False),
    Column("state", String(30), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("record", JSON, nullable=False),
    Column("parts", JSON, nullable=False),
    Column("customer_signature_ref", String(300), nullable=True),
    Column("photo_refs", JSON, nullable=False, default=list),
    Column("removed_lines", JSON, nullable=False, default=dict),
    Column("appraisals", JSON, nullable=False, default=list),
    Column("claimed", Numeric(14, 2), nullable=False),
    Column("approved_amount", Numeric(14, 2), nullable=True),
    Column("decided_at", UtcDateTime(), nullable=True),
    Column("statement_id", String(64), nullable=True),
    Column("review_due_at", UtcDateTime(), nullable=True),
    Column("escalated_at", UtcDateTime(), nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("work_order_id", name="uq_claims_work_order_id"),
)
Index("ix_claims_dealer_created", claims.c.dealer_id, claims.c.created_at, claims.c.claim_id)
Index("ix_claims_state", claims.c.state)

claim_lines = Table(
    "claim_lines",
    metadata,
    Column("claim_id", String(64), primary_key=True),
    Column("line_id", String(20), primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("part_number", String(60), nullable=True),
    Column("old_part_serial", String(80), nullable=True),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("removed_reason", Text, nullable=True),
)

claim_transitions = Table(
    "claim_transitions",
    metadata,
    Column("claim_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("action", String(40), nullable=False),
    Column("from_state", String(30), nullable=True),
    Column("to_state", String(30), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("note", Text, nullable=False, default=""),
)

part_returns = Table(
    "part_returns",
    metadata,
    Column("old_part_serial", String(80), primary_key=True),
    Column("return_id", String(64), nullable=False),
    Column("part_number", String(60), nullable=False),
    Column("claim_id", String(64), nullable=True),
    Column("work_order_id", String(64), nullable=True),
    Column("received_on", Date, nullable=True),
    Column("inspected_on", Date, nullable=True),
    Column("outcome", String(20), nullable=True),
    Column("fault_confirmed", Boolean, nullable=True),
)

settlement_statements = Table(
    "settlement_statements",
    metadata,
    Column("statement_id", String(64), primary_key=True),
    Column("dealer_id", String(64), nullable=False, index=True),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("document", JSON, nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
    # awaiting_approval (finance has not approved it yet: nothing is paid) or issued
    Column("status", String(30), nullable=False, default="issued", server_default="issued"),
    Column("claim_ids", JSON, nullable=False, default=list, server_default="[]"),
    Column("prepared_by", String(200), nullable=True),
    Column("approved_by", String(200), nullable=True),
    Column("approved_at", UtcDateTime(), nullable=True),
    UniqueConstraint(
        "dealer_id", "period_start", "period_end", name="uq_settlement_statements_dealer_period"
    ),
)
Index("ix_settlement_statements_status", settlement_statements.c.status, settlement_statements.c.issued_at)
