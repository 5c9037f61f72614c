"""Upstream systems and schedules: integration secrets, leader leases, schedules.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

- ``integration_secrets``: a firm's secrets for signing sync-request events (encrypted
  with SYNCBUCKET_SECRET_KEY; a rotated-away one stays valid until ``expires_at``);
- ``leases``: named leader leases with a fencing token (the coordinator's dispatcher,
  reaper and scheduler run in one process at a time);
- ``schedules`` and ``schedule_fires``: periodic syncs, and one row per fire saying
  what it did (the unique key makes a fire start at most one run);
- ``outbox.attributes``: CloudEvents attributes an event carries beyond its payload's
  (the ``correlationid`` of an answer to a sync request);
- ``runs.progress_event_at``: when the run's last ``run.progress`` event was written,
  so the aggregator sends one at most every SYNCBUCKET_PROGRESS_EVENT_SECONDS.

Frozen like 0001: it imports nothing from the application.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FIRE_OUTCOMES = ("started", "skipped_running", "skipped_misfire", "refused")


def _timestamp(name: str, *, nullable: bool = False, default: bool = False) -> sa.Column[object]:
    server_default = sa.func.now() if default else None
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=server_default, nullable=nullable
    )


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attributes", JSON_DOC, nullable=True))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("progress_event_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "integration_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("secret_prefix", sa.String(12), nullable=False),
        sa.Column("created_by", sa.String(254), nullable=True),
        _timestamp("created_at", default=True),
        _timestamp("expires_at", nullable=True),
        _timestamp("revoked_at", nullable=True),
        _fk("integration_secrets", "firm_id", "firms", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_secrets")),
    )
    op.create_index("ix_integration_secrets_firm_id", "integration_secrets", ["firm_id"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("fencing_token", sa.BigInteger(), server_default="0", nullable=False),
        _timestamp("acquired_at", nullable=True),
        _timestamp("renewed_at", nullable=True),
        _timestamp("expires_at", nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("cron", sa.String(100), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("selection", JSON_DOC, nullable=False),
        sa.Column("modules", JSON_DOC, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_by", sa.String(254), nullable=True),
        _timestamp("created_at", default=True),
        _timestamp("updated_at", default=True),
        _timestamp("next_fire_at", nullable=True),
        _timestamp("last_fire_at", nullable=True),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        _fk("schedules", "firm_id", "firms", "CASCADE"),
        _fk("schedules", "last_run_id", "runs", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("firm_id", "name", name=op.f("uq_schedules_firm_id_name")),
    )
    op.create_index("ix_schedules_active_next_fire_at", "schedules", ["active", "next_fire_at"])
    listed = ", ".join(f"'{outcome}'" for outcome in FIRE_OUTCOMES)
    op.create_table(
        "schedule_fires",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        _timestamp("fire_time"),
        _timestamp("decided_at", default=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        _fk("schedule_fires", "schedule_id", "schedules", "CASCADE"),
        _fk("schedule_fires", "run_id", "runs", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_fires")),
        sa.UniqueConstraint(
            "schedule_id", "fire_time", name=op.f("uq_schedule_fires_schedule_id_fire_time")
        ),
        sa.CheckConstraint(f"outcome IN ({listed})", name=op.f("ck_schedule_fires_fire_outcome")),
    )


def downgrade() -> None:
    op.drop_table("schedule_fires")
    op.drop_index("ix_schedules_active_next_fire_at", table_name="schedules")
    op.drop_table("schedules")
    op.drop_table("leases")
    op.drop_index("ix_integration_secrets_firm_id", table_name="integration_secrets")
    op.drop_table("integration_secrets")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("progress_event_at")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("attributes")
