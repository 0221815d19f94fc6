"""a detector's own clock at its beat, and when it stopped

Revision ID: 0004_detector_shard_times
Revises: 0003_detector_shards
Created: 2026-12-02 01:35:00

A commit between 0003 and this one had added both columns by editing 0003, so a store at 0003 may
have them already (found by a regression tester): each is added only where missing, and a beat
recorded before this revision takes its time as its clock's (0 would read as alive in 1970).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_detector_shard_times'
down_revision = '0003_detector_shards'
branch_labels = None
depends_on = None


def _columns() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns('detector_shards')}


def upgrade() -> None:
    have = _columns()
    with op.batch_alter_table('detector_shards') as batch:
        if 'clock_at' not in have:
            batch.add_column(sa.Column('clock_at', sa.Float(), nullable=False, server_default='0'))
        if 'stopped_at' not in have:
            batch.add_column(sa.Column('stopped_at', sa.Float(), nullable=True))
    op.execute("UPDATE detector_shards SET clock_at = seen_at WHERE clock_at = 0")


def downgrade() -> None:
    have = _columns()
    with op.batch_alter_table('detector_shards') as batch:
        if 'stopped_at' in have:
            batch.drop_column('stopped_at')
        if 'clock_at' in have:
            batch.drop_column('clock_at')
