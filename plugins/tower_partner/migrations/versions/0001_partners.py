"""tower_partner: partners, their agreements and each agreement's steps

Revision ID: 0001
Revises:
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tower_partners',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('contacts', sa.Text(), nullable=False),
    sa.Column('networks', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=250), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('tower_partner_agreements',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_tower_partner_agreements_partner_id', 'tower_partner_agreements', ['partner_id'])
    op.create_index('ix_tower_partner_agreements_state', 'tower_partner_agreements', ['state'])
    op.create_table('tower_partner_agreement_steps',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agreement_id', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=250), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_tower_partner_agreement_steps_agreement_id', 'tower_partner_agreement_steps',
                    ['agreement_id'])


def downgrade() -> None:
    op.drop_table('tower_partner_agreement_steps')
    op.drop_table('tower_partner_agreements')
    op.drop_table('tower_partners')
