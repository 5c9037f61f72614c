"""Each module part maps RECORDED simulator answers (fixtures/, see
tests/support/record_portal_fixtures.py) into typed records with exact values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from syncbucket.domain import records as r
from syncbucket.portals.base import AnyPortalClient
from syncbucket.portals.itportal import eproceedings, fetch_challans
from syncbucket.portals.itportal.client import ItPortalClient
from syncbucket.portals.traces import (
    outstanding_demand,
    raised_requests,
    return_summary,
    unconsumed_challans,
    verify_ldc,
)
from syncbucket.portals.traces.client import TracesClient

from .fakes import (
    IT_URL,
    TRACES_URL,
    FakeItPortal,
    FakeTraces,
    credentials,
    fixture_tan,
    replay,
)

SIM_TODAY = date(2026, 2, 28)  # the simulator's "today"


def traces(folder: str) -> AnyPortalClient:
    fake = FakeTraces(routes=replay(folder))
    return TracesClient(
        base_url=TRACES_URL,
        credentials=credentials(),
        tan=fixture_tan(folder),
        transport=fake.transport(),
    )


def itportal(folder: str) -> AnyPortalClient:
    fake = FakeItPortal(routes=replay(folder))
    return ItPortalClient(
        base_url=IT_URL,
        credentials=credentials(),
        tan=fixture_tan(folder),
        transport=fake.transport(),
    )


def by_key(records: Sequence[r.Record], *key: str) -> Any:
    found = [record for record in records if record.natural_key == key]
    assert len(found) == 1, key
    return found[0]


def test_return_summary() -> None:
    records = return_summary.fetch(traces("return_summary-traces"))
    assert len(records) == 24
    rejected = by_key(records, "870328185041328")
    assert rejected == r.StatementStatus(
        token_no="870328185041328",
        fin_year="2023-24",
        quarter="Q1",
        form_type="26Q",
        statement_type="Regular",
        filed_on=date(2023, 7, 29),
        status="Rejected",
        status_as_on=date(2023, 8, 4),
        remarks=None,
        rejection_reason="Invalid TAN in statement",
    )
    assert {rec.quarter for rec in records} <= {"Q1", "Q2", "Q3", "Q4"}
    assert any(rec.status_as_on is None for rec in records)  # pending: no processing date


def test_unconsumed_challans() -> None:
    records = unconsumed_challans.fetch(traces("unconsumed_challans-traces"))
    assert len(records) == 13
    challan = by_key(records, "3875920", "2024-06-03", "99694")
    assert challan.challan_amount == Decimal("246326.00")
    assert challan.unconsumed_amount == Decimal("141883.78")
    assert challan.receipt_no == "24060398716269PUNB"
    first = challan.consumption[0]
    assert (first.token_no, first.fin_year, first.quarter, first.form_type) == (
        "963091533298834",
        "2024-25",
        "Q1",
        "27Q",
    )
    assert first.claimed_amount == Decimal("88677.36")
    assert any(
        c.status == "Overbooked" and c.excess_amount > 0 for x in records for c in x.consumption
    )


def test_raised_requests() -> None:
    records = raised_requests.fetch(traces("notices_orders-traces"))
    assert len(records) == 5
    request = by_key(records, "traces_request", "3158164883")
    assert (request.title, request.fin_year, request.status) == (
        "Justification Report",
        "2023-24",
        "Available",
    )
    assert request.issued_on == date(2024, 7, 10)
    assert request.detail == "26Q Q1"


def test_outstanding_demand() -> None:
    records = outstanding_demand.fetch(traces("outstanding_demand-traces"))
    assert [rec.fin_year for rec in records] == ["2023-24", "2025-26", "prior"]
    fy = by_key(records, "2023-24")
    assert fy.cpc_demand == Decimal("57598.00") and fy.ao_demand == Decimal("0.00")
    assert fy.components.short_deduction == Decimal("42729.00")
    assert fy.components.late_filing_fee_234e == Decimal("3200.00")
    assert fy.components.net_payable == Decimal("57598.00")
    assert by_key(records, "prior").components is None


def test_verify_ldc() -> None:
    records = verify_ldc.fetch(traces("verify_ldc-traces"), today=SIM_TODAY)
    verdicts = {rec.certificate_no: rec.verdict for rec in records}
    assert verdicts == {
        "7611UU341D": "expired",
        "4061VA011Q": "valid",
        "9663QN674J": "expired",
        "3137YW407Z": "invalid",
        "1924VT722B": "valid",
        "2829TY093V": "cancelled",
        "1997WE852L": "expired",
    }
    valid = by_key(records, "4061VA011Q")
    assert valid.fin_year == "2025-26" and valid.tds_rate == Decimal("2.00")
    assert valid.amount_limit == Decimal("3500000.00")
    assert valid.amount_consumed == Decimal("1820000.00")
    assert (valid.valid_from, valid.valid_to) == (date(2025, 6, 27), date(2026, 3, 31))
    invalid = by_key(records, "3137YW407Z")
    assert (invalid.pan, invalid.fin_year, invalid.valid_to) == ("NAAFT6044L", "2023-24", None)
    assert by_key(records, "2829TY093V").cancelled_on == date(2024, 12, 2)


@pytest.mark.parametrize(
    ("today", "cancelled", "consumed", "expected"),
    [
        (date(2025, 5, 1), None, "10.00", "valid"),
        (date(2025, 5, 1), None, "100.00", "exhausted"),
        (date(2025, 5, 1), date(2025, 5, 1), "10.00", "cancelled"),
        (date(2025, 5, 1), date(2025, 6, 1), "10.00", "valid"),  # cancelled later, not yet
        (date(2026, 4, 1), None, "100.00", "expired"),
    ],
)
def test_ldc_verdict(today: date, cancelled: date | None, consumed: str, expected: str) -> None:
    verdict = verify_ldc.verdict(
        today, date(2026, 3, 31), cancelled, Decimal("100.00"), Decimal(consumed)
    )
    assert verdict == expected


def test_fetch_challans() -> None:
    records = fetch_challans.fetch(itportal("fetch_challans-itportal"))
    assert len(records) == 7
    challan = by_key(records, "5356125", "2025-03-08", "00393")
    assert challan.amount == Decimal("24734.00")
    assert (challan.fin_year, challan.assessment_year) == ("2024-25", "2025-26")
    assert (challan.major_head, challan.minor_head, challan.nature_of_payment) == (
        "0020",
        "200",
        "194C",
    )
    assert challan.cin == "25030891383056IOBA"
    assert challan.tender_date == date(2025, 3, 8)
    assert challan.breakup.total == Decimal("24734.00")
    assert all(
        str(rec.amount).endswith(tuple("0123456789")) and rec.amount.as_tuple().exponent == -2
        for rec in records
    )


def test_eproceedings() -> None:
    records = eproceedings.fetch(itportal("notices_orders-itportal"))
    assert len(records) == 4
    notice = by_key(records, "eproceeding", "ITBA/TDS/F/271H/2025-26/4716321103(1)")
    assert notice == r.NoticeOrder(
        source="eproceeding",
        reference="ITBA/TDS/F/271H/2025-26/4716321103(1)",
        title="Show cause notice u/s 271H",
        fin_year="2024-25",
        assessment_year="2025-26",
        status="Response Submitted",
        issued_on=date(2025, 11, 25),
        response_due_on=date(2025, 12, 16),
        section="271H",
        detail="Notice under section 271H of the Income-tax Act, 1961",
    )
