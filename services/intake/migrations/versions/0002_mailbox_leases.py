"""mailbox leases

One replica at a time polls each IMAP mailbox: the one holding its lease (``kit.leases``). A row per
mailbox, taken and renewed at each poll, given up when the process stops, expiring when it dies.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mailbox_leases",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_mailbox_leases")),
    )


def downgrade() -> None:
    op.drop_table("mailbox_leases")
