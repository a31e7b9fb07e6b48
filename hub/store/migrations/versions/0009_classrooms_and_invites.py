"""classrooms and parent invitations

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('classrooms',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('site', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('tag', sa.String(length=100), nullable=False),
    sa.Column('hours', sa.Text(), nullable=False),
    sa.Column('time_zone', sa.String(length=60), nullable=False),
    sa.Column('consent', sa.Text(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site', 'name')
    )
    op.create_table('parent_invites',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('classroom_id', sa.String(length=32), nullable=False),
    sa.Column('grant_id', sa.String(length=32), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['classroom_id'], ['classrooms.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('parent_invites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parent_invites_username'), ['username'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('parent_invites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parent_invites_username'))
    op.drop_table('parent_invites')
    op.drop_table('classrooms')
