"""Intake tables: the customer file and the history of every contact with a customer.

A customer is stored whole as a JSON document (``doc``) beside the columns it is searched and
listed by; its phones, emails and postcodes are copied into ``customer_contact_points`` so a caller,
a sender or a duplicate is found by an indexed equality on the normalised value.
"""

from sqlalchemy import JSON, Column, Date, ForeignKey, Index, Integer, String, Table

from intake.tables.base import metadata
from kit.tables import UtcDateTime

customers = Table(
    "customers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    # name and company folded for search (case, accents, titles, legal forms: duplicates.name_key)
    Column("name_key", String(400), nullable=False),
    Column("company_name", String(200), nullable=True),
    Column("company_key", String(400), nullable=True),
    Column("tier", String(1), nullable=False),
    Column("region_code", String(40), nullable=True),
    Column("dealer_id", String(64), nullable=True, index=True),
    Column("merged_into", String(64), nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("doc", JSON, nullable=False),
)
Index("ix_customers_name_key", customers.c.name_key)
Index("ix_customers_company_key", customers.c.company_key)

# kind: phone (E.164), email (case-folded), postcode (folded): what matching and duplicates look up
contact_points = Table(
    "customer_contact_points",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("value", String(254), primary_key=True),
    Column("customer_id", String(64), ForeignKey("customers.id"), primary_key=True),
)
Index("ix_customer_contact_points_customer_id", contact_points.c.customer_id)

contact_history = Table(
    "contact_history",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("summary", String(500), nullable=False),
    Column("actor_ref", String(200), nullable=False),
    Column("reference", String(300), nullable=True),
    Column("ticket_id", String(64), nullable=True),
    Column("merged_from", String(64), nullable=True),
)
Index("ix_contact_history_customer", contact_history.c.customer_id, contact_history.c.occurred_at)
# one entry per customer and source record: a replayed call, mail or fax is recorded once
Index(
    "uq_contact_history_customer_kind_reference",
    contact_history.c.customer_id,
    contact_history.c.kind,
    contact_history.c.reference,
    unique=True,
)

# Units the customer owns, as warranty registered them (a local copy fed by warranty's unit events),
# shown on the agent's screen when the customer calls.
customer_units = Table(
    "customer_units",
    metadata,
    Column("serial_number", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=True, index=True),
    Column("model_code", String(64), nullable=False),
    Column("product_line", String(40), nullable=True),
    Column("dealer_id", String(64), nullable=True),
    Column("sale_date", Date, nullable=True),
    Column("installation_date", Date, nullable=True),
    Column("repair_coverage_ends_on", Date, nullable=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

__all__ = ["contact_history", "contact_points", "customer_units", "customers", "metadata"]
