"""The Client Master's table: paging, sorting, credential and module states, firm scope."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.directory import (
    MAX_PAGE,
    ClientEntry,
    CredentialState,
    ModuleSyncState,
    SortKey,
    client_entry,
    count_matching,
    directory_page,
)
from syncbucket.clientmaster.errors import ClientNotFound
from syncbucket.clientmaster.filters import ClientFilter
from syncbucket.clientmaster.sync_state import Attempted, note_attempt
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.runs import Run
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.domain.runs import ItemStatus, RunSource
from tests.support.pipeline import NOW, add_clients, add_firm

DAY = timedelta(days=1)
ALL = ClientFilter()


def new_run(session: Session, firm_id: int) -> int:
    run = Run(firm_id=firm_id, source=RunSource.API, modules=["verify_ldc"])
    session.add(run)
    session.flush()
    return run.id


def attempt(
    session: Session,
    firm_id: int,
    client_id: int,
    module: ModuleKey,
    portal: Portal,
    run_id: int,
    *,
    at: datetime,
    code: str | None = None,
) -> None:
    status = ItemStatus.SUCCEEDED if code is None else ItemStatus.FAILED
    note_attempt(
        session,
        Attempted(firm_id, client_id, module.value, portal.value, run_id, status, code),
        at,
    )


def add(session: Session, firm_id: int, name: str, tan: str, pan: str, active: bool = True) -> int:
    client = Client(firm_id=firm_id, name=name, tan=tan, pan=pan, active=active)
    session.add(client)
    session.flush()
    return client.id


def page_names(
    session: Session,
    firm_id: int,
    *,
    sort: SortKey = SortKey.NAME,
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> list[str]:
    page = directory_page(
        session, firm_id, ALL, NOW, sort=sort, descending=descending, offset=offset, limit=limit
    )
    return [entry.name for entry in page.entries]


# --- paging ------------------------------------------------------------------------


def test_pages_cover_every_client_once(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 7)
    seen: list[str] = []
    offsets: list[int | None] = []
    offset: int | None = 0
    while offset is not None:
        page = directory_page(session, firm_id, ALL, NOW, offset=offset, limit=3)
        assert page.total == 7 and page.limit == 3 and page.offset == offset
        seen += [entry.name for entry in page.entries]
        offset = page.next_offset
        offsets.append(offset)
    assert offsets == [3, 6, None]
    assert seen == [f"Client {i:05d}" for i in range(7)]


def test_page_limits_are_clamped(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 3)
    tiny = directory_page(session, firm_id, ALL, NOW, limit=0, offset=-5)
    assert (tiny.limit, tiny.offset, len(tiny.entries), tiny.next_offset) == (1, 0, 1, 1)
    huge = directory_page(session, firm_id, ALL, NOW, limit=10_000)
    assert (huge.limit, len(huge.entries), huge.next_offset) == (MAX_PAGE, 3, None)
    past = directory_page(session, firm_id, ALL, NOW, offset=10)
    assert (past.entries, past.total, past.next_offset) == ([], 3, None)


def test_exactly_one_full_page_has_no_next(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 4)
    assert directory_page(session, firm_id, ALL, NOW, limit=4).next_offset is None
    assert directory_page(session, firm_id, ALL, NOW, limit=2, offset=2).next_offset is None


def test_the_filter_decides_total_and_entries(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 3)
    add_clients(session, firm_id, 2, start=3, active=False)
    page = directory_page(session, firm_id, ClientFilter(active=False), NOW)
    assert page.total == 2
    assert [e.name for e in page.entries] == ["Client 00003", "Client 00004"]
    assert all(not e.active for e in page.entries)


def test_count_matching(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 3)
    add_clients(session, firm_id, 2, start=3, active=False)
    other = add_firm(session)
    add_clients(session, other, 4)
    assert count_matching(session, firm_id, ALL, NOW, active_only=False) == 5
    assert count_matching(session, firm_id, ALL, NOW, active_only=True) == 3
    inactive = ClientFilter(active=False)
    assert count_matching(session, firm_id, inactive, NOW, active_only=True) == 0
    assert count_matching(session, firm_id, inactive, NOW, active_only=False) == 2
    search = ClientFilter(search="00004")
    assert count_matching(session, firm_id, search, NOW, active_only=False) == 1


# --- sorting -----------------------------------------------------------------------


@pytest.fixture
def sortable(session: Session) -> tuple[int, dict[str, int]]:
    """Four clients whose names, TANs, PANs and last syncs sort in different orders."""
    firm_id = add_firm(session)
    run_id = new_run(session, firm_id)
    ids = {
        "Delta": add(session, firm_id, "Delta", "AAAA00004A", "AAAPZ0001A"),
        "Alpha": add(session, firm_id, "Alpha", "CCCC00001A", "AAAPX0001A", active=False),
        "Charlie": add(session, firm_id, "Charlie", "BBBB00002A", "AAAPW0001A"),
        "Bravo": add(session, firm_id, "Bravo", "DDDD00003A", "AAAPY0001A", active=False),
        "Echo": add(session, firm_id, "Echo", "EEEE00005A", "AAAPV0001A"),
    }
    itp, traces = Portal.ITPORTAL, Portal.TRACES
    # Charlie synced most recently, Delta long ago; Alpha's only success is ONE part of
    # notices_orders, so, like Bravo (failed only) and Echo (no history), it never synced.
    attempt(session, firm_id, ids["Charlie"], ModuleKey.VERIFY_LDC, traces, run_id, at=NOW - DAY)
    attempt(session, firm_id, ids["Delta"], ModuleKey.VERIFY_LDC, traces, run_id, at=NOW - 9 * DAY)
    attempt(session, firm_id, ids["Delta"], ModuleKey.FETCH_CHALLANS, itp, run_id, at=NOW - 5 * DAY)
    attempt(session, firm_id, ids["Alpha"], ModuleKey.NOTICES_ORDERS, itp, run_id, at=NOW)
    attempt(
        session, firm_id, ids["Bravo"], ModuleKey.VERIFY_LDC, traces, run_id, at=NOW, code="locked"
    )
    return firm_id, ids


@pytest.mark.parametrize(
    ("sort", "ascending"),
    [
        (SortKey.NAME, ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]),
        (SortKey.TAN, ["Delta", "Charlie", "Alpha", "Bravo", "Echo"]),
        (SortKey.PAN, ["Echo", "Charlie", "Alpha", "Bravo", "Delta"]),
        # inactive (False) first; ties by name
        (SortKey.ACTIVE, ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]),
    ],
)
def test_sort_keys_both_ways(
    session: Session, sortable: tuple[int, dict[str, int]], sort: SortKey, ascending: list[str]
) -> None:
    firm_id, _ = sortable
    assert page_names(session, firm_id, sort=sort) == ascending
    descending = page_names(session, firm_id, sort=sort, descending=True)
    if sort == SortKey.ACTIVE:  # ties still by name, ascending
        assert descending == ["Charlie", "Delta", "Echo", "Alpha", "Bravo"]
    else:
        assert descending == ascending[::-1]


def test_sort_by_last_synced(session: Session, sortable: tuple[int, dict[str, int]]) -> None:
    firm_id, _ = sortable
    # oldest first, and the never-synced (ties by name) before them all
    assert page_names(session, firm_id, sort=SortKey.LAST_SYNCED) == [
        "Alpha",
        "Bravo",
        "Echo",
        "Delta",
        "Charlie",
    ]
    # newest first, the never-synced last
    assert page_names(session, firm_id, sort=SortKey.LAST_SYNCED, descending=True) == [
        "Charlie",
        "Delta",
        "Alpha",
        "Bravo",
        "Echo",
    ]


def test_sort_by_last_synced_agrees_with_the_entries(
    session: Session, sortable: tuple[int, dict[str, int]]
) -> None:
    firm_id, _ = sortable
    page = directory_page(session, firm_id, ALL, NOW, sort=SortKey.LAST_SYNCED, descending=True)
    shown = [entry.last_synced_at for entry in page.entries]
    assert shown == [NOW - DAY, NOW - 5 * DAY, None, None, None]


def test_paging_follows_the_sort(session: Session, sortable: tuple[int, dict[str, int]]) -> None:
    firm_id, _ = sortable
    pages = [
        page_names(session, firm_id, sort=SortKey.TAN, descending=True, offset=o, limit=2)
        for o in (0, 2, 4)
    ]
    assert pages == [["Echo", "Bravo"], ["Alpha", "Charlie"], ["Delta"]]


# --- what each entry says ----------------------------------------------------------


def test_credential_states(session: Session) -> None:
    firm_id = add_firm(session)
    run_id = new_run(session, firm_id)
    missing, unchecked, judged = add_clients(session, firm_id, 3)
    for client_id in (unchecked, judged):
        for portal in Portal:
            session.add(ClientCredential(client_id=client_id, portal=portal.value, secret="t"))
    session.add(ClientCredential(client_id=missing, portal="itportal", secret="t"))
    session.flush()
    attempt(session, firm_id, judged, ModuleKey.RETURN_SUMMARY, Portal.TRACES, run_id, at=NOW)
    later = NOW + DAY
    attempt(
        session,
        firm_id,
        judged,
        ModuleKey.FETCH_CHALLANS,
        Portal.ITPORTAL,
        run_id,
        at=later,
        code="invalid_credentials",
    )
    entries = {e.id: e for e in directory_page(session, firm_id, ALL, NOW).entries}
    assert [c.portal for c in entries[missing].credentials] == list(Portal)

    def states(entry: ClientEntry) -> dict[Portal, tuple[CredentialState, datetime | None]]:
        return {c.portal: (c.state, c.observed_at) for c in entry.credentials}

    assert states(entries[missing]) == {
        Portal.TRACES: (CredentialState.MISSING, None),
        Portal.ITPORTAL: (CredentialState.UNCHECKED, None),
    }
    assert states(entries[unchecked]) == {
        Portal.TRACES: (CredentialState.UNCHECKED, None),
        Portal.ITPORTAL: (CredentialState.UNCHECKED, None),
    }
    assert states(entries[judged]) == {
        Portal.TRACES: (CredentialState.OK, NOW),
        Portal.ITPORTAL: (CredentialState.REJECTED, later),
    }
    assert entries[judged].credential(Portal.ITPORTAL).state == CredentialState.REJECTED


def test_locked_and_missing_win_over_stale_login_state(session: Session) -> None:
    firm_id = add_firm(session)
    run_id = new_run(session, firm_id)
    (client_id,) = add_clients(session, firm_id, 1)
    session.add(ClientCredential(client_id=client_id, portal="traces", secret="t"))
    session.flush()
    attempt(
        session,
        firm_id,
        client_id,
        ModuleKey.VERIFY_LDC,
        Portal.TRACES,
        run_id,
        at=NOW,
        code="locked",
    )
    # a login verdict for a portal with no stored credentials (removed since) is moot
    attempt(session, firm_id, client_id, ModuleKey.FETCH_CHALLANS, Portal.ITPORTAL, run_id, at=NOW)
    entry = client_entry(session, firm_id, client_id)
    assert entry.credential(Portal.TRACES).state == CredentialState.LOCKED
    assert entry.credential(Portal.ITPORTAL).state == CredentialState.MISSING


def test_module_states(session: Session) -> None:
    firm_id = add_firm(session)
    first, second = new_run(session, firm_id), new_run(session, firm_id)
    (client_id,) = add_clients(session, firm_id, 1)
    traces = Portal.TRACES
    attempt(session, firm_id, client_id, ModuleKey.VERIFY_LDC, traces, first, at=NOW - DAY)
    attempt(
        session,
        firm_id,
        client_id,
        ModuleKey.VERIFY_LDC,
        traces,
        second,
        at=NOW,
        code="portal_timeout",
    )
    attempt(session, firm_id, client_id, ModuleKey.RETURN_SUMMARY, traces, second, at=NOW)
    entry = client_entry(session, firm_id, client_id)
    assert set(entry.modules) == {ModuleKey.VERIFY_LDC, ModuleKey.RETURN_SUMMARY}
    ldc = entry.modules[ModuleKey.VERIFY_LDC]
    assert (ldc.last_success_at, ldc.last_attempt_at) == (NOW - DAY, NOW)
    assert (ldc.last_failed, ldc.error_code, ldc.success_run_ids) == (
        True,
        "portal_timeout",
        (first,),
    )
    summary = entry.modules[ModuleKey.RETURN_SUMMARY]
    assert (summary.last_success_at, summary.last_failed, summary.error_code) == (
        NOW,
        False,
        None,
    )
    assert summary.success_run_ids == (second,)
    assert entry.last_synced_at == NOW


def test_notices_orders_combines_its_two_parts(session: Session) -> None:
    firm_id = add_firm(session)
    first, second = new_run(session, firm_id), new_run(session, firm_id)
    (client_id,) = add_clients(session, firm_id, 1)
    notices, itp, traces = ModuleKey.NOTICES_ORDERS, Portal.ITPORTAL, Portal.TRACES

    def state() -> ModuleSyncState:
        return client_entry(session, firm_id, client_id).modules[notices]

    attempt(session, firm_id, client_id, notices, itp, first, at=NOW - DAY)
    half = state()
    assert (half.last_success_at, half.last_attempt_at, half.last_failed) == (
        None,  # only one part ever succeeded
        NOW - DAY,
        False,
    )
    assert half.success_run_ids == (first,)
    assert client_entry(session, firm_id, client_id).last_synced_at is None

    attempt(session, firm_id, client_id, notices, traces, second, at=NOW)
    both = state()
    assert (both.last_success_at, both.last_attempt_at) == (NOW - DAY, NOW)  # the older part
    assert both.success_run_ids == (first, second)
    assert not both.last_failed

    attempt(
        session, firm_id, client_id, notices, itp, second, at=NOW + DAY, code="portal_maintenance"
    )
    failing = state()
    assert (failing.last_failed, failing.error_code) == (True, "portal_maintenance")
    assert failing.last_success_at == NOW - DAY  # both parts did succeed, once
    assert failing.last_attempt_at == NOW + DAY


def test_unknown_modules_in_the_read_model_are_ignored(session: Session) -> None:
    firm_id = add_firm(session)
    run_id = new_run(session, firm_id)
    (client_id,) = add_clients(session, firm_id, 1)
    note_attempt(
        session,
        Attempted(
            firm_id, client_id, "retired_module", "traces", run_id, ItemStatus.SUCCEEDED, None
        ),
        NOW,
    )
    entry = client_entry(session, firm_id, client_id)
    assert entry.modules == {} and entry.last_synced_at is None
    names = page_names(session, firm_id, sort=SortKey.LAST_SYNCED)
    assert names == ["Client 00000"]


def test_entry_fields(session: Session) -> None:
    firm_id = add_firm(session)
    client_id = add(session, firm_id, "Acme", "DELA12345B", "ABCCA1234F", active=False)
    session.get_one(Client, client_id).demo_note = "wrong password (demo)"
    session.flush()
    entry = client_entry(session, firm_id, client_id)
    assert (entry.id, entry.name, entry.tan, entry.pan, entry.active, entry.demo_note) == (
        client_id,
        "Acme",
        "DELA12345B",
        "ABCCA1234F",
        False,
        "wrong password (demo)",
    )
    assert entry.modules == {}


# --- firm scope --------------------------------------------------------------------


def test_another_firms_client_is_not_found(session: Session) -> None:
    mine, theirs = add_firm(session), add_firm(session)
    (their_client,) = add_clients(session, theirs, 1)
    (my_client,) = add_clients(session, mine, 1, start=1)
    with pytest.raises(ClientNotFound) as caught:
        client_entry(session, mine, their_client)
    assert str(caught.value) == f"client {their_client} not found"
    with pytest.raises(ClientNotFound):
        client_entry(session, mine, 999_999)
    assert client_entry(session, mine, my_client).id == my_client
    page = directory_page(session, mine, ALL, NOW)
    assert [e.id for e in page.entries] == [my_client] and page.total == 1


def test_empty_firm(session: Session) -> None:
    firm_id = add_firm(session)
    page = directory_page(session, firm_id, ALL, NOW)
    assert (page.entries, page.total, page.next_offset) == ([], 0, None)
    assert count_matching(session, firm_id, ALL, NOW, active_only=False) == 0


def test_directory_reads_nothing_it_need_not(session: Session) -> None:
    """One page is a fixed number of queries, whatever the number of clients on it."""
    firm_id = add_firm(session)
    add_clients(session, firm_id, 40)
    statements: list[str] = []
    engine = session.get_bind()

    def note(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        directory_page(session, firm_id, ALL, NOW, limit=40)
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    assert (
        len(statements) == 6
    )  # page ids + total, the clients, credentials, logins, parts, modules
