"""tower_partner: the cameras each partner's devices brought, and cameras registered without video

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tower_partner_cameras',
    sa.Column('camera_id', sa.String(length=250), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('camera_id')
    )
    op.create_index('ix_tower_partner_cameras_partner_id', 'tower_partner_cameras', ['partner_id'])
    op.create_table('tower_partner_registered',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_tower_partner_registered_partner_id', 'tower_partner_registered', ['partner_id'])


def downgrade() -> None:
    op.drop_table('tower_partner_registered')
    op.drop_table('tower_partner_cameras')
