"""Sample domain records for tests of the records tables and their upsert."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from syncbucket.domain.records import (
    DemandComponents,
    LowerDeductionCertificate,
    NoticeOrder,
    OutstandingDemand,
    PaidChallan,
    Record,
    StatementStatus,
    TaxBreakup,
    UnconsumedChallan,
)

ZERO = Decimal("0.00")


def challan(serial: str, amount: str = "1000.00", day: int = 7) -> PaidChallan:
    value = Decimal(amount)
    return PaidChallan(
        bsr_code="0270001",
        deposit_date=date(2025, 7, day),
        challan_serial=serial,
        cin=f"0270001{day:02d}072025{serial}",
        assessment_year="2026-27",
        fin_year="2025-26",
        major_head="0020",
        minor_head="200",
        nature_of_payment="94J",
        amount=value,
        mode_of_payment="Net Banking",
        bank_name="State Bank of India",
        bank_reference_no="REF" + serial,
        tender_date=date(2025, 7, day),
        breakup=TaxBreakup(value, ZERO, ZERO, ZERO, ZERO, ZERO, value),
    )


def one_of_each() -> list[Record]:
    return [
        StatementStatus(
            "123456789012345",
            "2025-26",
            "Q1",
            "26Q",
            "Regular",
            date(2025, 7, 30),
            "Processed without defaults",
            date(2025, 8, 5),
            None,
            None,
        ),
        challan("00893"),
        UnconsumedChallan(
            "0270001", date(2025, 7, 7), "00893", "R1", Decimal("1000.00"), Decimal("250.50"), ()
        ),
        NoticeOrder(
            "eproceeding",
            "ITBA/COM/F/17/2025-26/1000000001(1)",
            "Notice u/s 200A",
            "2025-26",
            None,
            "Open",
            date(2025, 8, 1),
            date(2025, 8, 31),
            "200A",
            None,
        ),
        OutstandingDemand(
            "2024-25",
            Decimal("0.00"),
            Decimal("1520.00"),
            DemandComponents(
                ZERO, ZERO, Decimal("20.00"), ZERO, Decimal("1500.00"), ZERO, Decimal("1520.00")
            ),
        ),
        LowerDeductionCertificate(
            "1111AA111A",
            "2025-26",
            "ABCPE1234F",
            "Deductee",
            "194J",
            "Professional fees",
            Decimal("2.00"),
            Decimal("500000.00"),
            Decimal("1000.00"),
            date(2025, 4, 1),
            date(2026, 3, 31),
            None,
            date(2025, 4, 1),
            "valid",
        ),
    ]


def changed(record: PaidChallan) -> PaidChallan:
    return replace(record, bank_reference_no=record.bank_reference_no + "-2")
