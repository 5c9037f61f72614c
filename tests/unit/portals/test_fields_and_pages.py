"""Malformed fields become PortalPermanent naming field and module; pagination walks all."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncbucket.portals.errors import ErrorCode, PortalPermanent
from syncbucket.portals.fields import Fields
from syncbucket.portals.itportal import eproceedings
from syncbucket.portals.itportal.client import ItPortalClient
from syncbucket.portals.traces import outstanding_demand, return_summary
from syncbucket.portals.traces.client import TracesClient

from .fakes import IT_URL, TAN, TRACES_URL, FakeItPortal, FakeTraces, credentials, fixed, paged

STATEMENT = {
    "finyear": "2025",
    "quarter": 4,
    "formtype": "26Q",
    "tokenno": "123456789012345",
    "dtoffiling": "15-Oct-2025",
    "status": "Processed without defaults",
    "dtofprcng": None,
    "stmnttype": "Regular",
    "remarks": None,
    "reason": None,
}
PATH = "/app/srv/deductor/statementStatus"


def traces(fake: FakeTraces) -> TracesClient:
    return TracesClient(
        base_url=TRACES_URL, credentials=credentials(), tan=TAN, transport=fake.transport()
    )


def statements(rows: list[dict[str, Any]], page_size: int = 2) -> FakeTraces:
    return FakeTraces(routes={PATH: paged(rows, page_size)})


def test_pagination_walks_every_page() -> None:
    rows = [{**STATEMENT, "tokenno": f"12345678901234{i}"} for i in range(5)]
    fake = statements(rows)
    records = return_summary.fetch(traces(fake))
    assert [rec.token_no for rec in records] == [row["tokenno"] for row in rows]
    pages = [req.url.params["pageNo"] for req in fake.seen if req.url.path.endswith(PATH)]
    assert pages == ["1", "2", "3"]
    assert records[0].quarter == "Q2" and records[0].fin_year == "2025-26"


def test_expiry_mid_pagination_repeats_only_that_page() -> None:
    rows = [{**STATEMENT, "tokenno": f"12345678901234{i}"} for i in range(4)]
    fake = statements(rows)
    client = traces(fake)
    pages = client.paginate(PATH, module="return_summary", what="statements")
    first = [next(pages), next(pages)]
    fake.expire = ["html"]
    rest = list(pages)
    assert len(first + rest) == 4 and fake.logins == 2


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("dtoffiling", "2025-10-15", "a date like 15-Jul-2025"),
        ("quarter", 9, "a quarter code"),
        ("finyear", "25", "a financial year"),
        ("tokenno", None, "text"),
    ],
)
def test_bad_field_names_field_and_module(field: str, value: Any, expected: str) -> None:
    with pytest.raises(PortalPermanent) as caught:
        return_summary.fetch(traces(statements([{**STATEMENT, field: value}])))
    assert caught.value.code == ErrorCode.UNEXPECTED_RESPONSE
    assert f"field '{field}'" in caught.value.message
    assert "return_summary" in caught.value.message and expected in caught.value.message


def test_missing_key_and_bad_amount() -> None:
    row = {k: v for k, v in STATEMENT.items() if k != "status"}
    with pytest.raises(
        PortalPermanent,
        match="field 'status' of rows\\[0\\] of page 1 should be text \\(it is missing\\)",
    ):
        return_summary.fetch(traces(statements([row])))
    demand = {"rows": [{"finYr": "2024", "aodmnd": "12,34x", "cpcdmd": "0.00", "components": None}]}
    fake = FakeTraces(routes={"/app/srv/deductor/outstandingDemand": fixed(demand)})
    with pytest.raises(PortalPermanent, match=r"outstanding_demand: field 'aodmnd' .*an amount"):
        outstanding_demand.fetch(traces(fake))


def test_page_without_rows_is_unexpected() -> None:
    fake = FakeTraces(routes={PATH: fixed({"pageNo": 1, "totalPages": 1})})
    with pytest.raises(PortalPermanent, match="field 'rows' of page 1"):
        return_summary.fetch(traces(fake))


def test_proceeding_without_notices_is_kept() -> None:
    proceeding = {
        "proceedingReqId": "100000000001",
        "proceedingName": "Notice u/s 133(6)",
        "pan": TAN,
        "nameOfAssesse": "X",
        "assessmentYear": "2025-26",
        "financialYr": "2024-25",
        "viewNoticeCount": 0,
        "proceedingType": "Verification",
        "lastResponseSubmittedOn": None,
        "proceedingStatus": "O",
    }
    fake = FakeItPortal(
        routes={
            "/iec/eproceedings": paged([proceeding]),
            "/iec/eproceedings/100000000001/notices": fixed([]),
        }
    )
    client = ItPortalClient(
        base_url=IT_URL, credentials=credentials(), tan=TAN, transport=fake.transport()
    )
    records = eproceedings.fetch(client)
    assert len(records) == 1  # listed on both tabs by the fake, kept once
    assert (records[0].reference, records[0].status) == ("100000000001", "Open")


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False))
def test_amounts_round_trip(value: Decimal) -> None:
    fields = Fields({"a": f"{value:,.2f}", "b": value}, portal="traces", module="m")
    assert fields.amount("a") == value == fields.amount("b")
    assert fields.amount("a").as_tuple().exponent == -2
