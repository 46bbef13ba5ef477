"""work orders as JSON documents; maintenance plans and visits; ticket and unit copies; dealer coverage,
technician capacity, positions and absences

The work order snapshot was a binary blob; it becomes a JSON document (JSONB on PostgreSQL) written by
``dispatch.codec``. A blob cannot be read without the code that wrote it, so the upgrade refuses to run
over stored work orders instead of losing them (no release with blobs ran in production). The old
``maintenance_plans`` table was never written; it is replaced by the plans the API now keeps.

Revision ID: 3f6b2d8e4a1c
Revises: 9c7dace16326
Create Date: 2026-11-24 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "3f6b2d8e4a1c"
down_revision: str | Sequence[str] | None = "9c7dace16326"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _refuse_if_rows(table: str, why: str) -> None:
    rows = op.get_bind().execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    if rows:
        raise RuntimeError(
            f"{table} holds {rows} row(s) {why}; they cannot be converted. "
            "Only development databases can hold them: remove the dispatch database and migrate again."
        )


def upgrade() -> None:
    _refuse_if_rows("work_orders", "with binary snapshots")
    _refuse_if_rows("maintenance_plans", "in the old plan format")

    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_column("snapshot")
        batch_op.add_column(sa.Column("snapshot", DOCUMENT, nullable=False))
        batch_op.add_column(sa.Column("appointment_end", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_work_orders_finished_at"), ["finished_at"], unique=False)

    with op.batch_alter_table("centres", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_ids", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))

    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("daily_capacity_minutes", sa.Integer(), server_default=sa.text("480"), nullable=False)
        )
        batch_op.add_column(sa.Column("location_lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("location_lon", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("location_reported_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "technician_absences",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("technician_id", sa.String(length=64), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_technician_absences_technician_id_technicians"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technician_absences")),
    )
    with op.batch_alter_table("technician_absences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_technician_absences_technician_id"), ["technician_id"], unique=False
        )

    with op.batch_alter_table("maintenance_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_plans_customer_id"))
    op.drop_table("maintenance_plans")
    op.create_table(
        "maintenance_plans",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("serial_number", sa.String(length=64), nullable=False),
        sa.Column("model_code", sa.String(length=64), nullable=True),
        sa.Column("model_grade", sa.String(length=32), nullable=True),
        sa.Column("installer_id", sa.String(length=64), nullable=True),
        sa.Column("product_line", sa.String(length=64), nullable=False),
        sa.Column("region_id", sa.String(length=64), nullable=False),
        sa.Column("site", sa.JSON(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("every_months", sa.Integer(), nullable=False),
        sa.Column("visit_minutes", sa.Integer(), nullable=False),
        sa.Column("tolerance_days", sa.Integer(), nullable=False),
        sa.Column("lead_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_plans")),
    )
    with op.batch_alter_table("maintenance_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_maintenance_plans_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_maintenance_plans_serial_number"), ["serial_number"], unique=False
        )

    op.create_table(
        "maintenance_visits",
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("work_order_id", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["maintenance_plans.id"],
            name=op.f("fk_maintenance_visits_plan_id_maintenance_plans"),
        ),
        sa.PrimaryKeyConstraint("plan_id", "sequence", name=op.f("pk_maintenance_visits")),
        sa.UniqueConstraint("work_order_id", name=op.f("uq_maintenance_visits_work_order_id")),
    )

    op.create_table(
        "tickets",
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_tickets")),
    )

    op.create_table(
        "units",
        sa.Column("serial_number", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("model_code", sa.String(length=64), nullable=True),
        sa.Column("product_line", sa.String(length=64), nullable=True),
        sa.Column("model_grade", sa.String(length=32), nullable=True),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("installer_id", sa.String(length=64), nullable=True),
        sa.Column("warranty_starts_on", sa.Date(), nullable=True),
        sa.Column("repair_coverage_ends_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("serial_number", name=op.f("pk_units")),
    )


def downgrade() -> None:
    _refuse_if_rows("work_orders", "with JSON snapshots")
    _refuse_if_rows("maintenance_plans", "in the new plan format")

    op.drop_table("units")
    op.drop_table("tickets")
    op.drop_table("maintenance_visits")
    with op.batch_alter_table("maintenance_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_plans_serial_number"))
        batch_op.drop_index(batch_op.f("ix_maintenance_plans_customer_id"))
    op.drop_table("maintenance_plans")
    op.create_table(
        "maintenance_plans",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("serial_number", sa.String(length=64), nullable=True),
        sa.Column("product_line", sa.String(length=64), nullable=False),
        sa.Column("interval_days", sa.Integer(), nullable=False),
        sa.Column("next_due_on", sa.DateTime(timezone=True), nullable=True),
        sa.Column("site", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_plans")),
    )
    with op.batch_alter_table("maintenance_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_maintenance_plans_customer_id"), ["customer_id"], unique=False)

    with op.batch_alter_table("technician_absences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_technician_absences_technician_id"))
    op.drop_table("technician_absences")

    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.drop_column("location_reported_at")
        batch_op.drop_column("location_lon")
        batch_op.drop_column("location_lat")
        batch_op.drop_column("daily_capacity_minutes")

    with op.batch_alter_table("centres", schema=None) as batch_op:
        batch_op.drop_column("region_ids")

    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_orders_finished_at"))
        batch_op.drop_column("finished_at")
        batch_op.drop_column("appointment_end")
        batch_op.drop_column("snapshot")
        batch_op.add_column(sa.Column("snapshot", sa.LargeBinary(), nullable=False))
