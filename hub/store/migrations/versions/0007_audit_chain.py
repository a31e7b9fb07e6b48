"""audit log hash chain

Revision ID: 0007
Revises: 0006

Each row gets the hash of the row before it and its own.  The rows already
there are chained here, in id order, with the rule of hub/store/audit.py
``row_digest``, written out (a migration must not change when the code does).
"""

import hashlib
import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _digest(prev, at, principal_id, action, camera_id, allowed, reason):
    when = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    body = json.dumps([when, principal_id, action, camera_id, bool(allowed), reason],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=False, server_default=GENESIS))
        batch_op.add_column(sa.Column('row_hash', sa.String(length=64), nullable=False, server_default=GENESIS))
    log = sa.table('audit_log', sa.column('id', sa.Integer), sa.column('at', sa.DateTime(timezone=True)),
                   sa.column('principal_id', sa.String), sa.column('action', sa.String),
                   sa.column('camera_id', sa.String), sa.column('allowed', sa.Boolean),
                   sa.column('reason', sa.Text), sa.column('prev_hash', sa.String), sa.column('row_hash', sa.String))
    bind = op.get_bind()
    prev = GENESIS
    rows = bind.execute(sa.select(log.c.id, log.c.at, log.c.principal_id, log.c.action, log.c.camera_id,
                                  log.c.allowed, log.c.reason).order_by(log.c.id)).all()
    for r in rows:
        digest = _digest(prev, r.at, r.principal_id, r.action, r.camera_id, r.allowed, r.reason)
        bind.execute(log.update().where(log.c.id == r.id).values(prev_hash=prev, row_hash=digest))
        prev = digest


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')
