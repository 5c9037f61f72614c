"""Outbox rows carry a claim lease, so two relays never publish the same row at once.

Revision ID: 0003
Revises: 0002
Create Date: 2026-03-01

``pending_events`` claims unsent rows by setting ``claimed_until`` (now + lease) and
returns only the rows it claimed; another relay skips rows whose lease has not expired.
A relay that dies mid-batch leaves its rows claimed until the lease runs out, then any
relay picks them up again. Batch mode keeps SQLite's downgrade (DROP COLUMN) portable.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_until")
