"""privacy masks set over the API

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('privacy_masks',
    sa.Column('camera_id', sa.String(length=250), nullable=False),
    sa.Column('masks', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('camera_id')
    )


def downgrade() -> None:
    op.drop_table('privacy_masks')
