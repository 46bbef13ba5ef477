"""technician working status and attributed calendar changes

Each technician has a working status (available, travelling, on site, on break, off duty), the time it
began and the visit it belongs to; technicians already stored start as available since an unknown time.
A centre's calendar records who last set or removed it, and when (unknown for calendars set before).

Revision ID: b8e2c5d4a7f1
Revises: a1d7f3c2b9e4
Create Date: 2026-11-23 09:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b8e2c5d4a7f1"
down_revision: str | Sequence[str] | None = "a1d7f3c2b9e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default=sa.text("'available'"), nullable=False)
        )
        batch_op.add_column(sa.Column("status_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("status_work_order_id", sa.String(length=64), nullable=True))

    with op.batch_alter_table("centres", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar_updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("calendar_updated_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("centres", schema=None) as batch_op:
        batch_op.drop_column("calendar_updated_by")
        batch_op.drop_column("calendar_updated_at")

    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.drop_column("status_work_order_id")
        batch_op.drop_column("status_since")
        batch_op.drop_column("status")
