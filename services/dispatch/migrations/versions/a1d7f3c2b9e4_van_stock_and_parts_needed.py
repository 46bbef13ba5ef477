"""van stock and parts needed

Dispatch keeps a local copy of what each van holds (``inventory.stock.changed.v1``), so that assignment
prefers the technician whose van carries the parts a work order needs. One row per (van, part); ``version``
is inventory's sequence for that pair, so a late or repeated event never overwrites a newer level. The
parts a work order needs already travel in its JSON snapshot.

Revision ID: a1d7f3c2b9e4
Revises: c760daf94a71
Create Date: 2026-11-23 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1d7f3c2b9e4"
down_revision: str | Sequence[str] | None = "c760daf94a71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "van_stock",
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("part_number", sa.String(length=64), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("available", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("location_id", "part_number", name=op.f("pk_van_stock")),
    )


def downgrade() -> None:
    op.drop_table("van_stock")
