"""jaki_reports: the table of citizen reports

Revision ID: 0001
Revises:

Until 0.1 the hub itself kept these in a table ``reports``; a database made
then has it, with its rows: it is renamed to ``jaki_reports`` (and its
indexes with it), so every report, open or closed, stays.  A new database
gets the table made here.
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

INDEXES = [("camera_id", False), ("open_key", True), ("state", False)]


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("reports"):
        with op.batch_alter_table("reports") as batch:
            for column, _ in INDEXES:
                batch.drop_index(f"ix_reports_{column}")
        op.rename_table("reports", "jaki_reports")
    else:
        op.create_table('jaki_reports',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('notifier', sa.String(length=100), nullable=False),
        sa.Column('rule', sa.String(length=100), nullable=False),
        sa.Column('camera_id', sa.String(length=250), nullable=True),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('open_key', sa.String(length=500), nullable=True),
        sa.Column('service_code', sa.String(length=100), nullable=False),
        sa.Column('external_id', sa.String(length=200), nullable=True),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('media_url', sa.Text(), nullable=True),
        sa.Column('trigger_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=True),
        sa.Column('occurrences', sa.Integer(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('filed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('deadline', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status_notes', sa.Text(), nullable=True),
        sa.Column('agency_responsible', sa.String(length=200), nullable=True),
        sa.Column('escalations', sa.JSON(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
    with op.batch_alter_table("jaki_reports") as batch:
        for column, unique in INDEXES:
            batch.create_index(f"ix_jaki_reports_{column}", [column], unique=unique)


def downgrade() -> None:
    op.drop_table("jaki_reports")
