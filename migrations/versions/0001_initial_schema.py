"""Initial schema: firms, tokens, clients, credentials, runs, items, outcomes, outbox, records.

Revision ID: 0001
Revises:
Create Date: 2026-01-15

Hand-checked against ``syncbucket.db.schema``; ``tests/integration/db`` compares the
migrated database with the models on PostgreSQL and SQLite. Written to be frozen: it
imports nothing from the application, and spells out every constraint name.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
AMOUNT = sa.Numeric(precision=15, scale=2)
RUN_SOURCES = ("ui", "api", "cli", "event", "schedule", "retry")
RUN_STATUSES = ("pending", "running", "completed", "completed_with_errors", "cancelled")
ITEM_STATUSES = ("pending", "queued", "running", "succeeded", "failed", "skipped", "cancelled")

RECORD_TABLES: dict[str, tuple[str, ...]] = {
    "return_summary_records": ("token_no",),
    "paid_challan_records": ("bsr_code", "deposit_date", "challan_serial"),
    "unconsumed_challan_records": ("bsr_code", "deposit_date", "challan_serial"),
    "notice_order_records": ("source", "reference"),
    "outstanding_demand_records": ("fin_year",),
    "ldc_records": ("certificate_no",),
}


def _timestamp(name: str, *, nullable: bool = False, default: bool = False) -> sa.Column[object]:
    server_default = sa.func.now() if default else None
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=server_default, nullable=nullable
    )


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), server_default="0", nullable=False)


def _one_of(table: str, column: str, name: str, values: Sequence[str]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(f"ck_{table}_{name}"))


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    _create_firms_and_tokens()
    _create_clients()
    _create_runs()
    _create_items()
    _create_outcomes()
    _create_outbox()
    _create_return_summary_records()
    _create_paid_challan_records()
    _create_unconsumed_challan_records()
    _create_notice_order_records()
    _create_outstanding_demand_records()
    _create_ldc_records()


def downgrade() -> None:
    for table in reversed(RECORD_TABLES):
        op.drop_table(table)
    op.drop_table("outbox")
    op.drop_table("outcomes")
    op.drop_table("items")
    op.drop_table("runs")
    op.drop_table("client_credentials")
    op.drop_table("clients")
    op.drop_table("api_tokens")
    op.drop_table("firms")


def _create_firms_and_tokens() -> None:
    op.create_table(
        "firms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        _timestamp("created_at", default=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_firms")),
        sa.UniqueConstraint("name", name=op.f("uq_firms_name")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_prefix", sa.String(length=8), nullable=False),
        _timestamp("created_at", default=True),
        _timestamp("revoked_at", nullable=True),
        _fk("api_tokens", "firm_id", "firms", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_firm_id"), "api_tokens", ["firm_id"])


def _create_clients() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tan", sa.String(length=10), nullable=False),
        sa.Column("pan", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("demo_note", sa.Text(), nullable=True),
        _timestamp("created_at", default=True),
        _timestamp("updated_at", default=True),
        _fk("clients", "firm_id", "firms"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        sa.UniqueConstraint("firm_id", "tan", name=op.f("uq_clients_firm_id_tan")),
    )
    op.create_table(
        "client_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("portal", sa.String(length=16), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        _timestamp("updated_at", default=True),
        _fk("client_credentials", "client_id", "clients", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_credentials")),
        sa.UniqueConstraint(
            "client_id", "portal", name=op.f("uq_client_credentials_client_id_portal")
        ),
    )


def _create_runs() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("modules", JSON_DOC, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column("parent_run_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=True),
        *(_counter(name) for name in ("total_items", "items_succeeded", "items_failed")),
        *(_counter(name) for name in ("items_skipped", "items_cancelled")),
        *(_counter(name) for name in ("records_new", "records_changed")),
        _timestamp("created_at", default=True),
        _timestamp("started_at", nullable=True),
        _timestamp("completed_at", nullable=True),
        _timestamp("cancel_requested_at", nullable=True),
        _one_of("runs", "source", "run_source", RUN_SOURCES),
        _one_of("runs", "status", "run_status", RUN_STATUSES),
        _fk("runs", "firm_id", "firms"),
        _fk("runs", "parent_run_id", "runs", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint(
            "firm_id", "idempotency_key", name=op.f("uq_runs_firm_id_idempotency_key")
        ),
    )
    op.create_index(op.f("ix_runs_status"), "runs", ["status"])
    op.create_index(op.f("ix_runs_firm_id_created_at"), "runs", ["firm_id", "created_at"])


def _create_items() -> None:
    op.create_table(
        "items",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(length=40), nullable=False),
        sa.Column("portal", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        _counter("attempts"),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        *(_counter(f"records_{n}") for n in ("fetched", "new", "changed", "unchanged")),
        _timestamp("created_at", default=True),
        *(_timestamp(name, nullable=True) for name in ("queued_at", "started_at")),
        *(_timestamp(name, nullable=True) for name in ("finished_at", "deadline_at")),
        _one_of("items", "status", "item_status", ITEM_STATUSES),
        _fk("items", "run_id", "runs", ondelete="CASCADE"),
        _fk("items", "firm_id", "firms"),
        _fk("items", "client_id", "clients"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
        sa.UniqueConstraint(
            "run_id",
            "client_id",
            "module",
            "portal",
            name=op.f("uq_items_run_client_module_portal"),
        ),
    )
    op.create_index(op.f("ix_items_portal_status_run_id"), "items", ["portal", "status", "run_id"])
    op.create_index(op.f("ix_items_run_id_status"), "items", ["run_id", "status"])
    op.create_index(op.f("ix_items_client_id"), "items", ["client_id"])


def _create_outcomes() -> None:
    op.create_table(
        "outcomes",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        _counter("attempts"),
        *(_counter(f"records_{n}") for n in ("fetched", "new", "changed", "unchanged")),
        _timestamp("received_at", default=True),
        _one_of("outcomes", "status", "outcome_status", ITEM_STATUSES),
        _fk("outcomes", "item_id", "items", ondelete="CASCADE"),
        _fk("outcomes", "run_id", "runs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
        sa.UniqueConstraint("item_id", name=op.f("uq_outcomes_item_id")),
    )
    op.create_index(op.f("ix_outcomes_run_id"), "outcomes", ["run_id"])


def _create_outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("routing_key", sa.String(length=200), nullable=False),
        sa.Column("payload", JSON_DOC, nullable=False),
        _timestamp("created_at", default=True),
        _timestamp("sent_at", nullable=True),
        _counter("publish_attempts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    op.create_index(op.f("ix_outbox_sent_at"), "outbox", ["sent_at"])


def _create_record_table(table: str, *columns: sa.Column[object]) -> None:
    """A records table: identity, the module's own columns, then change bookkeeping."""
    op.create_table(
        table,
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        *columns,
        sa.Column("content", JSON_DOC, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        *(_timestamp(f"{n}_at") for n in ("first_seen", "last_seen", "last_changed")),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        _fk(table, "firm_id", "firms"),
        _fk(table, "client_id", "clients"),
        _fk(table, "last_run_id", "runs", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(
            "client_id", *RECORD_TABLES[table], name=op.f(f"uq_{table}_natural_key")
        ),
    )
    op.create_index(op.f(f"ix_{table}_firm_id"), table, ["firm_id"])


def _string(name: str, length: int, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _date(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.Date(), nullable=nullable)


def _amount(name: str) -> sa.Column[object]:
    return sa.Column(name, AMOUNT, nullable=False)


def _challan_key() -> tuple[sa.Column[object], ...]:
    return (
        _string("bsr_code", 7),
        _date("deposit_date", nullable=False),
        _string("challan_serial", 5),
    )


def _create_return_summary_records() -> None:
    _create_record_table(
        "return_summary_records",
        _string("token_no", 20),
        _string("fin_year", 7),
        _string("quarter", 2),
        _string("form_type", 8),
        _string("status", 200),
        _date("filed_on"),
    )


def _create_paid_challan_records() -> None:
    _create_record_table(
        "paid_challan_records",
        *_challan_key(),
        _string("cin", 32),
        _string("fin_year", 7),
        _amount("amount"),
    )


def _create_unconsumed_challan_records() -> None:
    _create_record_table(
        "unconsumed_challan_records",
        *_challan_key(),
        _amount("challan_amount"),
        _amount("unconsumed_amount"),
    )


def _create_notice_order_records() -> None:
    _create_record_table(
        "notice_order_records",
        _string("source", 32),
        _string("reference", 64),
        _string("fin_year", 16, nullable=True),
        _string("status", 200),
        _date("issued_on"),
        _date("response_due_on"),
    )


def _create_outstanding_demand_records() -> None:
    _create_record_table(
        "outstanding_demand_records",
        _string("fin_year", 16),
        _amount("ao_demand"),
        _amount("cpc_demand"),
    )


def _create_ldc_records() -> None:
    _create_record_table(
        "ldc_records",
        _string("certificate_no", 20),
        _string("pan", 10),
        _string("fin_year", 16),
        _string("verdict", 20),
        _date("valid_to"),
    )
