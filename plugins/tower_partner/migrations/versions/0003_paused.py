"""tower_partner: cameras whose sharing was switched off

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tower_partner_paused',
    sa.Column('camera_id', sa.String(length=250), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('by', sa.String(length=250), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('camera_id')
    )
    op.create_index('ix_tower_partner_paused_partner_id', 'tower_partner_paused', ['partner_id'])


def downgrade() -> None:
    op.drop_table('tower_partner_paused')
