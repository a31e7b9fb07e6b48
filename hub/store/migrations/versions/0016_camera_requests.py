"""neighbourhoods' requests for new cameras

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('camera_requests',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('area', sa.String(length=250), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('asked_by', sa.String(length=250), nullable=False),
    sa.Column('asked_by_name', sa.String(length=200), nullable=True),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=250), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('camera_id', sa.String(length=250), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_camera_requests_area', 'camera_requests', ['area'])
    op.create_index('ix_camera_requests_state', 'camera_requests', ['state'])
    op.create_index('ix_camera_requests_asked_by', 'camera_requests', ['asked_by'])


def downgrade() -> None:
    op.drop_table('camera_requests')
