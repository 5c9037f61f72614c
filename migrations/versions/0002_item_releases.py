"""Items remember how often the reaper released them back to pending.

Revision ID: 0002
Revises: 0001
Create Date: 2026-02-01

The reaper re-releases an item stuck in queued/running at most ``max_item_releases``
times, then fails it as ``timed_out`` (docs/architecture.md §2); the count must survive restarts,
so it lives on the row. Batch mode keeps SQLite's downgrade (DROP COLUMN) portable.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("releases", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("releases")
