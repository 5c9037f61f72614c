"""estimate_run: items, portal requests and time before Start Sync; refusals as create_run."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.filters import ClientFilter
from syncbucket.config import Settings
from syncbucket.db.items import Item
from syncbucket.db.runs import Run
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.domain.runs import ItemStatus
from syncbucket.pipeline.errors import RunRefused
from syncbucket.pipeline.estimate import PortalEstimate, RunEstimate, estimate_run
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import create_run
from syncbucket.portals.registry import LOGIN_REQUESTS, PARTS, part
from tests.support.pipeline import NOW, add_clients, add_firm, item_ids, start_run

RATES = Settings(traces_rate_per_second=2.0, itportal_rate_per_second=4.0)
SUMMARY_AND_NOTICES = [ModuleKey.RETURN_SUMMARY, ModuleKey.NOTICES_ORDERS]


def estimate(session: Session, request: RunRequest, settings: Settings = RATES) -> RunEstimate:
    return estimate_run(session, request, settings, NOW)


def by_portal(found: RunEstimate) -> dict[Portal, PortalEstimate]:
    return {p.portal: p for p in found.portals}


def set_status(session: Session, ids: list[int], status: ItemStatus) -> None:
    session.execute(sa.update(Item).where(Item.id.in_(ids)).values(status=status))


def test_the_registry_figures_these_tests_rely_on() -> None:
    assert LOGIN_REQUESTS == {Portal.TRACES: 3, Portal.ITPORTAL: 2}
    assert part(ModuleKey.RETURN_SUMMARY, Portal.TRACES).typical_requests == 1.1
    assert part(ModuleKey.NOTICES_ORDERS, Portal.TRACES).typical_requests == 1.0
    assert part(ModuleKey.NOTICES_ORDERS, Portal.ITPORTAL).typical_requests == 5.7
    assert part(ModuleKey.VERIFY_LDC, Portal.TRACES).typical_requests == 7.0
    assert part(ModuleKey.OUTSTANDING_DEMAND, Portal.TRACES).typical_requests == 1.0
    assert part(ModuleKey.FETCH_CHALLANS, Portal.ITPORTAL).typical_requests == 1.1
    assert sum(1 for p in PARTS if p.portal == Portal.TRACES) == 5
    assert sum(1 for p in PARTS if p.portal == Portal.ITPORTAL) == 2


def test_items_and_requests_with_nothing_ahead(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 3)
    found = estimate(session, RunRequest(firm_id=firm_id, modules=SUMMARY_AND_NOTICES))
    assert (found.clients, found.items) == (3, 9)  # 3 clients x 3 parts
    portals = by_portal(found)
    assert list(portals) == [Portal.TRACES, Portal.ITPORTAL]
    traces, itportal = portals[Portal.TRACES], portals[Portal.ITPORTAL]
    # TRACES: 3 x (login 3 + 1.1 + 1.0) = 15.3; IT portal: 3 x (login 2 + 5.7) = 23.1
    assert (traces.items, traces.requests, traces.ahead_items, traces.ahead_requests) == (
        6, 15, 0, 0,
    )  # fmt: skip
    assert (itportal.items, itportal.requests, itportal.ahead_items) == (3, 23, 0)
    assert found.requests == 38
    assert (traces.rate_per_second, itportal.rate_per_second) == (2.0, 4.0)
    assert traces.seconds_alone == traces.seconds_behind == 7.5
    assert itportal.seconds_alone == 5.75
    assert found.seconds_alone == found.seconds_behind == 7.5  # the slowest portal
    assert found.slowest is traces


def test_a_module_on_one_portal_estimates_only_that_portal(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 10)
    found = estimate(session, RunRequest(firm_id=firm_id, modules=[ModuleKey.FETCH_CHALLANS]))
    (itportal,) = found.portals
    assert (itportal.portal, itportal.items, itportal.requests) == (Portal.ITPORTAL, 10, 31)
    assert itportal.seconds_alone == 31 / 4.0


def test_work_ahead_of_every_firm_counts(session: Session) -> None:
    mine, theirs = add_firm(session), add_firm(session)
    add_clients(session, mine, 3)
    add_clients(session, theirs, 2, start=10)
    # my own earlier run, still pending: 3 outstanding_demand items on TRACES
    start_run(session, mine, [ModuleKey.OUTSTANDING_DEMAND])
    # theirs: 2 verify_ldc (TRACES) pending, 2 fetch_challans (IT portal) queued/running
    start_run(session, theirs, [ModuleKey.VERIFY_LDC])
    queued, running = item_ids(
        session, start_run(session, theirs, [ModuleKey.FETCH_CHALLANS]).run_id
    )
    set_status(session, [queued], ItemStatus.QUEUED)
    set_status(session, [running], ItemStatus.RUNNING)
    # finished work is not ahead of anybody
    done = item_ids(session, start_run(session, theirs, [ModuleKey.VERIFY_LDC]).run_id)
    set_status(session, done[:1], ItemStatus.SUCCEEDED)
    set_status(session, done[1:], ItemStatus.CANCELLED)
    failed = item_ids(session, start_run(session, theirs, [ModuleKey.NOTICES_ORDERS]).run_id)
    set_status(session, failed, ItemStatus.FAILED)

    found = estimate(session, RunRequest(firm_id=mine, modules=SUMMARY_AND_NOTICES))
    traces, itportal = by_portal(found)[Portal.TRACES], by_portal(found)[Portal.ITPORTAL]
    # each item ahead: its typical requests + its share of a login (TRACES 3/5, IT 2/2)
    # TRACES: 3 x (1.0 + 0.6) + 2 x (7.0 + 0.6) = 4.8 + 15.2 = 20
    assert (traces.ahead_items, traces.ahead_requests) == (5, 20)
    # IT portal: 2 x (1.1 + 1.0) = 4.2
    assert (itportal.ahead_items, itportal.ahead_requests) == (2, 4)
    assert traces.seconds_alone == 7.5
    assert traces.seconds_behind == (15 + 20) / 2.0
    assert itportal.seconds_behind == (23 + 4) / 4.0
    assert (found.seconds_alone, found.seconds_behind) == (7.5, 17.5)
    assert found.slowest is traces


def test_configured_rates_decide_the_time(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 3)
    request = RunRequest(firm_id=firm_id, modules=SUMMARY_AND_NOTICES)
    fast_traces = estimate(
        session, request, Settings(traces_rate_per_second=10.0, itportal_rate_per_second=1.0)
    )
    itportal = by_portal(fast_traces)[Portal.ITPORTAL]
    assert by_portal(fast_traces)[Portal.TRACES].seconds_alone == 1.5
    assert itportal.seconds_alone == 23.0
    assert fast_traces.slowest is itportal and fast_traces.seconds_alone == 23.0


def test_selection_decides_the_clients(session: Session) -> None:
    firm_id = add_firm(session)
    ids = add_clients(session, firm_id, 5)
    add_clients(session, firm_id, 2, start=5, active=False)
    ldc = [ModuleKey.VERIFY_LDC]
    assert estimate(session, RunRequest(firm_id=firm_id, modules=ldc)).clients == 5
    picked = RunRequest(firm_id=firm_id, modules=ldc, client_ids=ids[:2])
    assert estimate(session, picked).items == 2
    by_filter = RunRequest(
        firm_id=firm_id,
        modules=ldc,
        client_filter=ClientFilter(search="Client 0000"),
        excluded_client_ids=[ids[0]],
    )
    found = estimate(session, by_filter)
    assert (found.clients, found.items) == (4, 4)
    assert by_portal(found)[Portal.TRACES].requests == 4 * 10  # login 3 + 7.0


def test_estimating_writes_nothing(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 3)
    estimate(session, RunRequest(firm_id=firm_id, modules=list(ModuleKey)))
    assert session.scalar(sa.select(sa.func.count()).select_from(Run)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(Item)) == 0


def test_an_estimate_without_portals_is_zero() -> None:
    empty = RunEstimate(clients=0, items=0, portals=())
    assert (empty.requests, empty.seconds_alone, empty.seconds_behind, empty.slowest) == (
        0, 0.0, 0.0, None,
    )  # fmt: skip


Refusal = Callable[[Session, int, list[int]], RunRequest]

REFUSALS: dict[str, Refusal] = {
    "no_modules": lambda s, f, ids: RunRequest(firm_id=f, modules=[]),
    "unknown_module": lambda s, f, ids: RunRequest(firm_id=f, modules=["bogus"]),  # type: ignore[list-item]
    "unknown_clients": lambda s, f, ids: RunRequest(
        firm_id=f, modules=[ModuleKey.VERIFY_LDC], tans=["ZZZZ99999Z"], client_ids=[999_999]
    ),
    "inactive_clients": lambda s, f, ids: RunRequest(
        firm_id=f, modules=[ModuleKey.VERIFY_LDC], client_ids=ids[1:]
    ),
    "no_clients": lambda s, f, ids: RunRequest(
        firm_id=f, modules=[ModuleKey.VERIFY_LDC], client_filter=ClientFilter(search="nobody")
    ),
    "ambiguous_clients": lambda s, f, ids: RunRequest(
        firm_id=f,
        modules=[ModuleKey.VERIFY_LDC],
        client_ids=ids[:1],
        client_filter=ClientFilter(),
    ),
}


def refusal(action: Callable[[], object]) -> RunRefused:
    with pytest.raises(RunRefused) as caught:
        action()
    return caught.value


@pytest.mark.parametrize("code", list(REFUSALS))
def test_refusals_are_those_of_create_run(session: Session, code: str) -> None:
    firm_id = add_firm(session)
    ids = add_clients(session, firm_id, 1) + add_clients(session, firm_id, 2, start=1, active=False)
    request = REFUSALS[code](session, firm_id, ids)
    estimated = refusal(lambda: estimate(session, request))
    created = refusal(lambda: create_run(session, request, now=NOW))
    assert estimated.code == created.code == code
    assert estimated.message == created.message


@pytest.mark.parametrize("active", [False, None])
def test_a_firm_with_no_active_clients_is_refused_like_create_run(
    session: Session, active: bool | None
) -> None:
    firm_id = add_firm(session)
    if active is False:
        add_clients(session, firm_id, 2, active=False)
    request = RunRequest(firm_id=firm_id, modules=[ModuleKey.VERIFY_LDC])
    estimated = refusal(lambda: estimate(session, request))
    created = refusal(lambda: create_run(session, request, now=NOW))
    assert (estimated.code, estimated.message) == (created.code, created.message)
    assert estimated.code == "no_clients"
    expected = "none of the firm's 2 clients is active" if active is False else "no clients yet"
    assert expected in estimated.message
