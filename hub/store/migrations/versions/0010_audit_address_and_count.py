"""audit rows: the caller's address, and a count for repeats

Revision ID: 0010
Revises: 0009

Rows already there keep their hash: ``row_digest`` takes the address and the
count only when a row has an address or stands for more than one decision.
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('count', sa.Integer(), nullable=False, server_default='1'))
        batch_op.create_index(batch_op.f('ix_audit_log_camera_id'), ['camera_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_camera_id'))
        batch_op.drop_column('count')
        batch_op.drop_column('address')
