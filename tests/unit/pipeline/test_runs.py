"""create_run, cancel_run and retry_failed on SQLite."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.items import Item
from syncbucket.db.runs import Run
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import ItemStatus, RunSource, RunStatus
from syncbucket.pipeline import runs
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.errors import RunNotFound, RunRefused
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import cancel_run, create_run, retry_failed
from syncbucket.pipeline.selection import ClientSelection
from tests.support.pipeline import (
    NOW,
    add_clients,
    add_firm,
    item_ids,
    outcome,
    run,
    start_run,
    tan_for,
)

M = ModuleKey


def _refusal(session: Session, request: RunRequest) -> RunRefused:
    with pytest.raises(RunRefused) as caught:
        create_run(session, request)
    return caught.value


def _items(session: Session, run_id: int) -> list[tuple[int, str, str]]:
    rows = session.execute(
        sa.select(Item.client_id, Item.module, Item.portal)
        .where(Item.run_id == run_id)
        .order_by(Item.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_all_active_clients_times_every_part(session: Session) -> None:
    firm_id = add_firm(session)
    active = add_clients(session, firm_id, 3)
    add_clients(session, firm_id, 2, active=False, start=100)
    created = start_run(session, firm_id)
    assert created.created and created.total_items == 3 * 7  # notices_orders has 2 parts
    items = _items(session, created.run_id)
    assert len(items) == 21 and {client for client, _, _ in items} == set(active)
    # ids follow (client, part): one client's modules go out together (session reuse)
    assert [client for client, _, _ in items[:7]] == [active[0]] * 7
    the_run = run(session, created.run_id)
    assert (the_run.status, the_run.total_items, the_run.priority) == (RunStatus.PENDING, 21, 10)
    assert the_run.modules == [key.value for key in ModuleKey]


def test_notices_orders_is_two_items_one_per_portal(session: Session) -> None:
    firm_id = add_firm(session)
    (client,) = add_clients(session, firm_id, 1)
    created = start_run(session, firm_id, [M.NOTICES_ORDERS])
    assert _items(session, created.run_id) == [
        (client, "notices_orders", "itportal"),
        (client, "notices_orders", "traces"),
    ]


def test_by_tan_and_by_id(session: Session) -> None:
    firm_id = add_firm(session)
    ids = add_clients(session, firm_id, 5)
    by_tan = start_run(session, firm_id, [M.VERIFY_LDC], tans=[tan_for(1).lower(), tan_for(3)])
    assert [c for c, _, _ in _items(session, by_tan.run_id)] == [ids[1], ids[3]]
    by_id = start_run(session, firm_id, [M.VERIFY_LDC], client_ids=[ids[4], ids[0], ids[4]])
    assert [c for c, _, _ in _items(session, by_id.run_id)] == [ids[0], ids[4]]


def test_priority_by_source_unless_given(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 1)
    expected = {RunSource.SCHEDULE: 0, RunSource.API: 5, RunSource.EVENT: 5, RunSource.CLI: 10}
    for source, priority in expected.items():
        created = start_run(session, firm_id, [M.VERIFY_LDC], source=source)
        assert run(session, created.run_id).priority == priority
    given = start_run(session, firm_id, [M.VERIFY_LDC], source=RunSource.SCHEDULE, priority=7)
    assert run(session, given.run_id).priority == 7


def test_refusals_name_what_is_wrong(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 2)
    add_clients(session, firm_id, 1, active=False, start=50)
    cases = [
        (RunRequest(firm_id, []), "no_modules", "at least one module"),
        (RunRequest(firm_id, ["invoices"]), "unknown_module", "invoices"),  # type: ignore[list-item]
        (RunRequest(firm_id, [M.VERIFY_LDC], tans=["ZZZZ99999Z"]), "unknown_clients", "ZZZZ99999Z"),
        (RunRequest(firm_id, [M.VERIFY_LDC], client_ids=[987654]), "unknown_clients", "987654"),
        (RunRequest(firm_id, [M.VERIFY_LDC], tans=[tan_for(50)]), "inactive_clients", tan_for(50)),
        (RunRequest(firm_id, [M.VERIFY_LDC], tans=[]), "no_clients", "no client selected"),
    ]
    for request, code, text in cases:
        refused = _refusal(session, request)
        assert refused.code == code
        assert text in refused.message


def test_unknown_list_is_capped_at_ten(session: Session) -> None:
    firm_id = add_firm(session)
    tans = [tan_for(i, "XXXX") for i in range(14)]
    refused = _refusal(session, RunRequest(firm_id, [M.VERIFY_LDC], tans=tans))
    assert refused.message.count("TAN ") == 10 and "and 4 more" in refused.message


def test_empty_firm_and_no_active_clients_are_refused(session: Session) -> None:
    empty = add_firm(session)
    assert "no clients yet" in _refusal(session, RunRequest(empty, [M.VERIFY_LDC])).message
    dormant = add_firm(session)
    add_clients(session, dormant, 2, active=False)
    refused = _refusal(session, RunRequest(dormant, [M.VERIFY_LDC]))
    assert (refused.code, "2 clients" in refused.message) == ("no_clients", True)


def test_other_firms_clients_are_unknown(session: Session) -> None:
    mine, theirs = add_firm(session), add_firm(session)
    (their_client,) = add_clients(session, theirs, 1)
    refused = _refusal(session, RunRequest(mine, [M.VERIFY_LDC], client_ids=[their_client]))
    assert refused.code == "unknown_clients"


def test_idempotency_key_returns_the_existing_run(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 2)
    first = start_run(session, firm_id, idempotency_key="k-1")
    again = start_run(session, firm_id, [M.VERIFY_LDC], idempotency_key="k-1")
    assert (again.run_id, again.created, again.total_items) == (first.run_id, False, 14)
    other_firm = add_firm(session)
    add_clients(session, other_firm, 1, start=10)
    assert start_run(session, other_firm, idempotency_key="k-1").created


def test_bulk_run_of_a_thousand_clients(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 1_500)
    created = start_run(session, firm_id)
    assert created.total_items == 10_500
    explicit = start_run(
        session, firm_id, client_ids=add_clients(session, firm_id, 1_200, start=2000)
    )
    assert explicit.total_items == 1_200 * 7  # chunked IN lists


def test_cancel_cancels_pending_and_ends_the_run(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 2)
    created = start_run(session, firm_id, [M.VERIFY_LDC])
    first, second = item_ids(session, created.run_id)
    session.execute(sa.update(Item).where(Item.id == first).values(status=ItemStatus.RUNNING))
    cancel_run(session, firm_id, created.run_id, NOW)
    assert item_ids(session, created.run_id, ItemStatus.CANCELLED) == [second]
    assert run(session, created.run_id).completed_at is None  # one still with a worker
    apply_outcome(session, outcome(first, created.run_id), NOW)
    finished = run(session, created.run_id)
    assert finished.status == RunStatus.CANCELLED and finished.completed_at == NOW
    cancel_run(session, firm_id, created.run_id, NOW)  # finished: nothing changes


def test_cancel_another_firms_run_is_not_found(session: Session) -> None:
    firm_id, other = add_firm(session), add_firm(session)
    add_clients(session, firm_id, 1)
    created = start_run(session, firm_id, [M.VERIFY_LDC])
    with pytest.raises(RunNotFound):
        cancel_run(session, other, created.run_id, NOW)


def test_retry_failed_takes_exactly_the_failed_items(session: Session) -> None:
    firm_id = add_firm(session)
    clients = add_clients(session, firm_id, 3)
    created = start_run(session, firm_id, [M.VERIFY_LDC, M.NOTICES_ORDERS])
    rows = session.execute(
        sa.select(Item.id, Item.client_id, Item.module, Item.portal).where(
            Item.run_id == created.run_id
        )
    ).all()
    failing = {(clients[0], "verify_ldc", "traces"), (clients[2], "notices_orders", "traces")}
    for row in rows:
        status = "failed" if (row.client_id, row.module, row.portal) in failing else "succeeded"
        apply_outcome(session, outcome(row.id, created.run_id, status, error_code="x"), NOW)
    retry = retry_failed(session, firm_id, created.run_id, "asha", NOW)
    assert retry.created and retry.total_items == 2
    assert set(_items(session, retry.run_id)) == failing
    child = run(session, retry.run_id)
    assert (child.source, child.parent_run_id, child.requested_by) == (
        RunSource.RETRY,
        created.run_id,
        "asha",
    )
    assert child.modules == ["notices_orders", "verify_ldc"]
    assert retry_failed(session, firm_id, created.run_id, "asha", NOW).run_id == retry.run_id


def test_retry_refusals(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 1)
    created = start_run(session, firm_id, [M.VERIFY_LDC])
    with pytest.raises(RunRefused) as unfinished:
        retry_failed(session, firm_id, created.run_id, None, NOW)
    assert unfinished.value.code == "parent_not_finished"
    (only,) = item_ids(session, created.run_id)
    apply_outcome(session, outcome(only, created.run_id), NOW)
    with pytest.raises(RunRefused) as nothing:
        retry_failed(session, firm_id, created.run_id, None, NOW)
    assert nothing.value.code == "nothing_failed"
    with pytest.raises(RunNotFound):
        retry_failed(session, add_firm(session), created.run_id, None, NOW)


def test_clients_deactivated_between_check_and_insert_write_no_run(
    session_factory: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    with unit_of_work(session_factory) as session:
        firm_id = add_firm(session)
        add_clients(session, firm_id, 2, active=False)
    # as if both clients were active when checked and deactivated just after
    monkeypatch.setattr(runs, "select_clients", lambda *_: ClientSelection(ids=None, count=2))
    request = RunRequest(firm_id, [M.VERIFY_LDC], idempotency_key="k-1")
    with pytest.raises(RunRefused) as caught, unit_of_work(session_factory) as session:
        create_run(session, request)
    assert caught.value.code == "no_clients"
    with unit_of_work(session_factory) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Run)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Item)) == 0
