"""several nodes: each node's key (a request it passes to another node is its own); a camera's hand-over

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cluster_nodes') as batch:
        batch.add_column(sa.Column('peer_key', sa.String(length=64), nullable=True))
    with op.batch_alter_table('cluster_owners') as batch:
        batch.add_column(sa.Column('next_node', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('next_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cluster_owners') as batch:
        batch.drop_column('next_at')
        batch.drop_column('next_node')
    with op.batch_alter_table('cluster_nodes') as batch:
        batch.drop_column('peer_key')
