"""Deterministic, realistic data; data_epoch changes exactly the change_ratio subset."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from syncbucket.domain.identifiers import (
    BSR_RE,
    CHALLAN_SERIAL_RE,
    PAN_RE,
    date_from_epoch_ms,
    parse_iso_date,
    parse_traces_date,
)
from syncbucket.portalsim.data import changed_epochs, paginate, rows
from syncbucket.portalsim.data.dataset import page_count

DATASETS = (
    "return_summary",
    "raised_requests",
    "unconsumed_challans",
    "outstanding_demand",
    "ldc",
    "fetch_challans",
    "eproceedings",
)
TANS = [f"MUMA{i:05d}C" for i in range(200)]
TRACES_AMOUNT = re.compile(r"^\d+\.\d{2}$")
STATUSES = {
    "Processed with defaults",
    "Processed without defaults",
    "Rejected",
    "Pending for processing",
}


@pytest.mark.parametrize("name", DATASETS)
def test_same_tan_same_rows_and_other_tans_differ(name: str) -> None:
    assert rows(name, "DELA12345B") == rows.__wrapped__(name, "DELA12345B")
    distinct = {repr(rows(name, tan)) for tan in TANS[:20]}
    assert len(distinct) >= 10  # empty lists may repeat, real documents do not


def test_most_clients_fit_one_page_and_some_need_more() -> None:
    for name in ("return_summary", "unconsumed_challans", "fetch_challans"):
        sizes = [len(rows(name, tan)) for tan in TANS]
        multi_page = sum(size > 50 for size in sizes)
        assert 0 < multi_page < len(TANS) * 0.3, (name, multi_page)


def test_traces_statement_rows_follow_the_portal_codings() -> None:
    all_rows = [row for tan in TANS[:40] for row in rows("return_summary", tan)]
    assert {row["status"] for row in all_rows} == STATUSES
    assert {row["formtype"] for row in all_rows} == {"24Q", "26Q", "27Q", "27EQ"}
    assert {row["finyear"] for row in all_rows} == {"2023", "2024", "2025"}
    assert {row["quarter"] for row in all_rows} == {3, 4, 5, 6}
    for row in all_rows:
        assert re.fullmatch(r"\d{15}", row["tokenno"])
        assert parse_traces_date(row["dtoffiling"]) is not None
        assert (row["dtofprcng"] is None) == (row["status"] == "Pending for processing")
        assert row["stmnttype"] in {"Regular", "Correction"}


def test_traces_challans_have_valid_identifiers_and_string_amounts() -> None:
    all_rows = [row for tan in TANS[:30] for row in rows("unconsumed_challans", tan)]
    assert all_rows
    for row in all_rows:
        assert BSR_RE.match(row["chlnbsrcode"]) and CHALLAN_SERIAL_RE.match(row["chlnsrno"])
        assert len(row["recptNo"]) == 18 and row["recptNo"].isalnum()
        assert TRACES_AMOUNT.match(row["hidchlnamt"]) and TRACES_AMOUNT.match(
            row["hidunconschlnamt"]
        )
        claimed = sum((Decimal(c["claimAmt"]) for c in row["consumption"]), Decimal(0))
        assert claimed + Decimal(row["hidunconschlnamt"]) == Decimal(row["hidchlnamt"])
        assert parse_traces_date(row["dateofdep"]) is not None


def test_demand_rows_add_up() -> None:
    all_rows = [row for tan in TANS[:60] for row in rows("outstanding_demand", tan)]
    assert any(row["finYr"] == "Prior Years" for row in all_rows)
    for row in all_rows:
        if row["components"] is not None:
            parts = {k: Decimal(v) for k, v in row["components"].items()}
            net = parts.pop("netPayable")
            assert sum(parts.values(), Decimal(0)) == net == Decimal(row["cpcdmd"])


def test_it_portal_challans_use_numbers_and_iso_dates() -> None:
    for row in rows("fetch_challans", "DELA12345B"):
        assert isinstance(row["amount"], float)
        assert row["taxBreakup"]["total"] == row["amount"]
        assert parse_iso_date(row["dateOfDeposit"]) is not None
        assert BSR_RE.match(row["bsrCode"]) and CHALLAN_SERIAL_RE.match(row["challanNo"])
        assert len(row["cin"]) == 18
        assert row["financialYear"] in {"2023-24", "2024-25", "2025-26"}


def test_notices_carry_epoch_ms_dates_and_ldc_pans_are_valid() -> None:
    proceedings = [row for tan in TANS[:40] for row in rows("eproceedings", tan)]
    assert proceedings
    for row in proceedings:
        assert row["viewNoticeCount"] == len(row["_notices"])
        for notice in row["_notices"]:
            assert isinstance(notice["issuedOn"], int)
            assert notice["issuedOn"] < notice["responseDueDate"]
            assert date_from_epoch_ms(notice["issuedOn"]) is not None
    for row in (row for tan in TANS[:40] for row in rows("ldc", tan)):
        assert PAN_RE.match(row["pan"]) and re.fullmatch(r"\d{4}[A-Z]{2}\d{3}[A-Z]", row["certNo"])


@pytest.mark.parametrize("name", DATASETS)
def test_epoch_changes_only_the_selected_subset(name: str) -> None:
    selected = {tan for tan in TANS if changed_epochs(tan, 1, 0.25)}
    assert 20 < len(selected) < 80  # ~25% of 200
    changed = {tan for tan in TANS if rows(name, tan, 1, 0.25) != rows(name, tan, 0, 0.25)}
    assert changed == selected


def test_changes_bring_new_rows_and_changed_values() -> None:
    new_rows = changed_values = 0
    for tan in (tan for tan in TANS if changed_epochs(tan, 1, 0.25)):
        before = {row["tokenno"]: row for row in rows("return_summary", tan, 0, 0.25)}
        after = {row["tokenno"]: row for row in rows("return_summary", tan, 1, 0.25)}
        assert set(before) <= set(after)
        new_rows += len(set(after) - set(before))
        changed_values += sum(before[key] != after[key] for key in before)
    assert new_rows > 0 and changed_values > 0


def test_epochs_accumulate_and_ratio_zero_changes_nothing() -> None:
    assert all(rows("ldc", tan, 5, 0.0) == rows("ldc", tan) for tan in TANS[:20])
    tan = next(tan for tan in TANS if len(changed_epochs(tan, 3, 0.5)) >= 2)
    assert len(rows("fetch_challans", tan, 3, 0.5)) > len(rows("fetch_challans", tan, 0, 0.5))


@pytest.mark.parametrize(
    ("total", "size", "pages"), [(0, 50, 0), (1, 50, 1), (50, 50, 1), (51, 50, 2), (101, 50, 3)]
)
def test_page_count(total: int, size: int, pages: int) -> None:
    assert page_count(total, size) == pages


def test_paginate_slices_and_reports_totals() -> None:
    items = [{"n": i} for i in range(120)]
    page = paginate(items, 3, 50)
    assert page["totalPages"] == 3 and page["totalRecords"] == 120
    assert [row["n"] for row in page["rows"]] == list(range(100, 120))
    assert paginate(items, 4, 50)["rows"] == []
    walked = [r["n"] for p in range(1, 4) for r in paginate(items, p, 50)["rows"]]
    assert walked == list(range(120))
