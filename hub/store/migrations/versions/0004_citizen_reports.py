"""citizen reports (moved to the jaki_reports plugin)

Revision ID: 0004
Revises: 0003

Until 0.1 this revision made the ``reports`` table in the hub's own schema.
The table belongs to the ``jaki_reports`` plugin now, which makes it (or, in
a database made before, renames this one to ``jaki_reports``) through its
own migrations; this revision stays so that databases stamped 0004 go on.
"""


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
