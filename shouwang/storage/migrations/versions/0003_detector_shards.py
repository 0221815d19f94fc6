"""the detectors running now, by shard

Revision ID: 0003_detector_shards
Revises: 0002_channels_cover_care_devices
Created: 2026-12-02 00:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_detector_shards'
down_revision = '0002_channels_cover_care_devices'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('detector_shards',
    sa.Column('instance', sa.String(length=200), nullable=False),
    sa.Column('shard_index', sa.Integer(), nullable=False),
    sa.Column('shard_count', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.Float(), nullable=False),
    sa.Column('seen_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('instance')
    )


def downgrade() -> None:
    op.drop_table('detector_shards')
