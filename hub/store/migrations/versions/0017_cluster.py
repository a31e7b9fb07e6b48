"""several nodes on one PostgreSQL: nodes and their leases, camera owners with epochs, moves; who wrote a segment

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cluster_nodes',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('capacity', sa.Float(), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('draining', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('cluster_owners',
    sa.Column('camera_id', sa.String(length=250), nullable=False),
    sa.Column('device_id', sa.String(length=250), nullable=False),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('epoch', sa.BigInteger(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('camera_id')
    )
    op.create_index('ix_cluster_owners_device_id', 'cluster_owners', ['device_id'])
    op.create_index('ix_cluster_owners_node', 'cluster_owners', ['node'])
    op.create_table('cluster_moves',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('camera_id', sa.String(length=250), nullable=False),
    sa.Column('from_node', sa.String(length=64), nullable=True),
    sa.Column('to_node', sa.String(length=64), nullable=False),
    sa.Column('epoch', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_cluster_moves_camera_id', 'cluster_moves', ['camera_id'])
    op.create_index('ix_cluster_moves_at', 'cluster_moves', ['at'])
    with op.batch_alter_table('segments') as batch:
        batch.add_column(sa.Column('node', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('epoch', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('segments') as batch:
        batch.drop_column('epoch')
        batch.drop_column('node')
    op.drop_table('cluster_moves')
    op.drop_table('cluster_owners')
    op.drop_table('cluster_nodes')
