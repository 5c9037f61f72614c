"""create_run by a Client Master filter ("Select All" minus a few), and runs' selection."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.filters import ClientFilter, CredentialFilter
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.items import Item
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import ItemStatus
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.errors import RunRefused
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import create_run, retry_failed
from syncbucket.pipeline.selection import select_clients
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

LDC = [ModuleKey.VERIFY_LDC]


def clients_of(session: Session, run_id: int) -> list[int]:
    query = sa.select(Item.client_id).where(Item.run_id == run_id).distinct()
    return sorted(session.scalars(query))


def refused(session: Session, request: RunRequest) -> RunRefused:
    with pytest.raises(RunRefused) as caught:
        create_run(session, request, now=NOW)
    return caught.value


def by_filter(firm_id: int, chosen: ClientFilter, **kw: object) -> RunRequest:
    return RunRequest(firm_id=firm_id, modules=LDC, client_filter=chosen, **kw)  # type: ignore[arg-type]


def rename(session: Session, client_id: int, name: str) -> None:
    session.execute(sa.update(Client).where(Client.id == client_id).values(name=name))


def test_filter_selects_active_matching_clients_minus_the_excluded(session: Session) -> None:
    firm_id = add_firm(session)
    acme = add_clients(session, firm_id, 4)
    others = add_clients(session, firm_id, 2, start=4)
    (sleeping,) = add_clients(session, firm_id, 1, start=6, active=False)
    for client_id in (*acme, sleeping):
        rename(session, client_id, f"Acme {client_id}")
    for client_id in others:
        rename(session, client_id, f"Bharat {client_id}")
    chosen = ClientFilter(search="acme")
    created = create_run(
        session,
        by_filter(firm_id, chosen, excluded_client_ids=[acme[1], acme[1], others[0]]),
        now=NOW,
    )
    assert clients_of(session, created.run_id) == [acme[0], acme[2], acme[3]]
    assert created.total_items == 3
    made = run(session, created.run_id)
    assert (made.client_count, made.total_items) == (3, 3)
    # two distinct ids were excluded (one of them did not match anyway)
    assert made.selection == {"kind": "filter", "filter": {"search": "acme"}, "excluded": 2}


def test_filter_counts_clients_not_items(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 3)
    created = create_run(
        session,
        RunRequest(firm_id=firm_id, modules=list(ModuleKey), client_filter=ClientFilter()),
        now=NOW,
    )
    made = run(session, created.run_id)
    assert (made.total_items, made.client_count) == (3 * 7, 3)
    assert made.selection == {"kind": "filter", "filter": {}}


def test_filter_on_the_read_models(session: Session) -> None:
    """failed_last_time after a real run: only the client whose item failed."""
    firm_id = add_firm(session)
    ids = add_clients(session, firm_id, 3)
    first = start_run(session, firm_id, LDC).run_id
    for index, item_id in enumerate(item_ids(session, first)):
        status = "failed" if index == 1 else "succeeded"
        code = "portal_timeout" if index == 1 else None
        apply_outcome(session, outcome(item_id, first, status, error_code=code), NOW)
    chosen = ClientFilter(failed_last_time=True, module=ModuleKey.VERIFY_LDC)
    again = create_run(session, by_filter(firm_id, chosen), now=NOW)
    assert clients_of(session, again.run_id) == [ids[1]]
    assert run(session, again.run_id).selection == {
        "kind": "filter",
        "filter": {"failed_last_time": True, "module": "verify_ldc"},
    }


def test_filter_on_credentials(session: Session) -> None:
    firm_id = add_firm(session)
    with_creds, without = add_clients(session, firm_id, 2)
    for portal in ("traces", "itportal"):
        session.add(ClientCredential(client_id=with_creds, portal=portal, secret="t"))
    session.flush()
    chosen = ClientFilter(credentials=CredentialFilter.MISSING)
    created = create_run(session, by_filter(firm_id, chosen), now=NOW)
    assert clients_of(session, created.run_id) == [without]


def test_another_firms_matching_clients_are_never_selected(session: Session) -> None:
    mine, theirs = add_firm(session), add_firm(session)
    my_ids = add_clients(session, mine, 2)
    add_clients(session, theirs, 5, start=10)
    created = create_run(session, by_filter(mine, ClientFilter(search="Client")), now=NOW)
    assert clients_of(session, created.run_id) == my_ids
    assert run(session, created.run_id).client_count == 2


def test_no_match_is_refused_naming_the_filter(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 2)
    add_clients(session, firm_id, 1, start=2, active=False)
    nobody = refused(session, by_filter(firm_id, ClientFilter(search="nobody", never_synced=True)))
    assert nobody.code == "no_clients"
    assert nobody.message == (
        "no active client matches the filter (matching “nobody”, never synced)"
    )
    inactive = refused(session, by_filter(firm_id, ClientFilter(active=False)))
    assert (inactive.code, inactive.message) == (
        "no_clients",
        "no active client matches the filter (inactive)",
    )
    assert session.scalar(sa.select(sa.func.count()).select_from(Item)) == 0


def test_excluding_every_match_is_refused(session: Session) -> None:
    firm_id = add_firm(session)
    ids = add_clients(session, firm_id, 2)
    caught = refused(session, by_filter(firm_id, ClientFilter(), excluded_client_ids=ids))
    assert caught.code == "no_clients"
    assert "(all clients)" in caught.message


@pytest.mark.parametrize("by", ["ids", "tans"])
def test_filter_and_ids_or_tans_are_refused(session: Session, by: str) -> None:
    firm_id = add_firm(session)
    ids = add_clients(session, firm_id, 2)
    extra = {"client_ids": ids[:1]} if by == "ids" else {"tans": [tan_for(0)]}
    caught = refused(session, by_filter(firm_id, ClientFilter(search="Client"), **extra))
    assert caught.code == "ambiguous_clients"
    assert caught.message == "choose clients by a filter or by id/TAN, not both"


def test_select_clients_by_filter(session: Session) -> None:
    firm_id = add_firm(session)
    ids = add_clients(session, firm_id, 3)
    chosen = select_clients(
        session, by_filter(firm_id, ClientFilter(), excluded_client_ids=[ids[0]])
    )
    assert (chosen.ids, chosen.count, chosen.recorded) == (
        None,
        2,
        {"kind": "filter", "filter": {}, "excluded": 1},
    )
    assert chosen.condition is not None
    matched = session.scalars(
        sa.select(Client.id).where(Client.firm_id == firm_id, chosen.condition).order_by(Client.id)
    )
    assert list(matched) == ids[1:]


def test_other_selections_are_recorded(session: Session) -> None:
    firm_id = add_firm(session)
    ids = add_clients(session, firm_id, 3)
    every = start_run(session, firm_id, LDC)
    assert run(session, every.run_id).selection == {"kind": "all"}
    assert run(session, every.run_id).client_count == 3
    picked = start_run(session, firm_id, LDC, client_ids=ids[:2])
    assert run(session, picked.run_id).selection == {"kind": "clients"}
    assert run(session, picked.run_id).client_count == 2


def test_retry_failed_records_its_clients(session: Session) -> None:
    firm_id = add_firm(session)
    ids = add_clients(session, firm_id, 3)
    modules = [ModuleKey.VERIFY_LDC, ModuleKey.NOTICES_ORDERS]
    parent = start_run(session, firm_id, modules).run_id
    # per client: verify_ldc, notices itportal, notices traces; clients 0 and 2 fail twice
    for index, item_id in enumerate(item_ids(session, parent)):
        failing = index in (0, 1, 7, 8)
        status, code = ("failed", "portal_timeout") if failing else ("succeeded", None)
        apply_outcome(session, outcome(item_id, parent, status, error_code=code), NOW)
    retry = retry_failed(session, firm_id, parent, "someone", NOW)
    made = run(session, retry.run_id)
    assert (made.total_items, made.client_count) == (4, 2)
    assert made.selection == {"kind": "retry", "parent": parent}
    assert clients_of(session, retry.run_id) == [ids[0], ids[2]]
    assert set(session.scalars(sa.select(Item.status).where(Item.run_id == retry.run_id))) == {
        ItemStatus.PENDING
    }


@pytest.mark.parametrize("how", ["all", "ids", "tans"])
def test_excluded_ids_without_a_filter_are_refused_not_ignored(session: Session, how: str) -> None:
    firm_id = add_firm(session)
    ids = add_clients(session, firm_id, 3)
    chosen = {"all": {}, "ids": {"client_ids": ids}, "tans": {"tans": [tan_for(0)]}}[how]
    request = RunRequest(firm_id=firm_id, modules=LDC, excluded_client_ids=[ids[0]], **chosen)  # type: ignore[arg-type]
    caught = refused(session, request)
    assert caught.code == "ambiguous_clients"
    assert "excluded clients go with a filter" in caught.message
    assert session.scalar(sa.select(sa.func.count()).select_from(Item)) == 0
    # an empty exclusion list is no exclusion
    plain = RunRequest(firm_id=firm_id, modules=LDC, excluded_client_ids=[], **chosen)  # type: ignore[arg-type]
    assert create_run(session, plain, now=NOW).total_items == {"all": 3, "ids": 3, "tans": 1}[how]
