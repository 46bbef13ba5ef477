"""business calendars of service centres

Each centre (and authorised service point) may keep a business calendar (time zone, weekly working hours,
holidays) that the service levels of its regions count in; ``calendar_version`` is its ETag. Centres
without one keep counting on the wall clock, as before.

Revision ID: c760daf94a71
Revises: 3f6b2d8e4a1c
Create Date: 2026-11-25 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c760daf94a71"
down_revision: str | Sequence[str] | None = "3f6b2d8e4a1c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("centres", sa.Column("calendar", sa.JSON(), nullable=True))
    op.add_column(
        "centres", sa.Column("calendar_version", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("centres", "calendar_version")
    op.drop_column("centres", "calendar")
