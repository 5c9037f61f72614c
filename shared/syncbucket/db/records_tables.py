"""One records table per module, keyed by the natural key of the real document.

Every table shares the columns of :class:`RecordRow`; each adds its natural-key columns
(``UNIQUE(client_id, <key>)``) and a few query columns, all named exactly like the
fields of its :mod:`syncbucket.domain.records` class, so that
:mod:`syncbucket.db.records_repo` can upsert any record from ``RECORD_MODELS`` alone.
``content`` holds the whole ``Record.content()``; ``content_hash`` detects change;
``previous_content`` keeps the content the last change replaced.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from syncbucket.db.base import Base, BigId, JsonDoc
from syncbucket.domain import records as rec
from syncbucket.domain.portals import ModuleKey

Amount = sa.Numeric(15, 2)


class RecordRow(Base):
    """Columns common to every records table."""

    __abstract__ = True
    record_type: ClassVar[type[rec.Record]]
    key_columns: ClassVar[tuple[str, ...]]
    query_columns: ClassVar[tuple[str, ...]]

    # sort_order: shared identity columns first, the table's own next, bookkeeping last.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, sort_order=-1)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id"), sort_order=-1)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), sort_order=-1)
    content: Mapped[dict[str, Any]] = mapped_column(JsonDoc, sort_order=1)
    content_hash: Mapped[str] = mapped_column(sa.String(64), sort_order=1)
    first_seen_at: Mapped[datetime] = mapped_column(sort_order=1)
    last_seen_at: Mapped[datetime] = mapped_column(sort_order=1)
    last_changed_at: Mapped[datetime] = mapped_column(sort_order=1)
    last_run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("runs.id", ondelete="SET NULL"), sort_order=1
    )
    # The run that inserted or last changed the row, and the content before that change
    # (None for a row that is new in that run): "what the latest sync changed", with the
    # old and the new value of every changed field (migration 0005).
    changed_run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("runs.id", ondelete="SET NULL"), sort_order=1
    )
    previous_content: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc, sort_order=1)


def _table_args(table: str, *key: str) -> tuple[Any, ...]:
    return (
        sa.UniqueConstraint("client_id", *key, name=f"uq_{table}_natural_key"),
        sa.Index(f"ix_{table}_firm_id", "firm_id"),
    )


class ReturnSummaryRecord(RecordRow):
    __tablename__ = "return_summary_records"
    __table_args__ = _table_args(__tablename__, "token_no")
    record_type = rec.StatementStatus
    key_columns = ("token_no",)
    query_columns = ("fin_year", "quarter", "form_type", "status", "filed_on")

    token_no: Mapped[str] = mapped_column(sa.String(20))
    fin_year: Mapped[str] = mapped_column(sa.String(7))
    quarter: Mapped[str] = mapped_column(sa.String(2))
    form_type: Mapped[str] = mapped_column(sa.String(8))
    status: Mapped[str] = mapped_column(sa.String(200))
    filed_on: Mapped[date | None]


class PaidChallanRecord(RecordRow):
    __tablename__ = "paid_challan_records"
    __table_args__ = _table_args(__tablename__, "bsr_code", "deposit_date", "challan_serial")
    record_type = rec.PaidChallan
    key_columns = ("bsr_code", "deposit_date", "challan_serial")
    query_columns = ("cin", "fin_year", "amount")

    bsr_code: Mapped[str] = mapped_column(sa.String(7))
    deposit_date: Mapped[date]
    challan_serial: Mapped[str] = mapped_column(sa.String(5))
    cin: Mapped[str] = mapped_column(sa.String(32))
    fin_year: Mapped[str] = mapped_column(sa.String(7))
    amount: Mapped[Decimal] = mapped_column(Amount)


class UnconsumedChallanRecord(RecordRow):
    __tablename__ = "unconsumed_challan_records"
    __table_args__ = _table_args(__tablename__, "bsr_code", "deposit_date", "challan_serial")
    record_type = rec.UnconsumedChallan
    key_columns = ("bsr_code", "deposit_date", "challan_serial")
    query_columns = ("challan_amount", "unconsumed_amount")

    bsr_code: Mapped[str] = mapped_column(sa.String(7))
    deposit_date: Mapped[date]
    challan_serial: Mapped[str] = mapped_column(sa.String(5))
    challan_amount: Mapped[Decimal] = mapped_column(Amount)
    unconsumed_amount: Mapped[Decimal] = mapped_column(Amount)


class NoticeOrderRecord(RecordRow):
    __tablename__ = "notice_order_records"
    __table_args__ = _table_args(__tablename__, "source", "reference")
    record_type = rec.NoticeOrder
    key_columns = ("source", "reference")
    query_columns = ("fin_year", "status", "issued_on", "response_due_on")

    source: Mapped[str] = mapped_column(sa.String(32))
    reference: Mapped[str] = mapped_column(sa.String(64))
    fin_year: Mapped[str | None] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(200))
    issued_on: Mapped[date | None]
    response_due_on: Mapped[date | None]


class OutstandingDemandRecord(RecordRow):
    __tablename__ = "outstanding_demand_records"
    __table_args__ = _table_args(__tablename__, "fin_year")
    record_type = rec.OutstandingDemand
    key_columns = ("fin_year",)
    query_columns = ("ao_demand", "cpc_demand")

    fin_year: Mapped[str] = mapped_column(sa.String(16))
    ao_demand: Mapped[Decimal] = mapped_column(Amount)
    cpc_demand: Mapped[Decimal] = mapped_column(Amount)


class LdcRecord(RecordRow):
    __tablename__ = "ldc_records"
    __table_args__ = _table_args(__tablename__, "certificate_no")
    record_type = rec.LowerDeductionCertificate
    key_columns = ("certificate_no",)
    query_columns = ("pan", "fin_year", "verdict", "valid_to")

    certificate_no: Mapped[str] = mapped_column(sa.String(20))
    pan: Mapped[str] = mapped_column(sa.String(10))
    fin_year: Mapped[str] = mapped_column(sa.String(16))
    verdict: Mapped[str] = mapped_column(sa.String(20))
    valid_to: Mapped[date | None]


RECORD_MODELS: dict[type[rec.Record], type[RecordRow]] = {
    model.record_type: model
    for model in (
        ReturnSummaryRecord,
        PaidChallanRecord,
        UnconsumedChallanRecord,
        NoticeOrderRecord,
        OutstandingDemandRecord,
        LdcRecord,
    )
}

MODULE_MODELS: dict[ModuleKey, type[RecordRow]] = {
    ModuleKey.RETURN_SUMMARY: ReturnSummaryRecord,
    ModuleKey.FETCH_CHALLANS: PaidChallanRecord,
    ModuleKey.UNCONSUMED_CHALLANS: UnconsumedChallanRecord,
    ModuleKey.NOTICES_ORDERS: NoticeOrderRecord,
    ModuleKey.OUTSTANDING_DEMAND: OutstandingDemandRecord,
    ModuleKey.VERIFY_LDC: LdcRecord,
}


def model_for(record_type: type[rec.Record]) -> type[RecordRow]:
    try:
        return RECORD_MODELS[record_type]
    except KeyError:
        raise TypeError(f"no records table for {record_type.__name__}") from None
