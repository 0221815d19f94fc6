"""baseline: the state store as commit a9fda27 made it

Revision ID: 0001_baseline
Revises:
Created: 2026-11-30
"""

from __future__ import annotations

from alembic import op

from shouwang.storage.migrations.baseline import metadata

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
