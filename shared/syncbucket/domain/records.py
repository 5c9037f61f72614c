"""Typed records, one kind per module: what a sync brings home.

Amounts are ``Decimal``, dates are ``date``. Each record names its ``natural_key``: the
identity of the real document (a challan is BSR code + date of deposit + serial no, never
its CIN), which the records tables are keyed by so that a sync can tell new from changed.
``content()`` is the JSON-ready body that change detection hashes and the DB stores.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


@dataclass(frozen=True)
class Record:
    key_fields: ClassVar[tuple[str, ...]] = ()

    @property
    def natural_key(self) -> tuple[str, ...]:
        return tuple(str(_jsonable(getattr(self, name))) for name in self.key_fields)

    def content(self) -> dict[str, Any]:
        body: dict[str, Any] = _jsonable(self)
        return body


@dataclass(frozen=True)
class StatementStatus(Record):
    """return_summary: one TDS statement (regular or correction) as TRACES reports it."""

    key_fields: ClassVar[tuple[str, ...]] = ("token_no",)
    token_no: str
    fin_year: str  # "2025-26"
    quarter: str  # "Q1".."Q4"
    form_type: str  # 24Q, 26Q, 27Q, 27EQ (138/140/144/143 from tax year 2026-27)
    statement_type: str  # Regular | Correction
    filed_on: date | None
    status: str
    status_as_on: date | None
    remarks: str | None
    rejection_reason: str | None


@dataclass(frozen=True)
class TaxBreakup:
    tax: Decimal
    surcharge: Decimal
    cess: Decimal
    interest: Decimal
    penalty: Decimal
    fee_234e: Decimal
    total: Decimal


@dataclass(frozen=True)
class PaidChallan(Record):
    """fetch_challans: an ITNS 281 challan from the IT portal's payment history."""

    key_fields: ClassVar[tuple[str, ...]] = ("bsr_code", "deposit_date", "challan_serial")
    bsr_code: str
    deposit_date: date
    challan_serial: str
    cin: str
    assessment_year: str
    fin_year: str
    major_head: str
    minor_head: str
    nature_of_payment: str
    amount: Decimal
    mode_of_payment: str
    bank_name: str
    bank_reference_no: str
    tender_date: date | None
    breakup: TaxBreakup


@dataclass(frozen=True)
class ChallanConsumption:
    token_no: str
    fin_year: str
    quarter: str
    form_type: str
    claimed_amount: Decimal
    claimed_interest: Decimal
    claimed_other: Decimal
    status: str  # Matched | Unmatched | Overbooked
    excess_amount: Decimal


@dataclass(frozen=True)
class UnconsumedChallan(Record):
    """unconsumed_challans: a challan with a balance TRACES has not consumed yet."""

    key_fields: ClassVar[tuple[str, ...]] = ("bsr_code", "deposit_date", "challan_serial")
    bsr_code: str
    deposit_date: date
    challan_serial: str
    receipt_no: str
    challan_amount: Decimal
    unconsumed_amount: Decimal
    consumption: tuple[ChallanConsumption, ...]


@dataclass(frozen=True)
class NoticeOrder(Record):
    """notices_orders: an e-Proceeding notice (IT portal) or a raised request (TRACES)."""

    key_fields: ClassVar[tuple[str, ...]] = ("source", "reference")
    source: str  # "eproceeding" | "traces_request"
    reference: str  # DIN (or proceedingReqId when no notice yet) | TRACES reqNo
    title: str
    fin_year: str | None
    assessment_year: str | None
    status: str
    issued_on: date | None
    response_due_on: date | None
    section: str | None
    detail: str | None


@dataclass(frozen=True)
class DemandComponents:
    short_payment: Decimal
    short_deduction: Decimal
    interest_late_payment: Decimal
    interest_late_deduction: Decimal
    late_filing_fee_234e: Decimal
    interest_220_2: Decimal
    net_payable: Decimal


@dataclass(frozen=True)
class OutstandingDemand(Record):
    """outstanding_demand: demand for one FY (or the "Prior Years" row, fin_year="prior")."""

    key_fields: ClassVar[tuple[str, ...]] = ("fin_year",)
    fin_year: str
    ao_demand: Decimal
    cpc_demand: Decimal
    components: DemandComponents | None


@dataclass(frozen=True)
class LowerDeductionCertificate(Record):
    """verify_ldc: a s.197 certificate as TRACES verifies it, with its verdict."""

    key_fields: ClassVar[tuple[str, ...]] = ("certificate_no",)
    certificate_no: str
    fin_year: str
    pan: str
    name: str
    section: str
    nature_of_payment: str
    tds_rate: Decimal
    amount_limit: Decimal
    amount_consumed: Decimal
    # None only for an "invalid" verdict: TRACES knows no such certificate.
    valid_from: date | None
    valid_to: date | None
    cancelled_on: date | None
    issued_on: date | None
    verdict: str  # valid | cancelled | expired | exhausted | invalid
