"""camera status history

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('camera_status',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('camera_id', sa.String(length=250), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('camera_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_camera_status_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_camera_status_camera_id'), ['camera_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('camera_status', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_camera_status_camera_id'))
        batch_op.drop_index(batch_op.f('ix_camera_status_at'))

    op.drop_table('camera_status')
