"""A client's records, what a sync changed, and firm exports -- always within the firm."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from syncbucket.clientmaster.filters import ClientFilter, filter_condition
from syncbucket.db.clients import Client
from syncbucket.db.firms import Firm
from syncbucket.db.records_repo import upsert_records
from syncbucket.db.runs import Run
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.records import NoticeOrder, OutstandingDemand, PaidChallan, Record
from syncbucket.domain.runs import RunSource
from syncbucket.reports.changes import FieldChange
from syncbucket.reports.columns import COLUMNS
from syncbucket.reports.records import (
    RecordView,
    changes_in,
    client_records,
    export_header,
    export_lines,
)
from tests.support.pipeline import NOW
from tests.support.records import challan, changed, one_of_each

CHALLANS = ModuleKey.FETCH_CHALLANS
LATER = NOW + timedelta(days=1)


@dataclass
class Tenant:
    firm_id: int
    client_ids: dict[str, int]
    run_ids: list[int]


def tenant(session: Session, *names: str, runs: int = 2, active: Sequence[bool] = ()) -> Tenant:
    firm = Firm(name=f"Firm of {names[0]}")
    session.add(firm)
    session.flush()
    ids: dict[str, int] = {}
    for index, name in enumerate(names):
        is_active = active[index] if index < len(active) else True
        client = Client(
            firm_id=firm.id, name=name, tan=f"DEL{firm.id:01d}{index:05d}A"[:10], pan="ABCCA1234F",
            active=is_active,
        )  # fmt: skip
        session.add(client)
        session.flush()
        ids[name] = client.id
    run_ids = []
    for _ in range(runs):
        run = Run(firm_id=firm.id, source=RunSource.API, modules=[CHALLANS.value])
        session.add(run)
        session.flush()
        run_ids.append(run.id)
    return Tenant(firm.id, ids, run_ids)


def upsert(
    session: Session,
    who: Tenant,
    name: str,
    run: int,
    records: Sequence[Record],
    now: datetime = NOW,
) -> None:
    upsert_records(session, who.firm_id, who.client_ids[name], who.run_ids[run], records, now=now)


def serials(views: Sequence[RecordView]) -> list[str]:
    return [view.content["challan_serial"] for view in views]


# --- client_records ----------------------------------------------------------------


def test_client_records_newest_first_limited_with_total(session: Session) -> None:
    acme = tenant(session, "Acme", "Other")
    upsert(
        session,
        acme,
        "Acme",
        0,
        [challan("00001", day=3), challan("00002", day=9), challan("00003", day=9),
         challan("00004", day=5), challan("00005", day=1)],
    )  # fmt: skip
    upsert(session, acme, "Other", 0, [challan("00099", day=20)])
    views, total = client_records(session, acme.firm_id, acme.client_ids["Acme"], CHALLANS)
    assert total == 5
    # by date of deposit, newest first; the same day by challan no, highest first
    assert serials(views) == ["00003", "00002", "00004", "00001", "00005"]
    limited, total = client_records(
        session, acme.firm_id, acme.client_ids["Acme"], CHALLANS, limit=2
    )
    assert (serials(limited), total) == (["00003", "00002"], 5)


def test_client_records_view(session: Session) -> None:
    acme = tenant(session, "Acme")
    first = challan("00001")
    upsert(session, acme, "Acme", 0, [first])
    upsert(session, acme, "Acme", 1, [changed(first)], now=LATER)
    (view,), total = client_records(session, acme.firm_id, acme.client_ids["Acme"], CHALLANS)
    assert total == 1
    assert view.content == changed(first).content()
    assert view.previous_content == first.content()
    assert (view.first_seen_at, view.last_changed_at, view.changed_run_id) == (
        NOW,
        LATER,
        acme.run_ids[1],
    )
    cells = view.cells(COLUMNS[CHALLANS])
    assert cells[:3] == ["2025-07-07", "0270001", "00001"]
    assert len(cells) == len(COLUMNS[CHALLANS])


def test_client_records_of_another_firm_are_never_returned(session: Session) -> None:
    acme, rival = tenant(session, "Acme"), tenant(session, "Rival")
    upsert(session, rival, "Rival", 0, [challan("00001")])
    rival_client = rival.client_ids["Rival"]
    assert client_records(session, acme.firm_id, rival_client, CHALLANS) == ([], 0)
    assert changes_in(session, acme.firm_id, rival_client, CHALLANS, rival.run_ids).empty
    assert client_records(session, rival.firm_id, rival_client, CHALLANS)[1] == 1


def test_each_module_reads_its_own_table(session: Session) -> None:
    acme = tenant(session, "Acme")
    upsert(session, acme, "Acme", 0, one_of_each())
    for module in ModuleKey:
        views, total = client_records(session, acme.firm_id, acme.client_ids["Acme"], module)
        assert total == 1 and len(views) == 1, module


def notice(reference: str, issued_on: date | None) -> NoticeOrder:
    return NoticeOrder(
        "traces_request", reference, "Request", "2025-26", None, "Open", issued_on, None, None,
        None,
    )  # fmt: skip


def test_records_without_a_date_come_last(session: Session) -> None:
    acme = tenant(session, "Acme")
    upsert(
        session,
        acme,
        "Acme",
        0,
        [notice("R1", date(2025, 5, 1)), notice("R2", None), notice("R3", date(2025, 9, 1))],
    )
    views, _ = client_records(
        session, acme.firm_id, acme.client_ids["Acme"], ModuleKey.NOTICES_ORDERS
    )
    assert [v.content["reference"] for v in views] == ["R3", "R1", "R2"]


# --- changes_in --------------------------------------------------------------------


def with_interest(record: PaidChallan, interest: str) -> PaidChallan:
    return replace(record, breakup=replace(record.breakup, interest=Decimal(interest)))


@pytest.fixture
def two_syncs(session: Session) -> Tenant:
    acme = tenant(session, "Acme")
    a, b, d = challan("00001", day=1), challan("00002", day=2), challan("00004", day=4)
    upsert(session, acme, "Acme", 0, [a, b, d])
    later = [with_interest(a, "12.00"), b, challan("00003", day=3), notice("N1", None)]
    upsert(session, acme, "Acme", 1, later, now=LATER)
    return acme


def test_changes_of_the_latest_sync(session: Session, two_syncs: Tenant) -> None:
    acme = two_syncs
    found = changes_in(session, acme.firm_id, acme.client_ids["Acme"], CHALLANS, [acme.run_ids[1]])
    assert not found.empty
    assert serials(found.new) == ["00003"]
    assert found.new[0].previous_content is None
    (one,) = found.changed
    assert one.record.content["challan_serial"] == "00001"
    assert one.record.previous_content == challan("00001", day=1).content()
    assert one.record.changed_run_id == acme.run_ids[1]
    assert one.fields == [FieldChange("breakup.interest", "Interest", "0.00", "12.00")]


def test_changes_of_the_first_sync_are_what_it_added_and_nothing_changed_since(
    session: Session, two_syncs: Tenant
) -> None:
    acme = two_syncs
    found = changes_in(session, acme.firm_id, acme.client_ids["Acme"], CHALLANS, [acme.run_ids[0]])
    # 00001 was added by the first sync but changed by the second: it belongs to that one
    assert (serials(found.new), found.changed) == (["00004", "00002"], [])


def test_changes_of_several_runs(session: Session, two_syncs: Tenant) -> None:
    acme = two_syncs
    found = changes_in(session, acme.firm_id, acme.client_ids["Acme"], CHALLANS, acme.run_ids)
    assert serials(found.new) == ["00004", "00003", "00002"]
    assert [c.record.content["challan_serial"] for c in found.changed] == ["00001"]


def test_no_runs_or_other_modules_have_no_changes(session: Session, two_syncs: Tenant) -> None:
    acme = two_syncs
    client_id = acme.client_ids["Acme"]
    none = changes_in(session, acme.firm_id, client_id, CHALLANS, [])
    assert none.empty and (none.new, none.changed) == ([], [])
    ldc = changes_in(session, acme.firm_id, client_id, ModuleKey.VERIFY_LDC, acme.run_ids)
    assert ldc.empty
    notices = changes_in(session, acme.firm_id, client_id, ModuleKey.NOTICES_ORDERS, acme.run_ids)
    assert [v.content["reference"] for v in notices.new] == ["N1"]


def test_a_change_back_and_forth_keeps_only_the_last_previous(
    session: Session, two_syncs: Tenant
) -> None:
    acme = two_syncs
    run = Run(firm_id=acme.firm_id, source=RunSource.API, modules=[CHALLANS.value])
    session.add(run)
    session.flush()
    acme.run_ids.append(run.id)
    upsert(session, acme, "Acme", 2, [with_interest(challan("00001", day=1), "15.00")])
    found = changes_in(session, acme.firm_id, acme.client_ids["Acme"], CHALLANS, [run.id])
    assert found.new == []
    assert found.changed[0].fields == [
        FieldChange("breakup.interest", "Interest", "12.00", "15.00")
    ]
    # the second run changed nothing it still owns
    assert (
        changes_in(
            session, acme.firm_id, acme.client_ids["Acme"], CHALLANS, [acme.run_ids[1]]
        ).changed
        == []
    )


# --- export_lines ------------------------------------------------------------------


def rows_of(lines: list[str]) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(lines))))


@pytest.fixture
def exported(session_factory: SessionFactory) -> tuple[Tenant, Tenant]:
    with unit_of_work(session_factory) as session:
        acme = tenant(session, "Acme", "=HYPERLINK(1)", "Sleeping", active=(True, True, False))
        rival = tenant(session, "Rival")
        upsert(session, acme, "Acme", 0, [challan("00001", day=1), challan("00002", day=2)])
        evil = replace(
            challan("00003"), bank_name="=cmd|' /C calc'!A0", mode_of_payment="-1+1",
            minor_head="@SUM(A1)",
        )  # fmt: skip
        upsert(session, acme, "=HYPERLINK(1)", 0, [evil])
        upsert(session, acme, "Sleeping", 0, [challan("00005")])
        upsert(session, rival, "Rival", 0, [challan("00009")])
        # a row that names Acme's firm but Rival's client (never written by the app):
        # the client's own firm still decides
        upsert_records(
            session, acme.firm_id, rival.client_ids["Rival"], None, [challan("00010")], now=NOW
        )
    return acme, rival


def test_export_header_then_one_line_per_record(
    session_factory: SessionFactory, exported: tuple[Tenant, Tenant]
) -> None:
    acme, _ = exported
    lines = list(export_lines(session_factory, acme.firm_id, CHALLANS))
    assert all(line.endswith("\r\n") and line.count("\r\n") == 1 for line in lines)
    rows = rows_of(lines)
    header = export_header(CHALLANS)
    assert rows[0] == header
    assert header[:2] == ["Client", "TAN"] and header[-2:] == ["First seen", "Last changed"]
    assert header[2:-2] == [c.label for c in COLUMNS[CHALLANS]]
    body = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    # by client name ('=' sorts before letters), then newest deposit first
    assert [(r["Client"], r["Challan no"]) for r in body] == [
        ("'=HYPERLINK(1)", "00003"),
        ("Acme", "00002"),
        ("Acme", "00001"),
        ("Sleeping", "00005"),
    ]
    acme_row = body[1]
    assert acme_row["TAN"] == f"DEL{acme.firm_id}00000A"[:10]
    assert acme_row["Date of deposit"] == "2025-07-02"
    assert acme_row["Amount"] == "1000.00" and acme_row["Tax"] == "1000.00"
    assert acme_row["First seen"] == acme_row["Last changed"] == "2026-02-01T09:00:00+00:00"


def test_export_cells_cannot_be_formulas(
    session_factory: SessionFactory, exported: tuple[Tenant, Tenant]
) -> None:
    acme, _ = exported
    rows = rows_of(list(export_lines(session_factory, acme.firm_id, CHALLANS)))
    evil = dict(zip(rows[0], rows[1], strict=True))
    assert evil["Client"] == "'=HYPERLINK(1)"
    assert evil["Bank"] == "'=cmd|' /C calc'!A0"
    assert evil["Mode"] == "'-1+1"
    assert evil["Minor head"] == "'@SUM(A1)"
    dangerous = ("=", "+", "-", "@", "\t", "\r")
    assert not any(cell.startswith(dangerous) for row in rows for cell in row)


def test_export_narrowed_to_client_ids(
    session_factory: SessionFactory, exported: tuple[Tenant, Tenant]
) -> None:
    acme, rival = exported
    firm = acme.firm_id

    def clients(ids: list[int]) -> list[str]:
        return [
            row[0]
            for row in rows_of(list(export_lines(session_factory, firm, CHALLANS, client_ids=ids)))[
                1:
            ]
        ]

    assert clients([acme.client_ids["Acme"]]) == ["Acme", "Acme"]
    assert clients([acme.client_ids["Acme"], acme.client_ids["Acme"]]) == ["Acme", "Acme"]
    assert clients([]) == []
    # another firm's client, asked for by id: nothing, not even the row naming our firm
    assert clients([rival.client_ids["Rival"]]) == []


def test_export_narrowed_by_a_filter(
    session_factory: SessionFactory, exported: tuple[Tenant, Tenant]
) -> None:
    acme, _ = exported

    def clients(chosen: ClientFilter, ids: list[int] | None = None) -> list[str]:
        lines = export_lines(
            session_factory,
            acme.firm_id,
            CHALLANS,
            condition=filter_condition(chosen, NOW),
            client_ids=ids,
        )
        return [row[0] for row in rows_of(list(lines))[1:]]

    assert clients(ClientFilter(search="acm")) == ["Acme", "Acme"]
    assert clients(ClientFilter(active=False)) == ["Sleeping"]
    assert clients(ClientFilter(never_synced=True)) == [
        "'=HYPERLINK(1)",
        "Acme",
        "Acme",
        "Sleeping",
    ]
    assert clients(ClientFilter(active=True), [acme.client_ids["Sleeping"]]) == []


def test_another_firms_records_are_never_exported(
    session_factory: SessionFactory, exported: tuple[Tenant, Tenant]
) -> None:
    acme, rival = exported
    acme_rows = rows_of(list(export_lines(session_factory, acme.firm_id, CHALLANS)))
    assert "Rival" not in {row[0] for row in acme_rows}
    assert "00009" not in {cell for row in acme_rows for cell in row}
    rival_rows = rows_of(list(export_lines(session_factory, rival.firm_id, CHALLANS)))
    assert [(row[0], row[4]) for row in rival_rows[1:]] == [("Rival", "00009")]


def test_export_of_a_module_without_records_is_the_header(
    session_factory: SessionFactory, exported: tuple[Tenant, Tenant]
) -> None:
    acme, _ = exported
    lines = list(export_lines(session_factory, acme.firm_id, ModuleKey.VERIFY_LDC))
    assert rows_of(lines) == [export_header(ModuleKey.VERIFY_LDC)]


def test_export_streams_lazily(
    session_factory: SessionFactory, exported: tuple[Tenant, Tenant]
) -> None:
    acme, _ = exported
    lines = export_lines(session_factory, acme.firm_id, CHALLANS)
    assert next(lines).startswith("Client,TAN,")
    assert len(list(lines)) == 4


def test_prior_years_demand_comes_after_every_year(session: Session) -> None:
    acme = tenant(session, "Acme")
    demands = [
        OutstandingDemand(year, Decimal("0.00"), Decimal("10.00"), None)
        for year in ("2023-24", "prior", "2025-26", "2024-25")
    ]
    upsert(session, acme, "Acme", 0, demands)
    views, _ = client_records(
        session, acme.firm_id, acme.client_ids["Acme"], ModuleKey.OUTSTANDING_DEMAND
    )
    assert [v.content["fin_year"] for v in views] == ["2025-26", "2024-25", "2023-24", "prior"]


def test_prior_years_demand_is_exported_last(session_factory: SessionFactory) -> None:
    with unit_of_work(session_factory) as session:
        acme = tenant(session, "Acme")
        demands = [
            OutstandingDemand(year, Decimal("0.00"), Decimal("10.00"), None)
            for year in ("prior", "2024-25")
        ]
        upsert(session, acme, "Acme", 0, demands)
    lines = export_lines(session_factory, acme.firm_id, ModuleKey.OUTSTANDING_DEMAND)
    assert [row[2] for row in rows_of(list(lines))[1:]] == ["2024-25", "prior"]


def test_a_negative_amount_stays_a_number_while_text_stays_guarded(
    session_factory: SessionFactory,
) -> None:
    with unit_of_work(session_factory) as session:
        firm = tenant(session, "Refunds")
        refund = replace(challan("00011"), amount=Decimal("-1500.00"), mode_of_payment="-1+1")
        upsert(session, firm, "Refunds", 0, [refund])
    rows = rows_of(list(export_lines(session_factory, firm.firm_id, CHALLANS)))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Amount"] == "-1500.00"  # a spreadsheet adds it up
    assert row["Mode"] == "'-1+1"  # text that a spreadsheet would run is still guarded
