"""tower_partner: the devices partners submit

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tower_partner_submissions',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('sealed_password', sa.Text(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_tower_partner_submissions_partner_id', 'tower_partner_submissions', ['partner_id'])
    op.create_index('ix_tower_partner_submissions_state', 'tower_partner_submissions', ['state'])


def downgrade() -> None:
    op.drop_table('tower_partner_submissions')
