"""An index that hands the dispatcher a run's next pending items in id order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

The dispatcher asks for ``run_id = ? AND portal = ? AND status = 'pending' ORDER BY id
LIMIT n FOR UPDATE SKIP LOCKED``. With the row lock between the LIMIT and the sort,
PostgreSQL cannot use a top-N sort: without this index every tick sorted the run's whole
pending set (49,000 rows of a 70,000-item run spilled to disk in the benchmark).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_items_run_id_portal_status_id", "items", ["run_id", "portal", "status", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_items_run_id_portal_status_id", table_name="items")
