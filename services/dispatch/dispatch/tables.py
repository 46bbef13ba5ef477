"""The dispatch service's tables: its network, technicians, work orders and what happened to them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from kit.tables import UtcDateTime, define_platform_tables, new_metadata

metadata = new_metadata()
tables = define_platform_tables(metadata)

# JSON documents: JSONB on PostgreSQL, so they can be queried (``snapshot->>'state'``) and indexed
Document = JSON().with_variant(JSONB(), "postgresql")

centres = Table(
    "centres",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("dealer_id", String(64), nullable=True, index=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("warehouse_location_id", String(64), nullable=True),
    # regions served besides the ones the centre is responsible for (a service point's coverage)
    Column("region_ids", JSON, nullable=False, server_default=text("'[]'")),
    # the business calendar its service levels count in (null: the wall clock), and its ETag version
    Column("calendar", JSON, nullable=True),
    Column("calendar_version", Integer, nullable=False, server_default=text("0")),
    # who last set or removed the calendar, and when
    Column("calendar_updated_at", UtcDateTime(), nullable=True),
    Column("calendar_updated_by", String(200), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

regions = Table(
    "regions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("grade", String(1), nullable=False),
    Column("centre_id", String(64), ForeignKey("centres.id"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

technicians = Table(
    "technicians",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("centre_id", String(64), ForeignKey("centres.id"), nullable=False),
    Column("region_ids", JSON, nullable=False),
    Column("skills", JSON, nullable=False),
    Column("certifications", JSON, nullable=False),
    Column("shifts", JSON, nullable=False),
    Column("home_lat", Float, nullable=False),
    Column("home_lon", Float, nullable=False),
    Column("van_location_id", String(64), nullable=True),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("dealer_id", String(64), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("daily_capacity_minutes", Integer, nullable=False, server_default=text("480")),
    # the last position the technician app reported
    Column("location_lat", Float, nullable=True),
    Column("location_lon", Float, nullable=True),
    Column("location_reported_at", UtcDateTime(), nullable=True),
    # what the technician is doing (``dispatch.domain.technicians.WorkingStatus``), since when, and the
    # visit it belongs to; ``active`` false shows as inactive whatever is held here
    Column("status", String(16), nullable=False, server_default=text("'available'")),
    Column("status_since", UtcDateTime(), nullable=True),
    Column("status_work_order_id", String(64), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

absences = Table(
    "technician_absences",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("technician_id", String(64), ForeignKey("technicians.id"), nullable=False, index=True),
    Column("start", UtcDateTime(), nullable=False),
    Column("end", UtcDateTime(), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
)

work_orders = Table(
    "work_orders",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("ticket_id", String(64), nullable=True, index=True),
    Column("customer_id", String(64), nullable=True),
    Column("dealer_id", String(64), nullable=True, index=True),
    Column("type", String(32), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("state", String(32), nullable=False, index=True),
    Column("region_id", String(64), nullable=False),
    Column("technician_id", String(64), nullable=True, index=True),
    Column("appointment_start", UtcDateTime(), nullable=True),
    Column("appointment_end", UtcDateTime(), nullable=True),
    Column("finished_at", UtcDateTime(), nullable=True, index=True),
    Column("facts", JSON, nullable=False),
    # the aggregate as last saved (``dispatch.codec``); the columns above are its queryable projection
    Column("snapshot", Document, nullable=False),
    Column("version", Integer, nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

transitions = Table(
    "work_order_transitions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("work_order_id", String(64), ForeignKey("work_orders.id"), nullable=False, index=True),
    Column("action", String(64), nullable=False),
    Column("from_state", String(32), nullable=False),
    Column("to_state", String(32), nullable=False),
    Column("actor_id", String(200), nullable=False),
    Column("actor_role", String(32), nullable=False),
    Column("client_update_id", String(200), nullable=True),
    Column("at", UtcDateTime(), nullable=False),
)

appointments = Table(
    "appointments",
    metadata,
    Column("work_order_id", String(64), ForeignKey("work_orders.id"), primary_key=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("technician_id", String(64), nullable=True, index=True),
    Column("start", UtcDateTime(), nullable=False),
    Column("end", UtcDateTime(), nullable=False),
    Column("confirmed_at", UtcDateTime(), nullable=True),
    Column("times_moved", Integer, nullable=False, default=0),
)

assignments = Table(
    "assignments",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("work_order_id", String(64), ForeignKey("work_orders.id"), nullable=False, index=True),
    Column("technician_id", String(64), nullable=False),
    Column("method", String(16), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("cost", JSON, nullable=False),
    Column("locked", Boolean, nullable=False, default=False),
    Column("assigned_by", String(200), nullable=False),
    Column("assigned_at", UtcDateTime(), nullable=False),
)

maintenance_plans = Table(
    "maintenance_plans",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("serial_number", String(64), nullable=False, index=True),
    Column("model_code", String(64), nullable=True),
    Column("model_grade", String(32), nullable=True),
    Column("installer_id", String(64), nullable=True),
    Column("product_line", String(64), nullable=False),
    Column("region_id", String(64), nullable=False),
    Column("site", JSON, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("every_months", Integer, nullable=False),
    Column("visit_minutes", Integer, nullable=False),
    Column("tolerance_days", Integer, nullable=False),
    Column("lead_days", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("cancelled_at", UtcDateTime(), nullable=True),
    Column("cancel_reason", String(300), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
)

# One row per requested visit: the (plan, sequence) key makes requesting a visit twice impossible.
maintenance_visits = Table(
    "maintenance_visits",
    metadata,
    Column("plan_id", String(64), ForeignKey("maintenance_plans.id"), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("work_order_id", String(64), nullable=False, unique=True),
    Column("requested_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("plan_id", "sequence"),
)

# Local copies of intake's tickets (the newest version seen): updates and cancellations may arrive
# before the ticket's creation, and a stale one must not undo a newer one.
tickets = Table(
    "tickets",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("details", JSON, nullable=True),
    Column("cancelled_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# Local copies of warranty's registered units: the installer to prefer, the grade of a loaner, the
# warranty period a maintenance plan runs in.
units = Table(
    "units",
    metadata,
    Column("serial_number", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("model_code", String(64), nullable=True),
    Column("product_line", String(64), nullable=True),
    Column("model_grade", String(32), nullable=True),
    Column("customer_id", String(64), nullable=True),
    Column("installer_id", String(64), nullable=True),
    Column("warranty_starts_on", Date, nullable=True),
    Column("repair_coverage_ends_on", Date, nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# Local copies of warranty's decisions, keyed by ticket: they may arrive before the ticket's work order.
entitlements = Table(
    "entitlements",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("entitlement_id", String(64), nullable=False),
    Column("billing", String(16), nullable=False),
    Column("contract_id", String(64), nullable=True),
    Column("premium_contract", Boolean, nullable=False, default=False),
    Column("expires_on", String(10), nullable=True),
    Column("determined_at", UtcDateTime(), nullable=False),
)

# Local copy of inventory's stock levels at vans (``inventory.stock.changed.v1``), to prefer the technician
# whose van holds a job's parts. Events about one (van, part) may arrive late or twice: only a higher
# ``version`` (inventory's sequence) overwrites.
van_stock = Table(
    "van_stock",
    metadata,
    Column("location_id", String(64), nullable=False),
    Column("part_number", String(64), nullable=False),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    Column("available", Integer, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("changed_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("location_id", "part_number"),
)

notes = Table(
    "work_order_notes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("work_order_id", String(64), nullable=False, index=True),
    Column("kind", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)

Index("ix_work_orders_state_region", work_orders.c.state, work_orders.c.region_id)
