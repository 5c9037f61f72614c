"""Reads around a run for its page: records per module, rejected logins, retry runs."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.clients import Client
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.records import NoticeOrder, Record
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.run_details import (
    ModuleRecords,
    RejectedLogin,
    records_by_module,
    rejected_logins,
    retry_runs,
)
from syncbucket.pipeline.runs import retry_failed
from tests.support.pipeline import NOW, add_clients, add_firm, item, item_ids, outcome, start_run
from tests.support.records import challan, changed

NOTICES_AND_CHALLANS = [ModuleKey.FETCH_CHALLANS, ModuleKey.NOTICES_ORDERS]


def notice(reference: str, source: str = "eproceeding", status: str = "Open") -> NoticeOrder:
    return NoticeOrder(source, reference, "Notice", "2025-26", None, status, None, None, None, None)


Result = tuple[str, str | None, list[Record]]


def finish(session: Session, run_id: int, results: list[Result]) -> None:
    """Apply one outcome per item of the run, in item order: (status, code, records)."""
    ids = item_ids(session, run_id)
    assert len(ids) == len(results)
    for item_id, (status, code, records) in zip(ids, results, strict=True):
        message = outcome(item_id, run_id, status, records, error_code=code)
        assert apply_outcome(session, message, NOW).applied


OK: Result = ("succeeded", None, [])


def test_records_by_module_sums_every_part(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 2)
    first = start_run(session, firm_id, NOTICES_AND_CHALLANS).run_id
    # items per client: fetch_challans (itportal), notices itportal, notices traces
    finish(
        session,
        first,
        [
            ("succeeded", None, [challan("00001"), challan("00002")]),
            ("succeeded", None, [notice("D1")]),
            ("succeeded", None, [notice("R1", "traces_request"), notice("R2", "traces_request")]),
            ("succeeded", None, [challan("00003")]),
            ("failed", "portal_server_error", []),
            OK,
        ],
    )
    assert records_by_module(session, firm_id, first) == {
        "fetch_challans": ModuleRecords(new=3, changed=0),
        "notices_orders": ModuleRecords(new=3, changed=0),
    }
    second = start_run(session, firm_id, NOTICES_AND_CHALLANS).run_id
    finish(
        session,
        second,
        [
            ("succeeded", None, [changed(challan("00001")), challan("00002"), challan("00004")]),
            ("succeeded", None, [notice("D1", status="Closed")]),
            ("succeeded", None, [notice("R1", "traces_request", "Closed")]),
            ("failed", "portal_timeout", []),
            OK,
            OK,
        ],
    )
    assert records_by_module(session, firm_id, second) == {
        "fetch_challans": ModuleRecords(new=1, changed=1),
        "notices_orders": ModuleRecords(new=0, changed=2),
    }


def test_records_by_module_of_a_run_not_finished_or_of_another_firm(session: Session) -> None:
    firm_id, other = add_firm(session), add_firm(session)
    add_clients(session, firm_id, 1)
    run_id = start_run(session, firm_id, [ModuleKey.VERIFY_LDC]).run_id
    assert records_by_module(session, firm_id, run_id) == {"verify_ldc": ModuleRecords(0, 0)}
    assert records_by_module(session, other, run_id) == {}


def test_rejected_logins_group_per_client(session: Session) -> None:
    firm_id = add_firm(session)
    ids = add_clients(session, firm_id, 4)
    session.execute(sa.update(Client).where(Client.id == ids[0]).values(name="Zeta Traders"))
    modules = [ModuleKey.RETURN_SUMMARY, ModuleKey.FETCH_CHALLANS, ModuleKey.VERIFY_LDC]
    run_id = start_run(session, firm_id, modules).run_id
    assert [item(session, i).portal for i in item_ids(session, run_id)[:3]] == [
        "traces",
        "itportal",
        "traces",
    ]
    rejected: Result = ("failed", "invalid_credentials", [])
    locked: Result = ("failed", "locked", [])
    other_failure: Result = ("failed", "portal_server_error", [])
    finish(
        session,
        run_id,
        [
            rejected, locked, rejected,  # Zeta Traders: both portals, one of them locked
            rejected, OK, rejected,  # Client 00001: TRACES twice
            other_failure, other_failure, ("failed", "missing_credentials", []),  # 00002
            OK, OK, OK,  # 00003
        ],
    )  # fmt: skip
    found = rejected_logins(session, firm_id, run_id)
    tans = {i: session.get_one(Client, i).tan for i in ids}
    assert found == [
        RejectedLogin(ids[1], "Client 00001", tans[ids[1]], ("traces",), False, 2),
        RejectedLogin(ids[0], "Zeta Traders", tans[ids[0]], ("itportal", "traces"), True, 3),
    ]


def test_rejected_logins_are_scoped_by_firm_and_run(session: Session) -> None:
    firm_id, other = add_firm(session), add_firm(session)
    add_clients(session, firm_id, 1)
    run_id = start_run(session, firm_id, [ModuleKey.VERIFY_LDC]).run_id
    finish(session, run_id, [("failed", "locked", [])])
    assert [r.locked for r in rejected_logins(session, firm_id, run_id)] == [True]
    assert rejected_logins(session, other, run_id) == []
    later = start_run(session, firm_id, [ModuleKey.VERIFY_LDC]).run_id
    assert rejected_logins(session, firm_id, later) == []  # still pending: nothing refused


def test_retry_runs(session: Session) -> None:
    firm_id, other = add_firm(session), add_firm(session)
    add_clients(session, firm_id, 2)
    parent = start_run(session, firm_id, [ModuleKey.VERIFY_LDC]).run_id
    finish(session, parent, [("failed", "portal_timeout", []), OK])
    clean = start_run(session, firm_id, [ModuleKey.VERIFY_LDC]).run_id
    finish(session, clean, [OK, OK])
    retry = retry_failed(session, firm_id, parent, "me", NOW).run_id
    finish(session, retry, [("failed", "portal_timeout", [])])
    retry_of_retry = retry_failed(session, firm_id, retry, "me", NOW).run_id
    assert retry_runs(session, firm_id, [parent, clean, retry]) == {
        parent: [retry],
        retry: [retry_of_retry],
    }
    assert retry_runs(session, firm_id, [clean]) == {}
    assert retry_runs(session, firm_id, []) == {}
    assert retry_runs(session, other, [parent, retry]) == {}
