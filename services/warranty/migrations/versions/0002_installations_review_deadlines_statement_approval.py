"""track installations, review deadlines, statement approval and the catalogue revision

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:41:37.708856

"""
from typing import Sequence, Union
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    catalogue_revision = op.create_table('catalogue_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_revision'))
    )
    op.bulk_insert(catalogue_revision, [{'id': 1, 'revision': str(uuid.uuid4())}])
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('settlement_statements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=30), server_default='issued', nullable=False))
        batch_op.add_column(sa.Column('claim_ids', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('prepared_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('approved_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_settlement_statements_status', ['status', 'issued_at'], unique=False)
        batch_op.create_unique_constraint('uq_settlement_statements_dealer_period', ['dealer_id', 'period_start', 'period_end'])
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sale_date_known', sa.Boolean(), server_default=sa.text('true'), nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('sale_date_known')
    with op.batch_alter_table('settlement_statements', schema=None) as batch_op:
        batch_op.drop_constraint('uq_settlement_statements_dealer_period', type_='unique')
        batch_op.drop_index('ix_settlement_statements_status')
        batch_op.drop_column('approved_at')
        batch_op.drop_column('approved_by')
        batch_op.drop_column('prepared_by')
        batch_op.drop_column('claim_ids')
        batch_op.drop_column('status')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('review_due_at')
    op.drop_table('catalogue_revision')
