"""a detector's own clock at its beat, and when it stopped

Revision ID: 0004_detector_shard_times
Revises: 0003_detector_shards
Created: 2026-12-02 01:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_detector_shard_times'
down_revision = '0003_detector_shards'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('detector_shards') as batch:
        batch.add_column(sa.Column('clock_at', sa.Float(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('stopped_at', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('detector_shards') as batch:
        batch.drop_column('stopped_at')
        batch.drop_column('clock_at')
