"""evidence requests, their holds, chain checkpoints, clock offsets

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evidence_requests',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('evidence_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_requests_state'), ['state'], unique=False)
    op.create_table('evidence_holds',
    sa.Column('request_id', sa.String(length=32), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('request_id', 'segment_id')
    )
    op.create_table('chain_checkpoints',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('camera_id', sa.String(length=250), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('chain', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('chain_checkpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_checkpoints_camera_id'), ['camera_id'], unique=False)
    op.create_table('clock_offsets',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('clock_offsets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clock_offsets_source'), ['source'], unique=False)
        batch_op.create_index(batch_op.f('ix_clock_offsets_at'), ['at'], unique=False)


def downgrade() -> None:
    op.drop_table('clock_offsets')
    op.drop_table('chain_checkpoints')
    op.drop_table('evidence_holds')
    op.drop_table('evidence_requests')
