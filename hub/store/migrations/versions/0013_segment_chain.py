"""segments chained per camera

Revision ID: 0013
Revises: 0012

Each segment gets its place in its camera's hash chain; the segments already
indexed are chained here, per camera in id order, with the rule of
hub/store/recordings.py ``chain_digest``, written out (a migration must not
change when the code does).
"""

import hashlib
from datetime import UTC

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _utc(when):
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="microseconds")


def _digest(prev, camera_id, start, end, size, sha256):
    return hashlib.sha256("\n".join([prev, camera_id, _utc(start), _utc(end), str(size), sha256]).encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table('segments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_chain', sa.String(length=64), nullable=False, server_default=GENESIS))
        batch_op.add_column(sa.Column('chain', sa.String(length=64), nullable=False, server_default=GENESIS))
    op.create_table('chain_heads',
    sa.Column('camera_id', sa.String(length=250), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('chain', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('camera_id')
    )
    segments = sa.table('segments', sa.column('id', sa.Integer), sa.column('camera_id', sa.String),
                        sa.column('start', sa.DateTime(timezone=True)), sa.column('end', sa.DateTime(timezone=True)),
                        sa.column('size', sa.BigInteger), sa.column('sha256', sa.String),
                        sa.column('prev_chain', sa.String), sa.column('chain', sa.String))
    heads = sa.table('chain_heads', sa.column('camera_id', sa.String), sa.column('segment_id', sa.Integer),
                     sa.column('chain', sa.String))
    bind = op.get_bind()
    last: dict[str, tuple[int, str]] = {}
    rows = bind.execute(sa.select(segments.c.id, segments.c.camera_id, segments.c.start, segments.c.end,
                                  segments.c.size, segments.c.sha256).order_by(segments.c.id)).all()
    for r in rows:
        prev = last.get(r.camera_id, (0, GENESIS))[1]
        chain = _digest(prev, r.camera_id, r.start, r.end, r.size, r.sha256)
        bind.execute(segments.update().where(segments.c.id == r.id).values(prev_chain=prev, chain=chain))
        last[r.camera_id] = (r.id, chain)
    for camera_id, (segment_id, chain) in last.items():
        bind.execute(heads.insert().values(camera_id=camera_id, segment_id=segment_id, chain=chain))
    with op.batch_alter_table('segments', schema=None) as batch_op:  # no silent default for a hash
        batch_op.alter_column('prev_chain', server_default=None)
        batch_op.alter_column('chain', server_default=None)


def downgrade() -> None:
    op.drop_table('chain_heads')
    with op.batch_alter_table('segments', schema=None) as batch_op:
        batch_op.drop_column('chain')
        batch_op.drop_column('prev_chain')
