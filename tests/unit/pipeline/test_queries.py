"""Reads: summary with breakdowns, run and item pages, the exception report, firm scoping."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.clients import Client
from syncbucket.db.items import Item
from syncbucket.domain.portals import ModuleKey
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.errors import RunNotFound
from syncbucket.pipeline.queries import exception_rows, list_items, list_runs, run_summary
from tests.support.pipeline import NOW, add_clients, add_firm, item_ids, outcome, start_run
from tests.support.records import challan

M = ModuleKey


def test_summary_counts_per_status_module_and_portal(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 2)
    created = start_run(session, firm_id, [M.NOTICES_ORDERS, M.FETCH_CHALLANS])
    rows = session.execute(
        sa.select(Item.id, Item.module, Item.portal).where(Item.run_id == created.run_id)
    ).all()
    for row in rows:
        if row.module == "fetch_challans":
            apply_outcome(
                session, outcome(row.id, created.run_id, records=[challan(f"{row.id:05d}")]), NOW
            )
        elif row.portal == "traces":
            apply_outcome(session, outcome(row.id, created.run_id, "failed", error_code="x"), NOW)
    summary = run_summary(session, firm_id, created.run_id)
    assert (summary.total_items, summary.items_done, summary.records_new) == (6, 4, 2)
    assert (summary.counts.succeeded, summary.counts.failed, summary.counts.pending) == (2, 2, 2)
    notices = summary.by_module["notices_orders"]
    assert (notices.failed, notices.pending) == (2, 2)
    assert summary.by_portal["itportal"].succeeded == 2
    assert summary.by_portal["traces"].failed == 2
    as_json = summary.to_dict()
    assert as_json["created_at"] == "2026-02-01T09:00:00Z"
    assert as_json["by_portal"]["itportal"]["pending"] == 2


def test_another_firms_run_is_not_found(session: Session) -> None:
    firm_id, other = add_firm(session), add_firm(session)
    add_clients(session, firm_id, 1)
    created = start_run(session, firm_id, [M.VERIFY_LDC])
    for read in (run_summary, list_items, exception_rows):
        with pytest.raises(RunNotFound):
            read(session, other, created.run_id)
    assert list_runs(session, other).runs == []


def test_list_runs_newest_first_with_before_id(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 1)
    ids = [start_run(session, firm_id, [M.VERIFY_LDC]).run_id for _ in range(5)]
    first = list_runs(session, firm_id, limit=2)
    assert [r.run_id for r in first.runs] == ids[::-1][:2]
    assert first.next_before_id == ids[3]
    rest = list_runs(session, firm_id, limit=10, before_id=first.next_before_id)
    assert [r.run_id for r in rest.runs] == ids[::-1][2:] and rest.next_before_id is None


def test_list_items_pages_by_after_id_and_filters_status(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 5)
    created = start_run(session, firm_id, [M.VERIFY_LDC])
    ids = item_ids(session, created.run_id)
    apply_outcome(session, outcome(ids[1], created.run_id, "failed", error_code="x"), NOW)
    page = list_items(session, firm_id, created.run_id, limit=3)
    assert [i.item_id for i in page.items] == ids[:3] and page.next_after_id == ids[2]
    rest = list_items(session, firm_id, created.run_id, limit=3, after_id=page.next_after_id)
    assert [i.item_id for i in rest.items] == ids[3:] and rest.next_after_id is None
    failed = list_items(session, firm_id, created.run_id, status="failed")
    assert [(i.item_id, i.client_name, i.tan) for i in failed.items] == [
        (ids[1], "Client 00001", "BLRA00001A")
    ]


def test_exception_rows_ordered_by_client_name(session: Session) -> None:
    firm_id = add_firm(session)
    clients = add_clients(session, firm_id, 3)
    session.execute(sa.update(Client).where(Client.id == clients[2]).values(name="Aardvark Ltd"))
    created = start_run(session, firm_id, [M.VERIFY_LDC, M.FETCH_CHALLANS])
    for item_id in item_ids(session, created.run_id):
        apply_outcome(
            session,
            outcome(
                item_id,
                created.run_id,
                "failed",
                attempts=3,
                error_code="invalid_credentials",
                error_message="TRACES rejected the password",
            ),
            NOW,
        )
    rows = exception_rows(session, firm_id, created.run_id)
    assert len(rows) == 6
    assert [r.client_name for r in rows[:2]] == ["Aardvark Ltd", "Aardvark Ltd"]
    assert [r.module for r in rows[:2]] == ["fetch_challans", "verify_ldc"]
    first = rows[0]
    assert (first.tan, first.portal, first.error_code, first.attempts) == (
        "BLRA00002A",
        "itportal",
        "invalid_credentials",
        3,
    )
