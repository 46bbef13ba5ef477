"""mailbox leases; acknowledgments sent by the mailer loop

One replica at a time polls each IMAP mailbox: the one holding its lease (``kit.leases``). A row per
mailbox, taken and renewed at each poll, given up when the process stops, expiring when it dies.

Acknowledgments are sent by a background loop outside any transaction instead of by a timer inside
one: ``outbound_mail.next_attempt_at`` says when it tries next. Pending ones are due at once, and the
timers that used to send them are cancelled.

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
    op.add_column("outbound_mail", sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_outbound_mail_due", "outbound_mail", ["status", "next_attempt_at"])
    op.execute("UPDATE outbound_mail SET next_attempt_at = created_at WHERE status = 'pending'")
    op.execute(
        "UPDATE timers SET cancelled_at = CURRENT_TIMESTAMP "
        "WHERE kind = 'intake.email.acknowledge' AND fired_at IS NULL AND cancelled_at IS NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_outbound_mail_due", table_name="outbound_mail")
    op.drop_column("outbound_mail", "next_attempt_at")
    op.drop_table("mailbox_leases")
